// The selected incident: what it is, its clocks, the units recommended by road travel time with
// one-click dispatch (一键指令), the units on it, backup, close, notes, photos and the timeline.

import { newKey } from "/static/shared/api.js";
import { distanceM } from "/static/shared/geo.js";
import { arrivalRisk, OPEN } from "./state.js";
import { STATUS_COLOURS } from "./map.js";
import { WhyNot } from "./whynot.js";
import { DisputesBeside } from "./disputes.js";
import { ThrowPanel } from "./throws.js";

const DISPATCHABLE = new Set(["pending", "dispatched", "acknowledged", "en_route", "on_scene"]);
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

export class IncidentDetail {
  constructor(app) {
    this.app = app;
    this.pane = $("detail");
    this.incidentId = null;
    this.recommendations = [];
    this.timeline = [];
    this.photoUrls = [];
    this.recsRequest = 0;
    this.recsTimer = 0;
    $("dispatch-top").addEventListener("click", () => this.dispatchTop());
    $("recommendations").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action=dispatch]");
      if (button) this.dispatch([button.closest("li").dataset.unit]);
    });
    $("duplicates").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action=merge]");
      if (button) this.merge(button.closest("li").dataset.id);
    });
    this.whyNot = new WhyNot(app, $("why-not"));
    this.disputes = new DisputesBeside(app, $("detail-timers"));
    this.throws = new ThrowPanel(app, $("detail-timers")); // 高空抛物: right under the clocks
    $("backup-btn").addEventListener("click", () => this.backup());
    $("reporter-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.showReporter(false);
    });
    $("reporter-full").addEventListener("click", () => this.showReporter(true));
    $("close-btn").addEventListener("click", () => this.close());
    $("note-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.addNote();
    });
    this.pane.querySelector("[data-action=close-detail]").addEventListener("click", () => this.app.select(null));
  }

  /** The open incident shown, or null once it is closed or merged (see `shown`). */
  get incident() {
    return this.incidentId ? this.app.state.incidents.get(this.incidentId) : null;
  }

  /** What to show: the open incident, or its last snapshot when it has been closed or merged. */
  get shown() {
    return this.incident || (this.incidentId ? this.app.state.closed.get(this.incidentId) : null) || null;
  }

  /** Show an incident (or hide the pane with null). */
  async open(incidentId) {
    this.incidentId = incidentId;
    this.recommendations = [];
    this.timeline = [];
    this._error(null);
    this.pane.hidden = !incidentId;
    this.pane.dataset.id = incidentId || "";
    this.app.map.showRoutes([]);
    this.routesKey = null;
    this._clearPhotos();
    this.disputes.load(incidentId);
    if (!incidentId) {
      this.throws.open(null);
      this.app.map.map.invalidateSize();
      return;
    }
    $("disposition").value = "";
    $("note-text").value = "";
    this._hideReporter();
    this.render();
    this.throws.open(incidentId);
    this.app.map.map.invalidateSize();
    const incident = this.incident;
    if (incident) this.app.map.focus(incident.location.lat, incident.location.lon, 14);
    await Promise.all([this.loadTimeline(), this.loadRecommendations(), this.loadDuplicates(), this.loadPhotos()]);
  }

  async loadTimeline() {
    const id = this.incidentId;
    try {
      const events = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/timeline`);
      if (id !== this.incidentId) return;
      this.timeline = events;
      this.renderTimeline();
      this.render();
    } catch (exc) {
      this._error(exc);
    }
  }

  async loadRecommendations() {
    const incident = this.incident;
    const request = ++this.recsRequest;
    if (!incident || !DISPATCHABLE.has(incident.status) || !this.app.can("incident.command")) {
      this.recommendations = [];
      this.renderRecommendations();
      return;
    }
    try {
      const recs = await this.app.api.get(`/api/incidents/${encodeURIComponent(incident.id)}/recommendations`);
      if (request !== this.recsRequest || incident.id !== this.incidentId) return;
      this.recommendations = recs;
    } catch (exc) {
      if (request !== this.recsRequest) return;
      this.recommendations = [];
      if (exc.status !== 409) this._error(exc);
    }
    this.renderRecommendations();
  }

  /** Recommendations change as units change status; re-read them at most every 400 ms (a
   * throttle: under steady traffic a debounce would never fire). */
  refreshRecommendationsSoon() {
    if (this.recsTimer) return;
    this.recsTimer = setTimeout(() => {
      this.recsTimer = 0;
      this.loadRecommendations();
    }, 400);
  }

  /** Re-render at the next frame: a burst of events (a replay after reconnecting) costs one. */
  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.incidentId) this.render();
    });
  }

  async loadDuplicates() {
    const incident = this.incident;
    const list = $("duplicates");
    list.replaceChildren();
    $("duplicates-block").hidden = true;
    if (!incident || incident.status !== "pending") return;
    try {
      const found = await this.app.api.get(`/api/incidents/${encodeURIComponent(incident.id)}/duplicates`);
      if (incident.id !== this.incidentId) return;
      for (const other of found) {
        const meters = distanceM(incident.location, other.location);
        list.append(
          el("li", { "data-id": other.id },
            el("span", { class: "badge", "data-priority": String(other.priority) }, this.app.i18n.t(`priority.${other.priority}`)),
            el("span", { class: "grow" }, `${this.app.typeName(other.type_code)} · ${other.address || other.id}`,
              el("br"), el("small", {}, `${this.app.i18n.time(other.created_at)} · ${this.app.i18n.distance(meters)} · ${this.app.i18n.t(`incident.${other.status}`)}`)),
            this.app.can("incident.command") ? el("button", { "data-action": "merge", textContent: this.app.i18n.t("btn.merge") }) : "",
          ),
        );
      }
      $("duplicates-block").hidden = found.length === 0;
    } catch (exc) {
      if (exc.status !== 404) this._error(exc);
    }
  }

  async loadPhotos() {
    const id = this.incidentId;
    this._clearPhotos();
    if (!this.app.can("attachment.read")) return;
    try {
      const photos = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/attachments`);
      for (const photo of photos) await this._addPhoto(photo, id);
    } catch (exc) {
      if (exc.status !== 404) this._error(exc);
    }
  }

  async _addPhoto(photo, incidentId) {
    // Attachments need the bearer token, so they are fetched, not linked.
    const response = await fetch(`/api/attachments/${encodeURIComponent(photo.id)}`, {
      headers: { Authorization: `Bearer ${this.app.api.token}` },
    });
    if (!response.ok || incidentId !== this.incidentId) return;
    const url = URL.createObjectURL(await response.blob());
    this.photoUrls.push(url);
    const img = el("img", { src: url, alt: photo.id, title: `${photo.created_by || ""} ${this.app.i18n.time(photo.created_at)}` });
    $("photos").append(el("a", { href: url, target: "_blank" }, img));
  }

  /** The caller, masked or in full: each look states a reason and is written to the audit log
   * by the server before it answers. A full number is shown for a minute, then hidden again. */
  async showReporter(full) {
    const id = this.incidentId;
    const reason = $("reporter-reason").value.trim();
    if (!id) return;
    this._error(null);
    if (reason.replace(/\s/g, "").length < 4) {
      // Said at once, without a round trip; the server refuses it the same way.
      this._error({ code: "reason_required", params: {} });
      $("reporter-reason").focus();
      return;
    }
    try {
      const query = new URLSearchParams({ reason, full: String(full) });
      const found = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/reporter?${query}`);
      if (id !== this.incidentId) return;
      const { i18n } = this.app;
      const view = $("reporter-view");
      view.hidden = false;
      view.dataset.masked = String(found.masked);
      const parts = [found.name || "—", found.phone || "—"];
      if (found.id_number) parts.push(found.id_number);
      view.textContent = found.name || found.phone || found.id_number
        ? `${parts.join(" · ")}${found.masked ? ` ${i18n.t("reporter.masked")}` : ""}`
        : i18n.t("reporter.none");
      clearTimeout(this.reporterTimer);
      if (!found.masked) this.reporterTimer = setTimeout(() => this._hideReporter(), 60_000);
    } catch (exc) {
      this._error(exc);
    }
  }

  _hideReporter() {
    clearTimeout(this.reporterTimer);
    const view = $("reporter-view");
    view.hidden = true;
    view.textContent = "";
    const reasons = $("reporter-reasons");
    if (!reasons.children.length) {
      for (const key of ["reporter.r1", "reporter.r2", "reporter.r3"]) reasons.append(el("option", { value: this.app.i18n.t(key) }));
    }
  }

  _clearPhotos() {
    for (const url of this.photoUrls) URL.revokeObjectURL(url);
    this.photoUrls = [];
    $("photos").replaceChildren();
  }

  /** A live event touching this incident. */
  onEvent(event) {
    if (!this.incidentId) return;
    this.disputes.onEvent(event);
    this.throws.onEvent(event);
    const mine = event.incident_id === this.incidentId;
    if (mine && typeof event.id === "number") {
      this.timeline.push(event);
      this.renderTimeline();
      if (event.type === "incident.attachment_added" && event.data.attachment) {
        this._addPhoto(event.data.attachment, this.incidentId);
      }
    }
    if (mine) {
      this.invalidate();
      this.refreshRecommendationsSoon();
      return;
    }
    // Another incident's unit changing status matters here only if it is one we recommend: it
    // may no longer be free. (A unit becoming free elsewhere shows at the next refresh.)
    if (event.type === "unit.status_changed" || event.type === "unit.dispatched") {
      if (this.recommendations.some((r) => r.unit_id === event.unit_id) || event.data.to === "available") {
        this.refreshRecommendationsSoon();
      }
    }
  }

  render() {
    const incident = this.shown;
    const { i18n } = this.app;
    this.app.record.show(incident);
    if (!incident) {
      $("detail-title").textContent = `${this.incidentId} · ${i18n.t("incident.closed")}`;
      for (const id of ["dispatch-top", "backup-btn", "close-btn"]) $(id).disabled = true;
      return;
    }
    this.pane.dataset.status = incident.status;
    const closed = !OPEN.has(incident.status);
    $("detail-title").textContent = `${this.app.typeName(incident.type_code)} · ${incident.id}`
      + (closed ? ` · ${i18n.t(`incident.${incident.status}`)}` : "");
    const station = this.app.state.stations.find((s) => s.id === incident.station_id);
    const rows = [
      ["detail.priority", el("span", { class: "badge", "data-priority": String(incident.priority) }, i18n.t(`priority.${incident.priority}`))],
      ["detail.status", el("span", { id: "detail-status", "data-status": incident.status }, i18n.t(`incident.${incident.status}`))],
      ["detail.address", incident.address || `${incident.location.lat.toFixed(5)}, ${incident.location.lon.toFixed(5)}`],
      ["detail.description", incident.description || "—"],
      ["detail.source", i18n.t(`source.${incident.source}`)],
      ["detail.created", i18n.time(incident.created_at)],
      ["detail.station", station ? station.name : "—"],
    ];
    // The crew's account when they cleared (kept when the dispatcher closes without one).
    if (incident.disposition) rows.push(["detail.disposition", incident.disposition]);
    const summary = el("dl", { class: "summary" });
    for (const [key, value] of rows) summary.append(el("dt", {}, i18n.t(key)), el("dd", {}, value));
    $("detail-summary").replaceChildren(summary);

    const assigned = this.assignedUnits(incident);
    const list = $("assigned");
    list.replaceChildren();
    for (const unit of assigned) {
      list.append(
        el("li", { "data-unit": unit.id, "data-status": unit.status },
          el("i", { class: "status-dot", style: `--sc:${STATUS_COLOURS[unit.status]}` }),
          el("span", { class: "grow" }, el("b", {}, unit.callsign), " ", el("small", {}, i18n.t(`kind.${unit.kind}`))),
          el("span", {}, i18n.t(`unit.${unit.status}`)),
        ),
      );
    }
    if (!assigned.length) list.append(el("li", { class: "muted" }, el("small", {}, i18n.t("assigned.none"))));
    const open = OPEN.has(incident.status);
    $("backup-btn").disabled = !open || incident.status === "pending";
    $("close-btn").disabled = !open;
    const top = incident.status === "pending" ? this.recommendations.slice(0, 1).map((r) => r.unit_id) : [];
    const onIt = assigned.filter((u) => u.incident_id === incident.id).map((u) => u.id);
    this.app.map.setSelected(incident.id, onIt.concat(top));
    // Once a unit is on it, the list offers backup, not the first response.
    $("recommend-title").textContent = i18n.t(incident.status === "pending" ? "rec.title" : "rec.title_backup");
    this.tick();
    this.renderRecommendations();
  }

  /** Units on the incident now, and those that were and have left it (with their last status
   * on it, from the timeline): a cleared crew stays in the list, marked cleared. */
  assignedUnits(incident) {
    const units = new Map(this.app.state.unitsOn(incident.id).map((u) => [u.id, u]));
    // A unit freed by closing the incident has no status event on it: show it as freed.
    if (!OPEN.has(incident.status)) {
      for (const event of this.timeline) {
        if (event.type === "unit.dispatched" && event.unit_id && !units.has(event.unit_id)) {
          const known = this.app.state.units.get(event.unit_id) || event.data.unit;
          if (known) units.set(event.unit_id, { ...known, incident_id: null });
        }
      }
    }
    for (const event of this.timeline) {
      if (event.type !== "unit.status_changed" || !event.unit_id || event.incident_id !== incident.id) continue;
      const current = units.get(event.unit_id);
      if (current && current.incident_id === incident.id) continue;
      const known = this.app.state.units.get(event.unit_id) || event.data.unit;
      if (known) units.set(event.unit_id, { ...known, status: event.data.to, incident_id: null });
    }
    return [...units.values()];
  }

  renderRecommendations() {
    const { i18n } = this.app;
    const incident = this.incident;
    const list = $("recommendations");
    list.replaceChildren();
    if (!incident) this.recommendations = [];
    const dispatchable = incident && DISPATCHABLE.has(incident.status);
    // One-click (and D) sends the first response only; backup is chosen unit by unit, so that a
    // stray key press never sends a second car to an incident that has one.
    const first = incident && incident.status === "pending";
    $("dispatch-top").hidden = !first;
    $("dispatch-top").disabled = !first || this.recommendations.length === 0;
    if (!incident) return;
    if (!dispatchable) {
      list.append(el("li", {}, el("small", {}, i18n.t("rec.not_dispatchable"))));
    } else if (!this.recommendations.length) {
      list.append(el("li", {}, el("small", {}, i18n.t("rec.none"))));
    }
    this.recommendations.forEach((rec, index) => {
      list.append(
        el("li", { "data-unit": rec.unit_id, class: index === 0 ? "top" : "" },
          el("i", { class: "status-dot", style: `--sc:${STATUS_COLOURS[rec.status]}` }),
          el("span", { class: "grow" }, el("b", {}, rec.callsign), " ",
            el("small", {}, `${i18n.t(`kind.${rec.kind}`)} · ${i18n.t(`unit.${rec.status}`)}`),
            rec.conditional ? el("small", { class: "conditional" }, ` · ${i18n.t("rec.conditional")}`) : "", el("br"),
            el("small", {}, i18n.t("rec.eta", { eta: i18n.duration(rec.eta_s), dist: i18n.distance(rec.distance_m) }))),
          el("button", { "data-action": "dispatch", textContent: i18n.t("btn.dispatch") }),
        ),
      );
    });
    this.whyNot.show(dispatchable ? incident : null);
    this.showRoutes();
  }

  /** Pending: the candidates' road routes. Dispatched: the routes of the units on their way. */
  async showRoutes() {
    const incident = this.incident;
    if (!incident) {
      this.routesKey = null;
      return this.app.map.showRoutes([]);
    }
    if (incident.status === "pending") {
      const key = `pending:${this.recommendations.map((r) => `${r.unit_id}:${r.eta_s}`).join()}`;
      if (key === this.routesKey) return;
      this.routesKey = key;
      return this.app.map.showRoutes(this.recommendations.map((r) => r.route));
    }
    const moving = this.app.state.unitsOn(incident.id).filter((u) => ["dispatched", "acknowledged", "en_route"].includes(u.status));
    const key = moving.map((u) => `${u.id}:${u.status}`).join();
    if (key === this.routesKey) return;
    this.routesKey = key;
    const routes = await Promise.all(moving.map((u) =>
      this.app.api.get(`/api/units/${encodeURIComponent(u.id)}/route`).then((r) => r.route, () => null)));
    if (incident.id === this.incidentId && key === this.routesKey) this.app.map.showRoutes(routes);
  }

  renderTimeline() {
    const { i18n } = this.app;
    const list = $("timeline");
    list.replaceChildren();
    const seen = new Set();
    for (const event of this.timeline) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      list.append(el("li", { "data-type": event.type }, el("time", {}, i18n.time(event.ts)), this.describe(event),
        event.actor ? el("small", {}, ` · ${event.actor}`) : ""));
    }
    list.scrollTop = list.scrollHeight;
  }

  describe(event) {
    const { i18n } = this.app;
    const unit = event.data.unit ? event.data.unit.callsign : event.unit_id || "";
    const params = { unit, merged: event.data.merged || "", text: event.data.text || "",
      reason: event.data.reason ? `：${event.data.reason}` : "" };
    if (event.type === "incident.updated") return this.app.record.describeChanges(event);
    if (event.type === "throw.detected") return this.throws.describe(event);
    if (event.type === "clip.attached") params.hash = String((event.data.clip || {}).sha256 || event.data.sha256 || "").slice(0, 12);
    if (event.type === "incident.status_changed") params.to = i18n.t(`incident.${event.data.to}`);
    if (event.type === "unit.status_changed") params.to = i18n.t(`unit.${event.data.to}`) + this.arrivalAndDisposition(event.data);
    return i18n.t(`ev.${event.type}`, params);
  }

  /** What a crew's status change adds: a doubtful arrival's flags, the disposition of clearing. */
  arrivalAndDisposition(data) {
    const { i18n } = this.app;
    const parts = [];
    const flags = (data.arrival && data.arrival.flags) || [];
    for (const flag of flags) parts.push(i18n.t(`ev.arrival.${flag}`, { d: Math.round(data.arrival.distance_m || 0) }));
    if (data.disposition) parts.push(i18n.t("ev.disposition", { text: data.disposition }));
    return parts.map((p) => ` · ${p}`).join("");
  }

  /** The clocks of the selected incident (once a second). */
  tick() {
    const incident = this.shown;
    if (!incident) return;
    const { i18n } = this.app;
    const now = Date.now();
    const risk = arrivalRisk(incident, now, this.app.state.predictedArrival.get(incident.id));
    const boxes = [[i18n.t("timer.since_created"), i18n.clock(risk.elapsedS), ""]];
    const dispatched = incident.stage_times.dispatched;
    if (dispatched) {
      const created = Date.parse(incident.created_at);
      boxes.push([i18n.t("timer.call_to_dispatch"), i18n.clock((Date.parse(dispatched) - created) / 1000), ""]);
      if (risk.arrivalS === null) boxes.push([i18n.t("timer.since_dispatch"), i18n.clock(risk.sinceDispatchS), risk.state]);
    }
    if (risk.arrivalS !== null) boxes.push([i18n.t("timer.arrival"), i18n.clock(risk.arrivalS), risk.state]);
    let text = i18n.t(dispatched ? `timer.target_${risk.state}` : (risk.state === "risk" ? "timer.waiting" : "timer.target_ok"));
    if (risk.predictedS !== null && risk.arrivalS === null) text += ` · ${i18n.t("timer.predicted", { t: i18n.clock(risk.predictedS) })}`;
    boxes.push([i18n.t("timer.target"), text, risk.state]);
    const timers = $("detail-timers");
    timers.dataset.risk = risk.state;
    timers.replaceChildren(...boxes.map(([label, value, cls]) => el("div", { class: cls }, el("b", {}, value), el("span", {}, label))));
  }

  // ------------------------------------------------------------ actions

  async dispatchTop() {
    const incident = this.incident;
    if (!incident || incident.status !== "pending" || !this.recommendations.length) return;
    await this.dispatch([this.recommendations[0].unit_id]);
  }

  async dispatch(unitIds) {
    const incident = this.incident;
    if (!incident) return;
    await this._act(async (options) => {
      const result = await this.app.api.post(`/api/incidents/${encodeURIComponent(incident.id)}/dispatch`, { unit_ids: unitIds }, options);
      this.app.toast(this.app.i18n.t("toast.dispatched", { units: result.units.map((u) => u.callsign).join(", ") }));
      await this.loadRecommendations();
    });
  }

  async backup() {
    const incident = this.incident;
    if (!incident || $("backup-btn").disabled) return;
    await this._act(async (options) => {
      const recs = await this.app.api.post(`/api/incidents/${encodeURIComponent(incident.id)}/backup`, {}, options);
      this.app.toast(this.app.i18n.t("toast.backup"));
      this.recommendations = recs;
      this.renderRecommendations();
    });
  }

  async close() {
    const incident = this.incident;
    if (!incident) return;
    const disposition = $("disposition").value.trim() || null;
    await this._act(async (options) => {
      await this.app.api.post(`/api/incidents/${encodeURIComponent(incident.id)}/close`, { disposition }, options);
      this.app.toast(this.app.i18n.t("toast.closed"));
    });
  }

  async merge(intoId) {
    const incident = this.incident;
    if (!incident) return;
    await this._act(async (options) => {
      await this.app.api.post(`/api/incidents/${encodeURIComponent(incident.id)}/merge`, { into: intoId }, options);
      this.app.toast(this.app.i18n.t("toast.merged"));
      this.app.select(intoId);
    });
  }

  async addNote() {
    const input = $("note-text");
    const text = input.value.trim();
    if (!text || !this.incidentId) return;
    await this._act(async (options) => {
      await this.app.api.post(`/api/incidents/${encodeURIComponent(this.incidentId)}/notes`, { text }, options);
      input.value = "";
    });
  }

  /** Run one command; while it is in flight the same command is not sent twice (a double
   * press), and each is sent with an idempotency key, so a retry after a lost answer is safe. */
  async _act(action) {
    if (this.busy) return;
    this.busy = true;
    this._error(null);
    try {
      await action({ idempotencyKey: newKey() });
    } catch (exc) {
      this._error(exc);
    } finally {
      this.busy = false;
    }
  }

  _error(exc) {
    const box = $("detail-error");
    box.hidden = !exc;
    box.textContent = exc ? this.app.i18n.error(exc) : "";
  }
}
