// Thrown objects (高空抛物) on the console: on a thrown-object incident, each detection shown
// prominently in the detail pane — the floor and window column it came from with the
// uncertainty, the confidence, the snapshot with the track drawn on it (an attachment) and the
// evidence clip ("being cut…" until clip.attached) — and a throw.detected event raised as an
// alert that names the camera, floor and window and focuses the incident.
//
// The words and the one-line description are exported for the station desk's security tab too,
// so this module imports nothing of the console's.

export const THROW_TYPE = "order.thrown_object";

export const THROW_STRINGS = {
  "zh-CN": {
    "throw.title": "高空抛物检测",
    "throw.kind": "高空抛物",
    "throw.floor": "{floor}层",
    "throw.floor_unknown": "楼层未定",
    "throw.column": "第{column}列窗",
    "throw.column_unknown": "窗户列未定",
    "throw.uncertainty": "（±{n}层）",
    "throw.confidence": "置信度 {p}%",
    "throw.detected_at": "检测于 {time}",
    "throw.landed_at": "落地 {time}",
    "throw.camera": "摄像机 {name}",
    "throw.snapshot": "抓拍（含轨迹）",
    "throw.snapshot_loading": "抓拍加载中…",
    "throw.snapshot_none": "无抓拍",
    "throw.snapshot_denied": "无权查看证据附件",
    "throw.clip": "证据录像",
    "throw.clip_cutting": "录像截取中…",
    "throw.clip_play": "播放",
    "throw.clip_hide": "收起",
    "throw.clip_download": "下载录像",
    "throw.none": "暂无检测记录",
    "throw.alert": "高空抛物！{camera}{community} · {where}",
    "throw.alert_community": "（{community}）",
    "throw.alert_show": "查看",
    "throw.alert_dismiss": "关闭",
    "throw.incident": "警情 {id}",
    "ev.throw.detected": "检测到高空抛物：{where}",
  },
  en: {
    "throw.title": "Thrown-object detections",
    "throw.kind": "Thrown object",
    "throw.floor": "floor {floor}",
    "throw.floor_unknown": "floor unknown",
    "throw.column": "window column {column}",
    "throw.column_unknown": "window column unknown",
    "throw.uncertainty": " (±{n} floors)",
    "throw.confidence": "confidence {p}%",
    "throw.detected_at": "detected {time}",
    "throw.landed_at": "landed {time}",
    "throw.camera": "camera {name}",
    "throw.snapshot": "Snapshot with the track",
    "throw.snapshot_loading": "Loading the snapshot…",
    "throw.snapshot_none": "No snapshot",
    "throw.snapshot_denied": "Your role may not view evidence attachments",
    "throw.clip": "Evidence clip",
    "throw.clip_cutting": "Clip being cut…",
    "throw.clip_play": "Play",
    "throw.clip_hide": "Hide",
    "throw.clip_download": "Download clip",
    "throw.none": "No detections",
    "throw.alert": "Thrown object! {camera}{community} · {where}",
    "throw.alert_community": " ({community})",
    "throw.alert_show": "Show",
    "throw.alert_dismiss": "Dismiss",
    "throw.incident": "incident {id}",
    "ev.throw.detected": "Thrown object detected: {where}",
  },
};

const MAX_ALERTS = 3;
// The clip is cut a few seconds after the landing. clip.attached names no camera or station, so
// the live stream gives it to the city's viewers only: the others re-read the detections until
// the clip is there.
const CLIP_POLL_MS = 4000;
const CLIP_WAIT_MS = 120_000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined && child !== "") node.append(child);
  return node;
}

/** "12层 · 第3列窗" / "floor 12 · window column 3". */
export function throwWhere(i18n, item) {
  const floor = item.floor != null ? i18n.t("throw.floor", { floor: item.floor }) : i18n.t("throw.floor_unknown");
  const column = item.column != null ? i18n.t("throw.column", { column: item.column }) : i18n.t("throw.column_unknown");
  return `${floor} · ${column}`;
}

/** "高空抛物 · 12层 · 第3列窗（±0.4层）" / "Thrown object · floor 12 · window column 3 (±0.4 floors)". */
export function throwHeadline(i18n, item) {
  const unc = Number(item.floor_uncertainty);
  const plus = item.floor != null && Number.isFinite(unc) ? i18n.t("throw.uncertainty", { n: unc.toFixed(1) }) : "";
  return `${i18n.t("throw.kind")} · ${throwWhere(i18n, item)}${plus}`;
}

