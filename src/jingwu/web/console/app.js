// The command-room console: log-in, then one live picture of the city — the map, the queue, the
// selected incident — kept current from the event stream alone (no reloads, no polling).

import { Api } from "/static/shared/api.js";
import { markDemo } from "/static/shared/demo.js";
import { I18n } from "/static/shared/i18n.js";
import { LiveStream } from "/static/shared/live.js";
import { CameraDesk } from "./cameras.js";
import { CAMERA_STRINGS } from "./camera-strings.js";
import { CheckAlerts } from "./checks.js";
import { IncidentDetail } from "./detail.js";
import { IncidentForm } from "./form.js";
import { SituationMap, STATUS_COLOURS, PRIORITY_COLOURS } from "./map.js";
import { IncidentQueue } from "./queue.js";
import { RecordEditor } from "./record.js";
import { SearchPage } from "./search.js";
import { THROW_STRINGS, ThrowAlerts } from "./throws.js";
import { ConsoleState } from "./state.js";
import { STRINGS } from "./strings.js";

const $ = (id) => document.getElementById(id);
const STATS_DELAY_MS = 1500; // figures are re-read from the server this long after things change

class Console {
  constructor() {
    this.i18n = new I18n(STRINGS);
    this.i18n.extend(CAMERA_STRINGS);
    this.i18n.extend(THROW_STRINGS);
    this.api = new Api("jingwu.console.session");
    this.state = new ConsoleState();
    this.selectedId = null;
    this.started = false;
    this.statsTimer = 0;
    this.stats = null;
    this.perf = null;
    let resolveReady;
    this.ready = new Promise((resolve) => (resolveReady = resolve));
    this._resolveReady = resolveReady;
    this.i18n.apply(document);
    document.title = this.i18n.t("app.tab");
    this.i18n.addEventListener("change", () => {
      document.title = this.i18n.t("app.tab");
      this.changed(true);
    });
    for (const button of document.querySelectorAll(".lang-toggle")) {
      button.addEventListener("click", () => this.toggleLanguage());
    }
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.login();
    });
    this.api.addEventListener("unauthenticated", () => this.showLogin());
  }

  async boot() {
    if (!this.api.token) return this.showLogin();
    try {
      const me = await this.api.get("/api/auth/me");
      const refusal = this.consoleRefusal(me);
      if (refusal) throw new Error(this.i18n.t(refusal));
      await this.start(me);
    } catch (exc) {
      this.showLogin(exc.offline ? this.i18n.error(exc) : null);
    }
  }

  /** Why this account does not use the console (an i18n key), or null: officers have the
   * terminal; residents and devices have no situation picture at all. */
  consoleRefusal(me) {
    if (me.role === "officer") return "login.officer";
    const granted = new Set(me.permissions || []);
    return granted.has("incident.read") && granted.has("live.read") ? null : "login.no_console";
  }

  /** Whether the logged-in role holds a permission (GET /api/auth/me); the server checks again. */
  can(permission) {
    return this.permissions ? this.permissions.has(permission) : false;
  }

  showLogin(message = null) {
    document.body.classList.add("logged-out");
    if (this.live) this.live.stop();
    const error = $("login-error");
    error.hidden = !message;
    error.textContent = message || "";
    $("username").focus();
  }

  async login() {
    const error = $("login-error");
    error.hidden = true;
    try {
      const code = $("totp-row").hidden ? null : $("totp").value.trim() || null;
      const session = await this.api.login($("username").value.trim(), $("password").value, code);
      const me = await this.api.get("/api/auth/me");
      const refusal = this.consoleRefusal(me);
      if (refusal) {
        this.api.forget();
        throw new Error(this.i18n.t(refusal));
      }
      $("password").value = "";
      $("totp").value = "";
      $("totp-row").hidden = true;
      await this.start(me);
      const told = this.i18n.failedLogins(session);
      if (told) this.toast(told, true);
    } catch (exc) {
      error.hidden = false;
      error.textContent = exc.code ? this.i18n.error(exc) : exc.message;
      // The password was right and a second factor is needed: ask for it in the same form.
      if (exc.code === "totp_required" || exc.code === "bad_totp") {
        $("totp-row").hidden = false;
        $("totp").value = "";
        $("totp").focus();
      }
    }
  }

  async logout() {
    if (this.live) this.live.stop();
    await this.api.logout();
    location.reload();
  }

  async start(me) {
    document.body.classList.remove("logged-out");
    this.me = me;
    this.permissions = new Set(me.permissions || []);
    // What the role may not do is not offered at all (the server refuses it anyway).
    for (const node of document.querySelectorAll("[data-needs]")) node.hidden = !this.can(node.dataset.needs);
    $("whoami").textContent = `${me.username}`;
    if (this.started) {
      this.live.start(null);
      return;
    }
    this.started = true;
    this.map = new SituationMap($("map"), {
      onSelectIncident: (id) => this.select(id),
      onSelectUnit: (id) => this.showUnit(id),
      onPick: (lat, lon) => this.form.pick(lat, lon),
    });
    this.perf = this.map.perf;
    this.queue = new IncidentQueue(this);
    this.record = new RecordEditor(this);
    this.detail = new IncidentDetail(this);
    this.search = new SearchPage(this);
    this.form = new IncidentForm(this);
    this.cameras = new CameraDesk(this);
    this._wireControls();
    const [types, stations, config] = await Promise.all([
      this.api.get("/api/incident-types"),
      this.api.get("/api/stations"),
      this.api.get("/api/map/config"),
    ]);
    for (const type of types) this.state.types.set(type.code, type);
    this.state.stations = stations;
    $("whoami").textContent = `${me.username} · ${this.scopeName(me.jurisdiction)}`;
    await this.map.load(this.api, config, stations);
    this.map.setSources(() => this.state.units.values(), () => this.state.incidents.values());
    this._legend();
    this.cameras.relabel();
    this.live = new LiveStream(this.api, {
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onConnection(status),
      onResync: (why) => this.resync(why),
      onUnauthenticated: () => this.showLogin(),
    });
    this.live.start(null);
    setInterval(() => this.tick(), 1000);
    this.tick();
  }

  /** A jurisdiction as people say it: 全市, a district, a station's name. */
  scopeName(jurisdiction) {
    const [level, name] = String(jurisdiction || "city").split(/:(.*)/s);
    if (level === "station") {
      const station = this.state.stations.find((s) => s.id === name);
      return station ? station.name : name;
    }
    return level === "district" ? name : this.i18n.t(`scope.${level}`);
  }

  /** Load what the stream cannot replay (or everything, when our place in the log is unknown). */
  async resync(why) {
    const loads = [this.api.get("/api/units")];
    if (why === "reset") loads.push(this.api.get("/api/incidents?open=true&limit=5000"));
    const [units, incidents] = await Promise.all(loads);
    this.state.units.clear();
    for (const unit of units) this.state.applyUnit(unit);
    if (incidents) {
      this.state.incidents.clear();
      for (const incident of incidents) this.state.applyIncident(incident);
    }
    this.changed();
    this.refreshStats();
    if (this.selectedId) {
      this.detail.loadTimeline();
      this.detail.loadRecommendations();
    }
    this.cameras.resync();
    this._resolveReady();
  }

  onEvent(event) {
    if (event.type === "unit.positions") {
      this.state.applyPositions(event.positions || []);
      this.map.invalidate();
      return;
    }
    const data = event.data || {};
    if (data.incident) this.state.applyIncident(data.incident);
    if (data.unit) this.state.applyUnit(data.unit);
    if (event.type === "unit.dispatched" && event.incident_id) {
      this.state.noteDispatch(event.incident_id, event.ts, data.eta_s);
    }
    if (event.type === "dispatch.ack_overdue") {
      this.toast(this.i18n.t("toast.overdue", { unit: data.unit ? data.unit.callsign : event.unit_id, incident: event.incident_id }), true);
    }
    if (event.type === "incident.backup_requested") {
      this.toast(this.i18n.t("toast.backup_requested", { who: event.actor || "", incident: event.incident_id }), true);
    }
    if (event.type === "device.offline" && data.alert && data.device) {
      // An alarm column gone silent: someone in trouble there cannot call (docs/devices.md).
      this.toast(this.i18n.t("toast.device_offline", { device: data.device.id, community: data.device.community }), true);
    }
    if (event.type === "check.hit") (this.checkAlerts ||= new CheckAlerts(this)).onEvent(event);
    if (event.type === "throw.detected") (this.throwAlerts ||= new ThrowAlerts(this)).onEvent(event);
    this.changed();
    this.detail.onEvent(event);
    this.cameras.onEvent(event);
    this.refreshStatsSoon();
  }

  onConnection(status) {
    const pill = $("conn-status");
    pill.dataset.status = status;
    pill.textContent = this.i18n.t(`conn.${status}`);
    // "connecting" on the very first attempt is not an outage; anything else after that is.
    $("offline-banner").hidden = status === "live" || status === "connecting";
  }

  /** Something in the state changed: redraw the map, the queue, the figures, the detail. */
  changed(language = false) {
    if (!this.started) return;
    this.map.invalidate();
    this.queue.invalidate();
    this.renderFigures();
    this.cameras.incidentsChanged();
    if (language) {
      this.onConnection(this.live ? this.live.status : "connecting");
      this._legend();
      this.search.relabel();
      this.cameras.relabel();
      if (this.selectedId) {
        this.detail.invalidate();
        this.detail.renderTimeline();
      }
    }
  }

  tick() {
    $("clock").textContent = this.i18n.time(new Date().toISOString());
    if (!this.started) return;
    this.queue.tick();
    this.detail.tick();
  }

  select(incidentId) {
    if (incidentId === this.selectedId) return;
    this.selectedId = incidentId;
    this.queue.invalidate();
    this.map.setSelected(incidentId);
    this.detail.open(incidentId);
    this.cameras.open(incidentId);
    if (incidentId) {
      const row = document.querySelector(`#queue li[data-id="${CSS.escape(incidentId)}"]`);
      if (row) row.scrollIntoView({ block: "nearest" });
    }
  }

  showUnit(unitId) {
    const unit = this.state.units.get(unitId);
    if (!unit) return;
    if (unit.incident_id && this.state.incidents.has(unit.incident_id)) {
      this.select(unit.incident_id);
      return;
    }
    const said = `${unit.callsign} · ${this.i18n.t(`kind.${unit.kind}`)} · ${this.i18n.t(`unit.${unit.status}`)}`;
    this.toast(said);
    // Who rides it on this shift (the roster): asked when a unit is shown, not kept live.
    this.api
      .get("/api/crews")
      .then((crews) => {
        const crew = crews.find((c) => c.unit_id === unitId);
        if (crew && crew.officers.length) {
          this.toast(`${said} · ${crew.officers.map((p) => `${p.name}（${p.police_number}）`).join("、")}`);
        }
      })
      .catch(() => {});
  }

  // ------------------------------------------------------------ figures (big screen too)

  /** At most one read per STATS_DELAY_MS however busy the stream (a throttle, not a debounce:
   * under steady traffic a debounce would never fire). */
  refreshStatsSoon() {
    if (this.statsTimer) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = 0;
      this.refreshStats();
    }, STATS_DELAY_MS);
  }

  async refreshStats() {
    if (!this.can("stats.read")) return;
    try {
      this.stats = await this.api.get("/api/stats/today");
      if (this.stats.timezone && this.i18n.timeZone !== this.stats.timezone) {
        this.i18n.setTimeZone(this.stats.timezone); // the bureau's clock, wherever the browser is
      }
    } catch {
      return; // the figures stay as they were; the connection banner tells the story
    }
    this.renderFigures();
  }

  renderFigures() {
    const counts = this.state.counts();
    const stats = this.stats || {};
    const set = (name, value, bad = false) => {
      const box = document.querySelector(`#figures [data-figure="${name}"]`);
      box.querySelector("b").textContent = value;
      box.classList.toggle("bad", bad);
    };
    const seconds = (s) => (s === null || s === undefined ? "–" : this.i18n.clock(s));
    set("open_incidents", String(counts.open));
    set("pending_incidents", String(counts.pending), counts.pending > 0);
    set("units_available", `${counts.available}/${counts.units}`, counts.available === 0);
    set("median_call_to_dispatch_s", seconds(stats.median_call_to_dispatch_s));
    set("median_dispatch_to_arrival_s", seconds(stats.median_dispatch_to_arrival_s));
    const share = stats.arrivals_today ? Math.round((100 * stats.arrivals_within_target) / stats.arrivals_today) : null;
    set("arrivals_within_target", share === null ? "–" : `${share}%`, share !== null && share < 80);
    // Arrivals reported far from the scene (or without a position) are in neither figure: say so.
    const box = document.querySelector('#figures [data-figure="arrivals_within_target"]');
    const flagged = stats.arrivals_flagged || 0;
    let note = box.querySelector("small[data-flagged]");
    if (flagged && !note) {
      note = document.createElement("small");
      note.dataset.flagged = "";
      box.append(note);
    }
    if (note) {
      note.hidden = !flagged;
      note.textContent = flagged ? this.i18n.t("fig.flagged", { n: flagged }) : "";
    }
  }

  // ------------------------------------------------------------ controls

  _wireControls() {
    $("new-incident-btn").addEventListener("click", () => this.form.open());
    $("bigscreen-toggle").addEventListener("click", () => this.toggleBigScreen());
    $("search-btn").addEventListener("click", () => this.search.open());
    $("help-btn").addEventListener("click", () => $("help-dialog").showModal());
    $("logout-btn").addEventListener("click", () => this.logout());
    document.addEventListener("keydown", (e) => this.onKey(e));
  }

  onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest("input, textarea, select");
    if (e.key === "Escape") {
      if ($("help-dialog").open || this.search.isOpen) return; // the dialog closes itself; the incident stays open
      if (this.form.isOpen) this.form.close();
      else if (document.body.classList.contains("bigscreen")) this.toggleBigScreen();
      else this.select(null);
      return;
    }
    if (typing || this.form.isOpen || $("help-dialog").open || this.search.isOpen) return;
    const actions = {
      n: () => this.can("incident.create") && this.form.open(),
      d: () => this.can("incident.command") && this.detail.dispatchTop(),
      b: () => this.can("incident.backup") && this.detail.backup(),
      f: () => this.toggleBigScreen(),
      v: () => this.cameras.toggleWall(),
      s: () => this.can("incident.read") && this.search.open(),
      l: () => this.toggleLanguage(),
      j: () => this.select(this.queue.neighbour(1)),
      k: () => this.select(this.queue.neighbour(-1)),
      "/": () => $("queue-filter").focus(),
      "?": () => $("help-dialog").showModal(),
    };
    const action = actions[e.key.toLowerCase()] || actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  toggleBigScreen() {
    const on = document.body.classList.toggle("bigscreen");
    if (on && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {}); // refused without a user gesture
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    }
    this.cameras.setBigScreen(on);
    setTimeout(() => this.map.map.invalidateSize(), 50);
  }

  toggleLanguage() {
    this.i18n.setLang(this.i18n.lang === "zh-CN" ? "en" : "zh-CN");
  }

  _legend() {
    const t = (k) => this.i18n.t(k);
    const item = (colour, text, diamond = false) =>
      `<div><i style="background:${colour};${diamond ? "border-radius:0;transform:rotate(45deg)" : ""}"></i>${text}</div>`;
    $("legend").innerHTML = [
      item(PRIORITY_COLOURS[1], t("legend.pending"), true),
      item(STATUS_COLOURS.available, t("legend.available")),
      item(STATUS_COLOURS.dispatched, t("legend.dispatched")),
      item(STATUS_COLOURS.en_route, t("legend.en_route")),
      item(STATUS_COLOURS.on_scene, t("legend.on_scene")),
      item(STATUS_COLOURS.busy, t("legend.conditional")),
      item(STATUS_COLOURS.out_of_service, t("legend.unavailable")),
    ].join("");
  }

  // ------------------------------------------------------------ helpers

  typeName(code) {
    const type = this.state.types.get(code);
    if (!type) return code;
    return this.i18n.lang === "en" ? type.name_en : type.name_zh;
  }

  toast(text, bad = false) {
    const box = $("toast");
    box.textContent = text;
    box.classList.toggle("bad", bad);
    box.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (box.hidden = true), 4000);
  }
}

const app = new Console();
markDemo();
// For tests and for a curious operator's devtools: the live state and the map's draw timings.
window.jingwuConsole = app;
app.boot();
