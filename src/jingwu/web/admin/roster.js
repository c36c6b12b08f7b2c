// The roster of one station: its shifts (a week ahead by default) with their crews, and the form
// that adds a shift. Times are the bureau's (GET /api/map/config's timezone), whatever the
// browser's own zone is.

import { actionCell, button, cell, submitting } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** The UTC instant of a wall-clock time ("2026-12-07T08:00") in an IANA zone, as ISO 8601. */
export function zonedToIso(local, zone) {
  const [date, time] = local.split("T");
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at that moment, read back through Intl (twice: a day of clock change).
  let instant = guess;
  for (let i = 0; i < 2; i++) instant = guess - offsetMs(instant, zone);
  return new Date(instant).toISOString();
}

function offsetMs(instant, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

export class RosterTab {
  constructor(admin) {
    this.admin = admin;
    this.shifts = [];
    this.units = [];
    this.people = new Map(); // person id → police number and name
    this.loading = Promise.resolve();
    const form = $("shift-form");
    $("shift-new").addEventListener("click", () => this.open());
    $("roster-station").addEventListener("change", () => this.refresh());
    form.querySelector("[data-cancel]").addEventListener("click", () => (form.hidden = true));
    form.elements.kind.addEventListener("change", () => this.showKind());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
  }

  get stationId() {
    return $("roster-station").value;
  }

  /** Reload the station's shifts; a form opened meanwhile waits for it (`loading`). */
  refresh() {
    this.loading = this._load();
    return this.loading;
  }

  async _load() {
    if (!this.zone) {
      const config = await this.admin.api.get("/api/map/config");
      this.zone = config.timezone;
      this.admin.i18n.setTimeZone(this.zone);
    }
    const station = encodeURIComponent(this.stationId);
    const [shifts, units, people] = await Promise.all([
      this.admin.api.get(`/api/shifts?station=${station}`),
      this.admin.api.get("/api/units"),
      this.admin.api.get(`/api/personnel?station=${station}`).catch(() => []),
    ]);
    this.shifts = shifts;
    this.units = units.filter((u) => u.station_id === this.stationId);
    this.people = new Map(people.map((p) => [p.id, p]));
    this.render();
  }

  when(iso) {
    return new Date(iso).toLocaleString(this.admin.i18n.lang, {
      timeZone: this.zone,
      hour12: false,
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  render() {
    const t = this.admin.i18n;
    const callsign = new Map(this.units.map((u) => [u.id, u.callsign]));
    const rows = this.shifts.map((shift) => {
      const tr = document.createElement("tr");
      tr.dataset.shiftId = shift.id;
      const crews = shift.crews
        .map((c) => {
          const who = c.person_ids.map((id) => (this.people.get(id) || {}).police_number || id).join(", ");
          return `${callsign.get(c.unit_id) || c.unit_id}: ${who}`;
        })
        .join(" · ");
      const ended = Date.parse(shift.ends_at) <= Date.now();
      tr.append(
        cell(t.t(`shift.${shift.kind}`)),
        cell(this.when(shift.starts_at)),
        cell(this.when(shift.ends_at)),
        cell(crews),
        ended ? cell("") : actionCell(button(t.t("btn.delete"), () => this.remove(shift), "danger")),
      );
      return tr;
    });
    $("shift-rows").replaceChildren(...rows);
  }

  async open() {
    await this.loading; // the units of the station just chosen, not of the one before
    const form = $("shift-form");
    form.reset();
    const today = new Date().toLocaleDateString("sv-SE", { timeZone: this.zone }); // YYYY-MM-DD
    form.elements.day.value = today;
    const crewRows = this.units.map((unit) => {
      const tr = document.createElement("tr");
      const input = document.createElement("input");
      input.dataset.unitId = unit.id;
      input.placeholder = "230101, 230102";
      const td = document.createElement("td");
      td.append(input);
      tr.append(cell(unit.callsign), td);
      return tr;
    });
    $("crew-rows").replaceChildren(...crewRows);
    this.showKind();
    form.querySelector(".error").hidden = true;
    form.hidden = false;
  }

  showKind() {
    const form = $("shift-form");
    const custom = form.elements.kind.value === "custom";
    for (const node of form.querySelectorAll("[data-custom]")) node.hidden = !custom;
    for (const node of form.querySelectorAll("[data-standard]")) node.hidden = custom;
  }

  async save() {
    const form = $("shift-form");
    const kind = form.elements.kind.value;
    const crews = [...$("crew-rows").querySelectorAll("input")]
      .map((input) => ({
        unit: input.dataset.unitId,
        officers: input.value.split(/[,，;；\s]+/).filter(Boolean),
      }))
      .filter((c) => c.officers.length);
    const body = { station_id: this.stationId, kind, crews };
    const ok = await submitting(form, this.admin, async () => {
      if (kind === "custom") {
        body.starts_at = zonedToIso(form.elements.starts_at.value, this.zone);
        body.ends_at = zonedToIso(form.elements.ends_at.value, this.zone);
      } else {
        body.day = form.elements.day.value;
      }
      await this.admin.api.post("/api/shifts", body);
    });
    if (ok) {
      form.hidden = true;
      await this.refresh();
    }
  }

  async remove(shift) {
    if (!confirm(this.admin.i18n.t("confirm.delete_shift"))) return;
    try {
      await this.admin.api.request("DELETE", `/api/shifts/${encodeURIComponent(shift.id)}`);
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }
}
