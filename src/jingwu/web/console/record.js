// The incident as a record, in the detail pane: correct its type, priority, place, address or
// description (PATCH with the version the form was filled from, so that a change made meanwhile
// by someone else is refused, not overwritten), reopen it once closed, and read each correction
// in the history with its before and after.

const $ = (id) => document.getElementById(id);
const DECIMAL = /^\s*-?\d{1,3}(\.\d+)?\s*$/;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

export class RecordEditor {
  constructor(app) {
    this.app = app;
    this.base = null; // the incident as the form was filled from it
    this.dirty = false;
    this.form = $("record-form");
    this.form.addEventListener("input", () => (this.dirty = true));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    $("reopen-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.reopen();
    });
  }

  /** The detail shows `incident` (or null): fill the form unless the dispatcher is editing it. */
  show(incident) {
    const block = $("record-block");
    if (!incident || !this.app.can("incident.command")) {
      block.hidden = true;
      this.base = null;
      return;
    }
    block.hidden = false;
    const other = !this.base || this.base.id !== incident.id;
    if (other) {
      this.dirty = false;
      $("record-edit").open = false;
      $("reopen-reason").value = "";
    }
    if (other || (!this.dirty && incident.version !== this.base.version)) this.fill(incident);
    $("reopen-form").hidden = incident.status !== "closed";
    $("record-edit").hidden = incident.status === "merged";
  }

  fill(incident) {
    const { i18n } = this.app;
    this.base = incident;
    this.dirty = false;
    const types = $("record-type");
    if (types.options.length !== this.app.state.types.size || types.dataset.lang !== i18n.lang) {
      const all = [...this.app.state.types.values()].sort((a, b) => a.code.localeCompare(b.code));
      types.replaceChildren(...all.map((t) => el("option", { value: t.code, textContent: `${this.app.typeName(t.code)} (${t.code})` })));
      types.dataset.lang = i18n.lang;
    }
    types.value = incident.type_code;
    $("record-priority").value = String(incident.priority);
    $("record-address").value = incident.address || "";
    $("record-description").value = incident.description || "";
    $("record-lat").value = incident.location.lat.toFixed(6);
    $("record-lon").value = incident.location.lon.toFixed(6);
    $("record-reason").value = "";
  }

  /** What the form changes, against the incident it was filled from. */
  changes() {
    const base = this.base;
    const body = {};
    if ($("record-type").value !== base.type_code) body.type_code = $("record-type").value;
    if (Number($("record-priority").value) !== base.priority) body.priority = Number($("record-priority").value);
    const address = $("record-address").value.trim();
    if (address !== (base.address || "")) body.address = address || null;
    const description = $("record-description").value.trim();
    if (description !== (base.description || "")) body.description = description || null;
    const lat = $("record-lat").value;
    const lon = $("record-lon").value;
    if (!DECIMAL.test(lat) || !DECIMAL.test(lon)) throw { code: "bad_coordinates", params: {} };
    if (Number(lat).toFixed(6) !== base.location.lat.toFixed(6) || Number(lon).toFixed(6) !== base.location.lon.toFixed(6)) {
      body.location = { lat: Number(lat), lon: Number(lon) };
    }
    return body;
  }

  async save() {
    if (!this.base) return;
    const { i18n } = this.app;
    const id = this.base.id;
    await this.app.detail._act(async () => {
      const body = this.changes();
      if (!Object.keys(body).length) {
        this.app.toast(i18n.t("record.unchanged"));
        return;
      }
      const reason = $("record-reason").value.trim();
      if (reason) body.reason = reason;
      body.version = this.base.version;
      try {
        const updated = await this.app.api.request("PATCH", `/api/incidents/${encodeURIComponent(id)}`, { body });
        this._applied(updated);
        $("record-edit").open = false;
        this.app.toast(i18n.t("toast.corrected"));
      } catch (exc) {
        // Someone changed it first: show theirs, so that the dispatcher decides again on it.
        if (exc.code === "stale_incident") this._reload(id);
        throw exc;
      }
    });
  }

  async reopen() {
    if (!this.base) return;
    const id = this.base.id;
    const reason = $("reopen-reason").value.trim();
    await this.app.detail._act(async (options) => {
      if (reason.length < 2) throw { code: "reason_required_reopen", params: {} };
      const reopened = await this.app.api.post(`/api/incidents/${encodeURIComponent(id)}/reopen`,
        { reason, version: this.base.version }, options);
      $("reopen-reason").value = "";
      this._applied(reopened);
      this.app.toast(this.app.i18n.t("toast.reopened"));
    });
  }

  /** The answer is the incident as stored: apply it at once (its live event may come later). */
  _applied(incident) {
    this.app.state.applyIncident(incident);
    this.dirty = false;
    this.app.changed();
    this.app.detail.invalidate();
  }

  async _reload(id) {
    try {
      const incident = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}`);
      this._applied(incident);
      if (this.base && this.base.id === id) this.fill(incident);
    } catch {
      // The refusal already says what happened; the live stream brings the change anyway.
    }
  }

  /** One correction in the history: each changed field, before → after. */
  describeChanges(event) {
    const { i18n } = this.app;
    const changes = event.data.changes || {};
    const parts = Object.entries(changes).map(([field, { before, after }]) =>
      `${i18n.t(`field.${field}`)} ${this.value(field, before)} → ${this.value(field, after)}`);
    const reason = event.data.reason ? ` (${event.data.reason})` : "";
    return i18n.t("ev.incident.updated", { changes: parts.join("；"), reason });
  }

  value(field, value) {
    const { i18n } = this.app;
    if (value === null || value === undefined || value === "") return "—";
    if (field === "type_code") return this.app.typeName(value);
    if (field === "priority") return i18n.t(`priority.${value}`);
    if (field === "location") return `${Number(value.lat).toFixed(5)}, ${Number(value.lon).toFixed(5)}`;
    if (field === "station_id") {
      const station = this.app.state.stations.find((s) => s.id === value);
      return station ? station.name : value;
    }
    return String(value);
  }
}
