// The search page: every incident in reach (closed ones too) by words in the address or the
// description, time, type, priority, station, status and unit, newest first, paged with the
// server's cursor ("more" reads the next page). A result opens in the incident detail.

import { OPEN } from "./state.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const STATUSES = [...OPEN, "closed", "merged"];

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

/** A datetime-local value (the desk's wall clock) as an ISO instant, or null. */
function instant(value) {
  if (!value) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

export class SearchPage {
  constructor(app) {
    this.app = app;
    this.dialog = $("search-dialog");
    this.form = $("search-form");
    this.list = $("search-results");
    this.items = [];
    this.cursor = null;
    this.query = null;
    this.request = 0;
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search();
    });
    $("search-more").addEventListener("click", () => this.more());
    this.dialog.querySelector("[data-action=close-search]").addEventListener("click", () => this.dialog.close());
    this.list.addEventListener("click", (e) => {
      const row = e.target.closest("li[data-id]");
      if (row) this.openIncident(row.dataset.id);
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    this.fillChoices();
    this.dialog.showModal();
    $("search-q").focus();
    if (!this.query) this.search();
  }

  /** The choices the desk knows: types, stations, statuses (in the current language). */
  fillChoices() {
    const { i18n } = this.app;
    const keep = (select) => select.value;
    const fill = (select, options) => {
      const chosen = keep(select);
      select.replaceChildren(el("option", { value: "", textContent: i18n.t("search.any") }),
        ...options.map(([value, text]) => el("option", { value, textContent: text })));
      select.value = chosen;
    };
    const types = [...this.app.state.types.values()].sort((a, b) => a.code.localeCompare(b.code));
    fill($("search-type"), types.map((t) => [t.code, this.app.typeName(t.code)]));
    fill($("search-priority"), [1, 2, 3, 4].map((p) => [String(p), i18n.t(`priority.${p}`)]));
    fill($("search-station"), this.app.state.stations.map((s) => [s.id, s.name]));
    fill($("search-status"), STATUSES.map((s) => [s, i18n.t(`incident.${s}`)]));
    const units = $("search-units");
    if (units.children.length !== this.app.state.units.size) {
      units.replaceChildren(...[...this.app.state.units.values()].map((u) => el("option", { value: u.callsign })));
    }
  }

  /** The filters as query parameters; a unit is typed by its call sign. */
  params() {
    const query = new URLSearchParams({ cursor: "", limit: String(PAGE), open: "false" });
    const put = (name, value) => value && query.set(name, value);
    put("q", $("search-q").value.trim());
    put("from", instant($("search-from").value));
    put("to", instant($("search-to").value));
    put("type", $("search-type").value);
    put("priority", $("search-priority").value);
    put("station", $("search-station").value);
    put("status", $("search-status").value);
    const callsign = $("search-unit").value.trim();
    if (callsign) {
      const unit = [...this.app.state.units.values()].find((u) => u.callsign === callsign);
      query.set("unit", unit ? unit.id : callsign);
    }
    return query;
  }

  async search() {
    this.query = this.params();
    this.items = [];
    this.cursor = null;
    await this.load("");
  }

  async more() {
    if (this.cursor) await this.load(this.cursor);
  }

  async load(cursor) {
    const request = ++this.request;
    const query = new URLSearchParams(this.query);
    query.set("cursor", cursor);
    this._error(null);
    $("search-more").disabled = true;
    try {
      const page = await this.app.api.get(`/api/incidents?${query}`);
      if (request !== this.request) return;
      this.items.push(...page.items);
      this.cursor = page.next_cursor;
      this.render();
    } catch (exc) {
      if (request === this.request) this._error(exc);
    } finally {
      if (request === this.request) $("search-more").disabled = !this.cursor;
    }
  }

  render() {
    const { i18n } = this.app;
    const rows = this.items.map((incident) => {
      const when = new Date(incident.created_at).toLocaleString(i18n.lang, { hour12: false, timeZone: i18n.timeZone });
      return el("li", { "data-id": incident.id, "data-status": incident.status, tabIndex: 0 },
        el("span", { class: "badge", "data-priority": String(incident.priority) }, i18n.t(`priority.${incident.priority}`)),
        el("span", { class: "grow" }, el("b", {}, this.app.typeName(incident.type_code)), ` · ${incident.address || "—"}`,
          el("br"), el("small", {}, `${incident.id} · ${when}`)),
        el("span", { class: "status" }, i18n.t(`incident.${incident.status}`)),
      );
    });
    if (!rows.length) rows.push(el("li", { class: "muted" }, el("small", {}, i18n.t("search.none"))));
    this.list.replaceChildren(...rows);
    $("search-count").textContent = i18n.t(this.cursor ? "search.count_more" : "search.count", { n: this.items.length });
    $("search-more").hidden = !this.cursor;
  }

  /** Show a result in the detail pane; a closed one is kept as a snapshot (the live state holds
   * open incidents only), and its history and actions come with it. */
  openIncident(id) {
    const incident = this.items.find((i) => i.id === id);
    if (!incident) return;
    if (!this.app.state.incidents.has(id)) this.app.state.closed.set(id, incident);
    this.dialog.close();
    if (this.app.selectedId === id) this.app.select(null);
    this.app.select(id);
    this.app.map.focus(incident.location.lat, incident.location.lon, 15);
  }

  relabel() {
    if (!this.isOpen) return;
    this.fillChoices();
    if (this.query) this.render();
  }

  _error(exc) {
    const box = $("search-error");
    box.hidden = !exc;
    box.textContent = exc ? this.app.i18n.error(exc) : "";
  }
}
