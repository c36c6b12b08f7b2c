// 盘查比中 (a patrol check hit a watch list): the command room is alerted at once. Each check.hit
// from the live stream rings (a WebAudio alarm, no sound files) and shows a banner on top of the
// console: who checked, which unit, where, which list, what the officer was told to do and the
// nearest free units by road ETA, until a dispatcher acknowledges it. See docs/checks.md.

const RING_EVERY_MS = 2200;
const MAX_RING_MS = 90_000;
// A hit replayed after a long disconnection is still shown, but an old one does not ring.
const RING_IF_NEWER_THAN_MS = 10 * 60_000;

const STRINGS = {
  "zh-CN": {
    "checks.hit": "盘查比中",
    "checks.officer": "民警",
    "checks.unit": "警组",
    "checks.place": "地点",
    "checks.subject": "对象",
    "checks.reason": "盘查事由",
    "checks.instruction": "处置要求",
    "checks.backup": "建议增援",
    "checks.no_backup": "附近暂无空闲警力",
    "checks.no_place": "无定位",
    "checks.ack": "确认收到",
    "checks.entry_reason": "布控事由：{reason}",
    "checks.eta": "{unit} 约 {eta}",
    "checks.person": "人员",
    "checks.vehicle": "车辆",
  },
  en: {
    "checks.hit": "Patrol check hit",
    "checks.officer": "Officer",
    "checks.unit": "Unit",
    "checks.place": "Place",
    "checks.subject": "Subject",
    "checks.reason": "Reason for the check",
    "checks.instruction": "What to do",
    "checks.backup": "Suggested backup",
    "checks.no_backup": "No free unit nearby",
    "checks.no_place": "no position",
    "checks.ack": "Acknowledge",
    "checks.entry_reason": "Listed because: {reason}",
    "checks.eta": "{unit} in about {eta}",
    "checks.person": "Person",
    "checks.vehicle": "Vehicle",
  },
};

