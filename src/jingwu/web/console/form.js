// The call taker's new-incident form: a searchable type list (Chinese, English, code), priority
// defaulting to the type's, the place by a chosen address suggestion, a click on the map (which
// names its address) or typed coordinates.

import { newKey } from "/static/shared/api.js";
import { AddressField } from "./address.js";

const $ = (id) => document.getElementById(id);
const TYPE_RESULTS = 12;
const DECIMAL = /^\s*-?\d{1,3}(\.\d+)?\s*$/;

/** A plain decimal degree ("45.75"), or null: "0x7e" or "1e1" are not coordinates. */
function decimal(text) {
  return DECIMAL.test(text) ? Number(text) : null;
}

/** Types matching `needle`, best first: an exact name or code, then names that start with it,
 * then names that contain it, then a category; within each, the more urgent type first. */
export function rankTypes(types, needle) {
  const score = (t) => {
    const names = [t.name_zh, t.name_en.toLowerCase(), t.code.toLowerCase()];
    if (names.some((n) => n === needle)) return 0;
    if (names.some((n) => n.startsWith(needle) || n.split(/[\s.()（）]+/).some((w) => w.startsWith(needle)))) return 1;
    if (names.some((n) => n.includes(needle))) return 2;
    if (t.category_zh.includes(needle) || t.category_en.toLowerCase().includes(needle)) return 3;
    return null;
  };
  return types
    .map((t) => [score(t), t])
    .filter(([s]) => s !== null)
    .sort((a, b) => a[0] - b[0] || a[1].default_priority - b[1].default_priority)
    .map(([, t]) => t);
}

export class IncidentForm {
  constructor(app) {
    this.app = app;
    this.dialog = $("incident-dialog");
    this.form = $("incident-form");
    this.options = $("type-options");
    this.active = -1;
    this.address = new AddressField({
      api: app.api,
      i18n: app.i18n,
      input: $("address"),
      list: $("address-options"),
      onChoose: (match) => this.place(match.lat, match.lon),
    });
    $("type-search").addEventListener("input", () => this.search());
    $("type-search").addEventListener("keydown", (e) => this.typeKeys(e));
    this.options.addEventListener("mousedown", (e) => {
      const item = e.target.closest("li[data-code]");
      if (item) {
        e.preventDefault();
        this.chooseType(item.dataset.code);
      }
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.form.querySelector("[data-action=cancel]").addEventListener("click", () => this.close());
    this.dialog.addEventListener("close", () => this.app.map.setPicking(false));
    // A non-modal dialog: the dispatcher must be able to click the map behind it.
    this.dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      this.close();
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    // One key per report: pressing Create twice, or again after a lost answer, makes one incident.
    this.key = newKey();
    this.form.reset();
    $("type-code").value = "";
    this.options.replaceChildren();
    this.address.reset();
    this._error(null);
    this.dialog.show();
    this.app.map.setPicking(true);
    $("map-hint").hidden = false;
    $("type-search").focus();
  }

  close() {
    this.dialog.close();
    $("map-hint").hidden = true;
  }

  /** A click on the map while the form is open places the incident there and names the address
   * (of exactly the coordinates that will be stored). */
  pick(lat, lon) {
    $("lat").value = lat.toFixed(6);
    $("lon").value = lon.toFixed(6);
    this.address.reverse(Number(lat.toFixed(6)), Number(lon.toFixed(6)));
  }

  /** A chosen address suggestion places the incident at its point, marked on the map. */
  place(lat, lon) {
    $("lat").value = lat.toFixed(6);
    $("lon").value = lon.toFixed(6);
    this.app.map.place(lat, lon);
  }

  search() {
    const needle = $("type-search").value.trim().toLowerCase();
    $("type-code").value = "";
    const found = needle ? rankTypes([...this.app.state.types.values()], needle) : [];
    this.active = found.length ? 0 : -1;
    this.options.replaceChildren(
      ...found.slice(0, TYPE_RESULTS).map((t, i) => {
        const li = document.createElement("li");
        li.dataset.code = t.code;
        li.setAttribute("role", "option");
        if (i === 0) li.classList.add("active");
        const names = this.app.i18n.lang === "en" ? [t.name_en, t.name_zh] : [t.name_zh, t.name_en];
        li.innerHTML = "<b></b><span></span><small></small>";
        li.querySelector("b").textContent = names[0];
        li.querySelector("span").textContent = names[1];
        li.querySelector("small").textContent = `P${t.default_priority} · ${t.code}`;
        return li;
      }),
    );
  }

  typeKeys(e) {
    const items = [...this.options.querySelectorAll("li")];
    if (!items.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach((li, i) => li.classList.toggle("active", i === this.active));
      items[this.active].scrollIntoView({ block: "nearest" });
    } else if (e.key === "Enter" && this.active >= 0) {
      e.preventDefault();
      this.chooseType(items[this.active].dataset.code);
    }
  }

  chooseType(code) {
    const type = this.app.state.types.get(code);
    if (!type) return;
    $("type-code").value = code;
    $("type-search").value = this.app.typeName(code);
    this._error(null);
    $("priority").value = String(type.default_priority);
    this.options.replaceChildren();
    $("address").focus();
  }

  async submit() {
    const { i18n, api } = this.app;
    const code = $("type-code").value;
    if (!code) return this._error(i18n.t("form.need_type"));
    const lat = decimal($("lat").value);
    const lon = decimal($("lon").value);
    if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      return this._error(i18n.t("form.bad_coords"));
    }
    const body = {
      type_code: code,
      priority: Number($("priority").value),
      location: { lat, lon },
      source: $("source").value,
      address: $("address").value.trim() || null,
      description: $("description").value.trim() || null,
    };
    const name = $("reporter-name").value.trim();
    const phone = $("reporter-phone").value.trim();
    const idNumber = $("reporter-id").value.trim();
    if (name || phone || idNumber) body.reporter = { name: name || null, phone: phone || null, id_number: idNumber || null };
    const submit = this.form.querySelector("button[type=submit]");
    if (submit.disabled) return;
    submit.disabled = true;
    try {
      const incident = await api.post("/api/incidents", body, { idempotencyKey: this.key });
      this.app.state.applyIncident(incident);
      this.app.changed();
      this.close();
      this.app.toast(i18n.t("toast.created"));
      this.app.select(incident.id);
    } catch (exc) {
      this._error(i18n.error(exc));
    } finally {
      submit.disabled = false;
    }
  }

  _error(text) {
    const box = $("form-error");
    box.hidden = !text;
    box.textContent = text || "";
  }
}