export function throwConfidence(i18n, item) {
  const p = Number(item.confidence);
  return Number.isFinite(p) ? i18n.t("throw.confidence", { p: Math.round(p <= 1 ? p * 100 : p) }) : "";
}

/** The list of throws from GET /api/incidents/{id}/throws or /api/throws (a list, or {throws}/{items}). */
export function throwItems(found) {
  if (Array.isArray(found)) return found;
  return (found && (found.throws || found.items)) || [];
}

/** A protected file (attachment, clip) as an object URL: it needs the bearer token, so it is fetched. */
export async function blobUrl(api, path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${api.token}` }, cache: "no-store" });
  if (!response.ok) throw Object.assign(new Error(response.statusText), { status: response.status, code: `http_${response.status}` });
  return URL.createObjectURL(await response.blob());
}

/** The detections of the selected incident, in the detail pane. */
export class ThrowPanel {
  /** @param anchor the element the block follows in the detail pane */
  constructor(app, anchor) {
    this.app = app;
    this.incidentId = null;
    this.items = [];
    this.request = 0;
    this.snapshots = new Map(); // attachment id → object URL, or "denied" / "none"
    this.clipUrls = new Map(); // clip id → object URL
    this.playing = new Set();
    this.title = el("h3", {});
    this.list = el("ol", { class: "list throw-list", "data-testid": "throw-list" });
    this.block = el("section", { class: "block throw-block", id: "throw-block", "data-testid": "throw-block", hidden: true }, this.title, this.list);
    anchor.after(this.block);
    this.list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (!button) return;
      const id = button.closest("[data-throw-id]").dataset.clipId;
      if (button.dataset.action === "throw-clip-play") this.toggle(id);
      if (button.dataset.action === "throw-clip-download") this.download(id, button.closest("[data-throw-id]").dataset.throwId);
    });
    app.i18n.addEventListener("change", () => this.render());
    if (!document.querySelector('link[href="/static/console/throws.css"]')) {
      document.head.append(el("link", { rel: "stylesheet", href: "/static/console/throws.css" }));
    }
  }

  /** Show the detections of an incident (null: none selected). */
  open(incidentId) {
    this._forget();
    this.incidentId = incidentId;
    this.items = [];
    this.request += 1;
    const incident = incidentId ? this.app.detail.shown : null;
    const thrown = incident && incident.type_code === THROW_TYPE;
    this.block.hidden = !thrown;
    this.render();
    if (thrown) this.load();
  }

  async load() {
    const id = this.incidentId;
    if (!id) return;
    const request = ++this.request;
    try {
      const found = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/throws`);
      if (request !== this.request || id !== this.incidentId) return;
      // What came by event and is not in the answer yet stays.
      const loaded = throwItems(found);
      const known = new Map(this.items.map((t) => [t.id, t]));
      this.items = loaded.map((t) => ({ ...(known.get(t.id) || {}), ...t, clip_id: t.clip_id || (known.get(t.id) || {}).clip_id || null }));
      for (const t of known.values()) if (!this.items.some((x) => x.id === t.id)) this.items.push(t);
    } catch (exc) {
      if (request !== this.request) return;
      // Offline: the connection banner says so; the next poll or event tries again.
      if (exc.status && exc.status !== 404) this.app.toast(this.app.i18n.error(exc), true);
    }
    this.block.hidden = !this.items.length && !this._thrownType();
    this.render();
    this._waitForClips();
  }

  /** Re-read the detections while a recent one has no clip yet (see CLIP_POLL_MS). */
  _waitForClips() {
    clearTimeout(this.clipTimer);
    const waiting = this.items.some((t) => !t.clip_id && Date.now() - Date.parse(t.landed_at || t.detected_at) < CLIP_WAIT_MS);
    if (waiting) this.clipTimer = setTimeout(() => this.load(), CLIP_POLL_MS);
  }

  _thrownType() {
    const incident = this.app.detail.shown;
    return Boolean(incident && incident.type_code === THROW_TYPE);
  }

  /** A live event: a new detection on this incident, or its clip attached. */
  onEvent(event) {
    if (!this.incidentId) return;
    const data = event.data || {};
    if (event.type === "throw.detected" && data.throw && data.throw.incident_id === this.incidentId) {
      this.upsert(data.throw);
      return;
    }
    if (event.type === "clip.attached" && event.incident_id === this.incidentId) {
      const clip = data.clip || {};
      let changed = false;
      for (const item of this.items) {
        if (!item.clip_id && clip.id && clip.camera_id === item.camera_id) {
          item.clip_id = clip.id;
          changed = true;
        }
      }
      if (changed) this.render();
      this.load(); // the server says which detection the clip belongs to
    }
  }

  upsert(item) {
    const i = this.items.findIndex((t) => t.id === item.id);
    if (i >= 0) this.items[i] = { ...this.items[i], ...item, clip_id: item.clip_id || this.items[i].clip_id || null };
    else this.items.push(item);
    this.block.hidden = false;
    this.render();
    this._waitForClips();
  }

  render() {
    const { i18n } = this.app;
    this.title.textContent = i18n.t("throw.title");
    const items = [...this.items].sort((a, b) => String(b.detected_at).localeCompare(String(a.detected_at)));
    const rows = items.map((item) => this._row(item));
    if (!rows.length) rows.push(el("li", { class: "muted" }, el("small", {}, i18n.t("throw.none"))));
    this.list.replaceChildren(...rows);
  }

  _row(item) {
    const { i18n } = this.app;
    const meta = [
      item.camera_name ? i18n.t("throw.camera", { name: item.camera_name }) : item.camera_id,
      item.community,
      item.detected_at ? i18n.t("throw.detected_at", { time: i18n.time(item.detected_at) }) : null,
      item.landed_at ? i18n.t("throw.landed_at", { time: i18n.time(item.landed_at) }) : null,
    ].filter(Boolean).join(" · ");
    const li = el("li", {
      class: "throw-item",
      "data-testid": "throw-item",
      "data-throw-id": item.id,
      "data-floor": item.floor ?? "",
      "data-column": item.column ?? "",
      "data-clip-id": item.clip_id || "",
    },
      el("div", { class: "throw-headline", "data-testid": "throw-headline" }, throwHeadline(i18n, item)),
      el("div", { class: "throw-meta" },
        el("b", { class: "throw-confidence", "data-testid": "throw-confidence" }, throwConfidence(i18n, item)),
        el("small", {}, ` · ${meta}`)),
      this._snapshot(item),
      this._clip(item));
    return li;
  }

  _snapshot(item) {
    const { i18n } = this.app;
    const id = item.snapshot_attachment_id;
    const figure = el("figure", { class: "throw-snapshot" });
    if (!id) {
      figure.append(el("small", { class: "muted" }, i18n.t("throw.snapshot_none")));
      return figure;
    }
    const known = this.snapshots.get(id);
    if (known === "denied") {
      figure.append(el("small", { class: "muted", "data-testid": "throw-snapshot-denied" }, i18n.t("throw.snapshot_denied")));
    } else if (known && known !== "loading") {
      const img = el("img", { src: known, alt: i18n.t("throw.snapshot"), title: i18n.t("throw.snapshot"), "data-testid": "throw-snapshot" });
      figure.append(el("a", { href: known, target: "_blank" }, img));
    } else {
      figure.append(el("small", { class: "muted" }, i18n.t("throw.snapshot_loading")));
      if (!known) this._loadSnapshot(id);
    }
    return figure;
  }

  async _loadSnapshot(id) {
    const incidentId = this.incidentId;
    this.snapshots.set(id, "loading");
    try {
      const url = await blobUrl(this.app.api, `/api/attachments/${encodeURIComponent(id)}`);
      if (incidentId !== this.incidentId) {
        URL.revokeObjectURL(url);
        return;
      }
      this.snapshots.set(id, url);
    } catch (exc) {
      if (incidentId !== this.incidentId) return;
      this.snapshots.set(id, exc.status === 403 ? "denied" : "none");
    }
    this.render();
  }

  _clip(item) {
    const { i18n } = this.app;
    const box = el("div", { class: "throw-clip", "data-testid": "throw-clip", "data-state": item.clip_id ? "ready" : "cutting" },
      el("span", { class: "throw-clip-title" }, i18n.t("throw.clip")), " ");
    if (!item.clip_id) {
      box.append(el("small", { class: "muted" }, i18n.t("throw.clip_cutting")));
      return box;
    }
    const open = this.playing.has(item.clip_id);
    box.append(
      el("button", { type: "button", "data-action": "throw-clip-play", textContent: i18n.t(open ? "throw.clip_hide" : "throw.clip_play") }),
      " ",
      el("button", { type: "button", "data-action": "throw-clip-download", "data-testid": "throw-clip-download", textContent: i18n.t("throw.clip_download") }),
    );
    if (open && this.clipUrls.has(item.clip_id)) {
      box.append(el("video", { class: "clip-video", controls: true, src: this.clipUrls.get(item.clip_id), preload: "metadata", "data-testid": "throw-clip-video" }));
    }
    return box;
  }

  async _clipUrl(clipId) {
    if (!this.clipUrls.has(clipId)) this.clipUrls.set(clipId, await blobUrl(this.app.api, `/api/clips/${encodeURIComponent(clipId)}`));
    return this.clipUrls.get(clipId);
  }

  async toggle(clipId) {
    if (!clipId) return;
    if (this.playing.has(clipId)) {
      this.playing.delete(clipId);
      this.render();
      return;
    }
    try {
      await this._clipUrl(clipId);
    } catch (exc) {
      this.app.toast(this.app.i18n.error(exc), true);
      return;
    }
    this.playing.add(clipId);
    this.render();
  }

  async download(clipId, throwId) {
    if (!clipId) return;
    try {
      const url = await this._clipUrl(clipId);
      const link = el("a", { href: url, download: `${this.incidentId}-${throwId}-${clipId}.mp4` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (exc) {
      this.app.toast(this.app.i18n.error(exc), true);
    }
  }

  /** A throw.detected event as a line of the timeline. */
  describe(event) {
    const item = (event.data || {}).throw || {};
    return this.app.i18n.t("ev.throw.detected", { where: throwWhere(this.app.i18n, item) });
  }

  _forget() {
    clearTimeout(this.clipTimer);
    for (const url of this.snapshots.values()) if (url.startsWith && url.startsWith("blob:")) URL.revokeObjectURL(url);
    for (const url of this.clipUrls.values()) URL.revokeObjectURL(url);
    this.snapshots.clear();
    this.clipUrls.clear();
    this.playing.clear();
  }
}

/** throw.detected raised as an alert that stays until seen: the camera, floor and window, and a
 * button to the incident. With no incident open (or this one), the incident is opened at once. */
export class ThrowAlerts {
  constructor(app) {
    this.app = app;
    this.box = el("div", { class: "throw-alerts", id: "throw-alerts", "aria-live": "assertive" });
    this.items = new WeakMap(); // alert → its detection, to say it again in another language
    document.body.append(this.box);
    app.i18n.addEventListener("change", () => {
      for (const alert of [...this.box.children]) alert.replaceWith(this._alert(this.items.get(alert)));
    });
    this.box.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (!button) return;
      const alert = button.closest("[data-incident-id]");
      if (button.dataset.action === "throw-alert-show") this.focus(alert.dataset.incidentId);
      alert.remove();
    });
  }

  async onEvent(event) {
    const item = (event.data || {}).throw;
    if (!item) return;
    const incidentId = item.incident_id || event.incident_id;
    // One alert per incident, the latest: another throw noted on an open call replaces its alert
    // and does not take the dispatcher's eye again (a repeat is a note, not a new call).
    for (const alert of [...this.box.children]) if (incidentId && alert.dataset.incidentId === incidentId) alert.remove();
    this.box.prepend(this._alert({ ...item, incident_id: incidentId }));
    while (this.box.children.length > MAX_ALERTS) this.box.lastElementChild.remove();
    const repeat = Boolean((event.data || {}).repeat);
    if (incidentId && !repeat && (!this.app.selectedId || this.app.selectedId === incidentId)) await this.focus(incidentId);
  }

  _alert(item) {
    const { i18n } = this.app;
    const incidentId = item.incident_id;
    const community = item.community ? i18n.t("throw.alert_community", { community: item.community }) : "";
    const text = i18n.t("throw.alert", { camera: item.camera_name || item.camera_id || "", community, where: throwWhere(i18n, item) });
    const alert = el("div", { class: "throw-alert", role: "alert", "data-testid": "throw-alert", "data-incident-id": incidentId || "", "data-throw-id": item.id || "" },
      el("span", { class: "grow" }, el("b", {}, text),
        incidentId ? el("small", {}, ` · ${i18n.t("throw.incident", { id: incidentId })}`) : ""),
      incidentId ? el("button", { type: "button", class: "primary", "data-action": "throw-alert-show", textContent: i18n.t("throw.alert_show") }) : "",
      el("button", { type: "button", "data-action": "throw-alert-dismiss", title: i18n.t("throw.alert_dismiss"), textContent: "×" }));
    this.items.set(alert, item);
    return alert;
  }

  /** Open the incident (fetched first when the live state does not hold it yet). */
  async focus(incidentId) {
    const app = this.app;
    if (!app.state.incidents.has(incidentId) && !app.state.closed.has(incidentId)) {
      try {
        app.state.applyIncident(await app.api.get(`/api/incidents/${encodeURIComponent(incidentId)}`));
        app.changed();
      } catch {
        // Out of reach or gone: the alert said what there was to say.
        return;
      }
    }
    if (app.selectedId === incidentId) app.detail.throws.load();
    else app.select(incidentId);
  }
}