const STYLE = `
#check-alerts { position: fixed; top: 8px; left: 50%; transform: translateX(-50%); z-index: 3000;
  width: min(720px, 96vw); display: flex; flex-direction: column; gap: 8px; pointer-events: none; }
.check-alert { pointer-events: auto; background: #7f1010; color: #fff; border: 3px solid #ff4d4d;
  border-radius: 8px; padding: 10px 14px; box-shadow: 0 6px 24px rgba(0,0,0,.45); font-size: 15px; }
.check-alert[data-ringing="true"] { animation: check-flash 1.1s step-end infinite; }
@keyframes check-flash { 50% { background: #b31414; } }
.check-alert h2 { margin: 0 0 6px; font-size: 20px; }
.check-alert dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 6px; }
.check-alert dt { opacity: .8; }
.check-alert dd { margin: 0; }
.check-alert .check-instruction { font-size: 18px; font-weight: bold; background: rgba(0,0,0,.25);
  padding: 6px 8px; border-radius: 4px; margin: 4px 0; }
.check-alert button { font-size: 16px; padding: 6px 18px; margin-top: 6px; cursor: pointer; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** The alarm: two tones, repeated while any hit is unacknowledged (for at most 90 s). */
class Alarm {
  constructor() {
    this.ctx = null;
    this.timer = null;
    this.startedAt = 0;
    this.rings = 0;
    // Browsers let a page sound only after a gesture: the first click anywhere unlocks it.
    const unlock = () => this._context();
    document.addEventListener("pointerdown", unlock, { once: true, capture: true });
    document.addEventListener("keydown", unlock, { once: true, capture: true });
  }

  _context() {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx) return null;
    try {
      if (!this.ctx) this.ctx = new AudioCtx();
      if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    } catch {
      this.ctx = null;
    }
    return this.ctx;
  }

  start(keepRinging) {
    if (this.timer) return;
    this.startedAt = Date.now();
    const tick = () => {
      if (!keepRinging() || Date.now() - this.startedAt > MAX_RING_MS) {
        this.stop();
        return;
      }
      this.rings += 1;
      this._tone();
    };
    this.timer = setInterval(tick, RING_EVERY_MS);
    tick();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  _tone() {
    const ctx = this._context();
    if (!ctx) return;
    const at = ctx.currentTime;
    for (const [i, freq] of [988, 740, 988, 740].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.2, at + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + i * 0.25 + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at + i * 0.25);
      osc.stop(at + i * 0.25 + 0.24);
    }
  }
}

export class CheckAlerts {
  /** @param {object} app the console (its i18n, api, state, scopeName) */
  constructor(app) {
    this.app = app;
    app.i18n.extend(STRINGS);
    this.alarm = new Alarm();
    this.open = new Map(); // check_id → {event, element}
    const style = document.createElement("style");
    style.textContent = STYLE;
    document.head.append(style);
    this.box = el("div", { id: "check-alerts", role: "alert", "aria-live": "assertive" });
    document.body.append(this.box);
    app.i18n.addEventListener("change", () => this.render());
  }

  onEvent(event) {
    if (event.type !== "check.hit") return;
    const check = (event.data || {}).check;
    if (!check || this.open.has(check.check_id)) return;
    const entry = { event, address: null, element: null };
    this.open.set(check.check_id, entry);
    const age = Date.now() - Date.parse(event.ts || check.checked_at || "");
    if (!(age > RING_IF_NEWER_THAN_MS)) this.alarm.start(() => this.open.size > 0);
    this.render();
    this._lookUpAddress(check, entry);
  }

  acknowledge(checkId) {
    this.open.delete(checkId);
    if (this.open.size === 0) this.alarm.stop();
    this.render();
  }

  async _lookUpAddress(check, entry) {
    if (!check.position) return;
    try {
      const place = await this.app.api.get(`/api/geocode/reverse?lat=${check.position.lat}&lon=${check.position.lon}`);
      entry.address = place && place.label ? place.label : null;
      this.render();
    } catch {
      // The coordinates and the station stand for the place.
    }
  }

  render() {
    const t = (key, params) => this.app.i18n.t(key, params);
    const lang = this.app.i18n.lang;
    this.box.replaceChildren();
    for (const [checkId, entry] of this.open) {
      const event = entry.event;
      const check = event.data.check;
      const unit = event.data.unit;
      const hits = check.hits || [];
      const lists = hits.map((h) => (h.list_name ? h.list_name[lang] || h.list_name["zh-CN"] : h.list)).join("、");
      const subjects = hits
        .map((h) => [h.subject, h.label].filter(Boolean).join(" "))
        .filter((s, i, all) => all.indexOf(s) === i)
        .join("；");
      const station = check.station_id ? this.app.scopeName(`station:${check.station_id}`) : "";
      const where = check.position
        ? [entry.address, station, `${check.position.lat.toFixed(5)}, ${check.position.lon.toFixed(5)}`]
            .filter(Boolean)
            .join(" · ")
        : t("checks.no_place");
      const instruction = check.instruction ? check.instruction[lang] || check.instruction["zh-CN"] : "";
      const backup = (check.backup || []).length
        ? check.backup.map((b) => t("checks.eta", { unit: b.callsign, eta: this.app.i18n.duration(b.eta_s) })).join("，")
        : t("checks.no_backup");
      const ack = el("button", { type: "button", className: "check-ack" }, t("checks.ack"));
      ack.addEventListener("click", () => this.acknowledge(checkId));
      const reasons = hits.map((h) => t("checks.entry_reason", { reason: h.reason })).join("；");
      entry.element = el(
        "section",
        {
          className: "check-alert",
          "data-check-id": checkId,
          "data-ringing": String(this.alarm.timer !== null),
        },
        el("h2", {}, `⚠ ${t("checks.hit")} · ${lists}`),
        el(
          "dl",
          {},
          el("dt", {}, t("checks.officer")),
          el("dd", { className: "check-officer" }, check.officer || event.actor || ""),
          el("dt", {}, t("checks.unit")),
          el("dd", { className: "check-unit" }, unit ? `${unit.callsign} (${unit.id})` : check.unit_id || "—"),
          el("dt", {}, t("checks.place")),
          el("dd", { className: "check-place" }, where),
          el("dt", {}, `${t("checks.subject")}（${t(`checks.${check.kind}`)}）`),
          el("dd", { className: "check-subject" }, `${subjects}${reasons ? `（${reasons}）` : ""}`),
          el("dt", {}, t("checks.reason")),
          el("dd", {}, check.reason || ""),
          el("dt", {}, t("checks.backup")),
          el("dd", { className: "check-backup" }, backup),
        ),
        el("div", { className: "check-instruction" }, `${t("checks.instruction")}：${instruction}`),
        ack,
      );
      this.box.append(entry.element);
    }
  }
}
