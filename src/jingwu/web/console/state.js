// What the console knows: open incidents and all units, kept current from the live stream.
// No I/O here: the app feeds it REST snapshots and stream events, and renders from it.

export const OPEN = new Set(["pending", "dispatched", "acknowledged", "en_route", "on_scene", "cleared"]);

// 城区5分钟: the urban arrival target for urgent incidents (priorities 1 and 2), counted from the
// call. Lower priorities show their clocks without the warning.
export const ARRIVAL_TARGET_S = 300;
export const TARGET_PRIORITIES = new Set([1, 2]);
// Still waiting for a unit this long after the call, an urgent incident is already at risk: a
// typical urban drive takes two to four minutes.
const PENDING_RISK_S = 120;
// Dispatched but not on scene this long after the call: at risk whatever the ETA said.
const LATE_RISK_S = 240;

export class ConsoleState {
  constructor() {
    this.incidents = new Map(); // open incidents by id
    this.units = new Map();
    this.types = new Map();
    this.stations = [];
    this.predictedArrival = new Map(); // incident id → earliest predicted arrival (epoch ms)
  }

  /** Apply an incident snapshot; returns true when it changed what we hold. */
  applyIncident(view) {
    const held = this.incidents.get(view.id);
    if (held && held.version > view.version) return false; // an older snapshot arriving late
    if (!OPEN.has(view.status)) {
      this.predictedArrival.delete(view.id);
      return this.incidents.delete(view.id);
    }
    this.incidents.set(view.id, view);
    return true;
  }

  /** Apply a unit snapshot; snapshots on events carry no position, so the known one is kept. */
  applyUnit(view) {
    const held = this.units.get(view.id);
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
 * {target: bool, state: "ok"|"risk"|"missed"|"met"|"none", elapsedS, arrivalS, predictedS}.
 */
export function arrivalRisk(incident, now, predictedArrival) {
  const created = Date.parse(incident.created_at);
  const elapsedS = (now - created) / 1000;
  const onScene = incident.stage_times.on_scene;
  const result = { target: TARGET_PRIORITIES.has(incident.priority), state: "ok", elapsedS, arrivalS: null, predictedS: null };
  if (onScene) {
    result.arrivalS = (Date.parse(onScene) - created) / 1000;
    result.state = result.arrivalS <= ARRIVAL_TARGET_S ? "met" : "missed";
  } else if (elapsedS > ARRIVAL_TARGET_S) {
    result.state = "missed";
  } else {
    if (predictedArrival !== undefined) result.predictedS = (predictedArrival - created) / 1000;
    const dispatched = Boolean(incident.stage_times.dispatched);
    if (
      (result.predictedS !== null && result.predictedS > ARRIVAL_TARGET_S) ||
      (!dispatched && elapsedS >= PENDING_RISK_S) ||
      elapsedS >= LATE_RISK_S
    ) {
      result.state = "risk";
    }
  }
  if (!result.target) result.state = "none"; // clocks only, no target to warn about
  return result;
}
