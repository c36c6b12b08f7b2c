// Units and personnel: the tables, and the forms that make or edit one. Who rides which unit now
// comes from the roster (GET /api/crews).

import { actionCell, button, cell, option, submitting } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["patrol_car", "motorcycle", "foot", "drone"];
const RANKS = [
  "辅警", "二级警员", "一级警员", "三级警司", "二级警司", "一级警司", "三级警督", "二级警督", "一级警督",
  "三级警监", "二级警监", "一级警监", "副总警监", "总警监",
];
const ROLES = ["officer", "community_officer", "dispatcher", "commander", "analyst", "admin"];

function capabilitiesOf(text) {
  return text
    .split(/[,，;；\s]+/)
    .map((c) => c.trim())
    .filter(Boolean);
}

export class UnitsTab {
  constructor(admin) {
    this.admin = admin;
    this.units = [];
    this.crews = new Map(); // unit id → officers riding it now
    this.editing = null;
    const form = $("unit-form");
    $("unit-new").addEventListener("click", () => this.open(null));
    form.querySelector("[data-cancel]").addEventListener("click", () => (form.hidden = true));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
  }

  async refresh() {
    const [units, crews] = await Promise.all([this.admin.api.get("/api/units"), this.admin.api.get("/api/crews")]);
    this.units = units;
    this.crews = new Map(crews.map((c) => [c.unit_id, c.officers]));
    this.render();
  }

  render() {
    const t = this.admin.i18n;
    $("unit-form").elements.kind.replaceChildren(...KINDS.map((k) => option(k, t.t(`kind.${k}`))));
    const rows = this.units.map((unit) => {
      const tr = document.createElement("tr");
      tr.dataset.unitId = unit.id;
      const crew = (this.crews.get(unit.id) || []).map((p) => `${p.name}（${p.police_number}）`).join("、");
      tr.append(
        cell(unit.callsign),
        cell(t.t(`kind.${unit.kind}`)),
        cell(this.admin.stationName(unit.station_id)),
        cell(unit.capabilities.join(", ")),
        cell(t.t(`unit.${unit.status}`)),
        cell(crew),
        cell(unit.radio_id),
        actionCell(
          button(t.t("btn.edit"), () => this.open(unit)),
          button(t.t("btn.retire"), () => this.retire(unit), "danger"),
        ),
      );
      return tr;
    });
    $("unit-rows").replaceChildren(...rows);
  }

  open(unit) {
    const form = $("unit-form");
    const t = this.admin.i18n;
    this.editing = unit;
    form.reset();
    this.render();
    $("unit-form-title").textContent = unit ? t.t("form.edit_unit", { name: unit.callsign }) : t.t("form.new_unit");
    if (unit) {
      form.elements.callsign.value = unit.callsign;
      form.elements.kind.value = unit.kind;
      form.elements.station_id.value = unit.station_id;
      form.elements.capabilities.value = unit.capabilities.join(", ");
      form.elements.radio_id.value = unit.radio_id || "";
      form.elements.terminal_id.value = unit.terminal_id || "";
    }
    form.querySelector(".error").hidden = true;
    form.hidden = false;
    form.elements.callsign.focus();
  }

  async save() {
    const form = $("unit-form");
    const body = {
      callsign: form.elements.callsign.value.trim(),
      kind: form.elements.kind.value,
      station_id: form.elements.station_id.value,
      capabilities: capabilitiesOf(form.elements.capabilities.value),
      radio_id: form.elements.radio_id.value.trim() || null,
      terminal_id: form.elements.terminal_id.value.trim() || null,
    };
    const ok = await submitting(form, this.admin, async () => {
      if (this.editing) {
        await this.admin.api.request("PATCH", `/api/units/${encodeURIComponent(this.editing.id)}`, {
          body: { ...body, version: this.editing.version },
        });
      } else {
        await this.admin.api.post("/api/units", body);
      }
    });
    if (ok) {
      form.hidden = true;
      await this.refresh();
    }
  }

