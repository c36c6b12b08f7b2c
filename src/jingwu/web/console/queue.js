// The incident queue: one row per open incident, most urgent and newest first, with live clocks.
// Rows are kept by id and patched in place, so 500 open incidents cost no full re-render.

import { arrivalRisk } from "./state.js";

export class IncidentQueue {
  constructor(app) {
    this.app = app;
    this.list = document.getElementById("queue");
    this.empty = document.getElementById("queue-empty");
    this.count = document.getElementById("queue-count");
    this.filter = document.getElementById("queue-filter");
    this.rows = new Map();
    this.order = [];
    this.frame = 0;
    this.list.addEventListener("click", (e) => {
      const row = e.target.closest("li[data-id]");
      if (row) this.app.select(row.dataset.id);
    });
    this.filter.addEventListener("input", () => this.invalidate());
  }

  /** Re-render at the next frame (many events in one frame cost one render). */
  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const { state, i18n } = this.app;
    const needle = this.filter.value.trim().toLowerCase();
    const incidents = state.queue().filter((incident) => !needle || this._text(incident).includes(needle));
    const seen = new Set();
    for (const incident of incidents) {
      seen.add(incident.id);
      let row = this.rows.get(incident.id);
      if (!row) {
        row = document.createElement("li");
        row.dataset.id = incident.id;
        row.innerHTML = '<span class="prio"></span><span class="what"></span><span class="state"></span>'
          + '<span class="where"></span><span class="clocks"></span>';
        this.rows.set(incident.id, row);
      }
      if (row._version !== incident.version || row._lang !== i18n.lang) this._fill(row, incident);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    const order = incidents.map((i) => i.id);
    if (order.join() !== this.order.join()) {
      const fragment = document.createDocumentFragment();
      for (const id of order) fragment.appendChild(this.rows.get(id));
      this.list.appendChild(fragment);
      this.order = order;
    }
    for (const row of this.rows.values()) row.classList.toggle("selected", row.dataset.id === this.app.selectedId);
    this.empty.hidden = incidents.length > 0;
    this.count.textContent = `${incidents.length}`;
    this.tick();
  }

  _text(incident) {
    const type = this.app.state.types.get(incident.type_code);
    return [incident.id, incident.address, incident.description, incident.type_code, type && type.name_zh, type && type.name_en]
      .filter(Boolean).join(" ").toLowerCase();
  }

  _fill(row, incident) {
    const { i18n } = this.app;
    row._version = incident.version;
    row._lang = i18n.lang;
    row.dataset.status = incident.status;
    row.dataset.priority = String(incident.priority);
    row.querySelector(".prio").textContent = i18n.t(`priority.${incident.priority}`);
    row.querySelector(".what").textContent = this.app.typeName(incident.type_code);
    row.querySelector(".state").textContent = i18n.t(`incident.${incident.status}`);
    row.querySelector(".where").textContent = incident.address || `${incident.location.lat.toFixed(5)}, ${incident.location.lon.toFixed(5)}`;
  }

  /** Once a second: the clocks of every row (time since call, since dispatch, target state). */
  tick() {
    const { state, i18n } = this.app;
    const now = Date.now();
    for (const row of this.rows.values()) {
      const incident = state.incidents.get(row.dataset.id);
      if (!incident) continue;
      const risk = arrivalRisk(incident, now, state.predictedArrival.get(incident.id));
      row.dataset.risk = risk.state;
      const parts = [i18n.t("queue.since_created", { t: i18n.clock(risk.elapsedS) })];
      if (risk.arrivalS !== null) {
        parts.push(i18n.t("queue.arrived", { t: i18n.clock(risk.arrivalS) }));
      } else if (risk.sinceDispatchS !== null) {
        parts.push(i18n.t("queue.since_dispatch", { t: i18n.clock(risk.sinceDispatchS) }));
      }
      const text = parts.join(" · ");
      const clocks = row.querySelector(".clocks");
      if (clocks.textContent !== text) clocks.textContent = text;
    }
  }

  /** The id `step` rows after the selected one (J/K). */
  neighbour(step) {
    if (!this.order.length) return null;
    const at = this.order.indexOf(this.app.selectedId);
    const next = at < 0 ? 0 : Math.min(this.order.length - 1, Math.max(0, at + step));
    return this.order[next];
  }
}
