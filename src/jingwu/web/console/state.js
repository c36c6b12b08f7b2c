// What the console knows: open incidents and all units, kept current from the live stream.
// No I/O here: the app feeds it REST snapshots and stream events, and renders from it.

const CLOSED_KEPT = 200;
export const OPEN = new Set(["pending", "dispatched", "acknowledged", "en_route", "on_scene", "cleared"]);

// 城区5分钟: a unit on scene within five minutes of its dispatch (the same measure as the day's
// figures from /api/stats/today). A dispatch whose road ETA lands later is at risk when it is made.
export const ARRIVAL_TARGET_S = 300;
// Dispatched this long without arriving: at risk whatever the ETA said.
const LATE_RISK_S = 240;
// An urgent call (priority 1–2) still waiting for a unit this long is flagged too: the target
// clock has not started, but the caller's has.
const PENDING_RISK_S = 120;
const URGENT = 2;

export class ConsoleState {
  constructor() {
    this.incidents = new Map(); // open incidents by id
    this.units = new Map();
    this.types = new Map();
    this.stations = [];
    this.predictedArrival = new Map(); // incident id → earliest predicted arrival (epoch ms)
    // The last snapshot of incidents closed or merged while this console watched, so that an
    // incident closed under the dispatcher's eyes shows as closed rather than vanishing.
    this.closed = new Map();
  }

  /** Apply an incident snapshot; returns true when it changed what we hold. */
  applyIncident(view) {
    const held = this.incidents.get(view.id);
    if (held && held.version > view.version) return false; // an older snapshot arriving late
    if (!OPEN.has(view.status)) {
      this.predictedArrival.delete(view.id);
      this.closed.set(view.id, view);
      if (this.closed.size > CLOSED_KEPT) this.closed.delete(this.closed.keys().next().value);
      return this.incidents.delete(view.id);
    }
    this.incidents.set(view.id, view);
    return true;
  }

  /** Apply a unit snapshot; snapshots on events carry no position, so the known one is kept. */
  applyUnit(view) {
    if (view.retired_at) {
      this.units.delete(view.id); // out of the fleet: off the map and every list
      return;
    }
    const held = this.units.get(view.id);
    // Unit views carry no version; the time of their last status change orders them.
    if (held && held.status_changed_at && view.status_changed_at && held.status_changed_at > view.status_changed_at) {
      return;
    }
    const merged = { ...(held || {}), ...view };
    if (!("position" in view) && held) merged.position = held.position;
    this.units.set(view.id, merged);
  }

  applyPositions(positions) {
    for (const p of positions) {
      const unit = this.units.get(p.unit_id);
      if (!unit) continue;
      if (unit.position && unit.position.ts > p.ts) continue; // never move a unit back in time
      unit.position = { lat: p.lat, lon: p.lon, ts: p.ts, heading: p.heading, speed: p.speed };
    }
  }

  noteDispatch(incidentId, at, etaS) {
    if (etaS === null || etaS === undefined) return;
    const arrival = Date.parse(at) + etaS * 1000;
    const known = this.predictedArrival.get(incidentId);
    if (known === undefined || arrival < known) this.predictedArrival.set(incidentId, arrival);
  }

  /** Open incidents, most urgent first, then newest first. */
  queue() {
    return [...this.incidents.values()].sort(
      (a, b) => a.priority - b.priority || b.created_at.localeCompare(a.created_at),
    );
  }

  unitsOn(incidentId) {
    return [...this.units.values()].filter((u) => u.incident_id === incidentId);
  }

  counts() {
    let pending = 0;
    for (const i of this.incidents.values()) if (i.status === "pending") pending += 1;
    let available = 0;
    for (const u of this.units.values()) if (u.status === "available") available += 1;
    return { open: this.incidents.size, pending, available, units: this.units.size };
  }
}

/**
 * Where an incident stands against the 5-minute arrival target at `now` (epoch ms):
 * {state: "ok"|"risk"|"missed"|"met", elapsedS (since the call), sinceDispatchS, arrivalS
 * (dispatch → on scene), predictedS (dispatch → predicted arrival)}.
 */
export function arrivalRisk(incident, now, predictedArrival) {
  const created = Date.parse(incident.created_at);
  const dispatchedAt = incident.stage_times.dispatched ? Date.parse(incident.stage_times.dispatched) : null;
  const onScene = incident.stage_times.on_scene;
  const result = {
    state: "ok",
    elapsedS: (now - created) / 1000,
    sinceDispatchS: dispatchedAt === null ? null : (now - dispatchedAt) / 1000,
    arrivalS: null,
    predictedS: null,
  };
  if (dispatchedAt === null) {
    if (incident.priority <= URGENT && result.elapsedS >= PENDING_RISK_S) result.state = "risk";
    return result;
  }
  if (onScene) {
    result.arrivalS = (Date.parse(onScene) - dispatchedAt) / 1000;
    result.state = result.arrivalS <= ARRIVAL_TARGET_S ? "met" : "missed";
    return result;
  }
  if (predictedArrival !== undefined) result.predictedS = (predictedArrival - dispatchedAt) / 1000;
  if (result.sinceDispatchS > ARRIVAL_TARGET_S) result.state = "missed";
  else if (result.sinceDispatchS >= LATE_RISK_S || (result.predictedS !== null && result.predictedS > ARRIVAL_TARGET_S)) {
    result.state = "risk";
  }
  return result;
}