  async retire(unit) {
    if (!confirm(this.admin.i18n.t("confirm.retire", { name: unit.callsign }))) return;
    try {
      await this.admin.api.post(`/api/units/${encodeURIComponent(unit.id)}/retire`);
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }
}

export class PeopleTab {
  constructor(admin) {
    this.admin = admin;
    this.people = [];
    this.units = new Map();
    this.editing = null;
    const form = $("person-form");
    $("person-new").addEventListener("click", () => this.open(null));
    form.querySelector("[data-cancel]").addEventListener("click", () => (form.hidden = true));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
  }

  async refresh() {
    const [people, units] = await Promise.all([
      this.admin.api.get("/api/personnel"),
      this.admin.api.get("/api/units").catch(() => []),
    ]);
    this.people = people;
    this.units = new Map(units.map((u) => [u.id, u.callsign]));
    this.render();
  }

  render() {
    const t = this.admin.i18n;
    const form = $("person-form");
    form.elements.rank.replaceChildren(...RANKS.map((r) => option(r, r)));
    // A commander gives only the roles below their own (the server refuses the others too).
    const roles = this.admin.permissions.has("station.admin") ? ROLES : ROLES.filter((r) => !["admin", "commander"].includes(r));
    form.elements.role.replaceChildren(...roles.map((r) => option(r, t.t(`role.${r}`))));
    const rows = this.people.map((person) => {
      const tr = document.createElement("tr");
      tr.dataset.personId = person.id;
      tr.append(
        cell(person.police_number),
        cell(person.name),
        cell(person.rank),
        cell(this.admin.stationName(person.station_id)),
        cell(person.role ? t.t(`role.${person.role}`) : ""),
        cell(person.unit_id ? this.units.get(person.unit_id) || person.unit_id : ""),
        actionCell(
          button(t.t("btn.edit"), () => this.open(person)),
          button(t.t("btn.retire"), () => this.retire(person), "danger"),
        ),
      );
      return tr;
    });
    $("person-rows").replaceChildren(...rows);
  }

  open(person) {
    $("person-password").hidden = true; // a password shown once is not left on screen
    const form = $("person-form");
    const t = this.admin.i18n;
    this.editing = person;
    form.reset();
    this.render();
    for (const node of form.querySelectorAll("[data-new-only]")) node.hidden = Boolean(person);
    form.elements.police_number.required = !person;
    $("person-form-title").textContent = person ? t.t("form.edit_person", { name: person.name }) : t.t("form.new_person");
    if (person) {
      form.elements.name.value = person.name;
      form.elements.rank.value = person.rank;
      form.elements.station_id.value = person.station_id;
      form.elements.role.value = person.role || "officer";
    } else {
      form.elements.rank.value = "一级警员";
    }
    form.querySelector(".error").hidden = true;
    form.hidden = false;
  }

  async save() {
    const form = $("person-form");
    const body = {
      name: form.elements.name.value.trim(),
      rank: form.elements.rank.value,
      station_id: form.elements.station_id.value,
      role: form.elements.role.value,
    };
    let made = null;
    const ok = await submitting(form, this.admin, async () => {
      if (this.editing) {
        await this.admin.api.request("PATCH", `/api/personnel/${encodeURIComponent(this.editing.id)}`, {
          body: { ...body, version: this.editing.version },
        });
      } else {
        made = await this.admin.api.post("/api/personnel", {
          ...body,
          police_number: form.elements.police_number.value.trim(),
        });
      }
    });
    if (!ok) return;
    form.hidden = true;
    const secret = $("person-password");
    secret.hidden = !(made && made.initial_password);
    if (made && made.initial_password) {
      secret.textContent = this.admin.i18n.t("notice.password", {
        number: made.police_number,
        password: made.initial_password,
      });
    }
    await this.refresh();
  }

  async retire(person) {
    if (!confirm(this.admin.i18n.t("confirm.retire", { name: `${person.name}（${person.police_number}）` }))) return;
    try {
      await this.admin.api.post(`/api/personnel/${encodeURIComponent(person.id)}/retire`);
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }
}
