// Which status buttons are legal: a mirror of UNIT_TRANSITIONS in src/jingwu/domain/status.py.
// Keep the two in step; tests/browser/test_terminal.py checks this table against the Python one.

export const UNIT_TRANSITIONS = {
  available: ["dispatched", "busy", "out_of_service", "off_duty"],
  dispatched: ["acknowledged", "en_route", "on_scene", "available"],
  acknowledged: ["en_route", "on_scene", "available"],
  en_route: ["on_scene", "available"],
  on_scene: ["cleared"],
  cleared: ["available", "dispatched", "busy", "out_of_service"],
  busy: ["available", "dispatched", "out_of_service"],
  out_of_service: ["available", "off_duty"],
  off_duty: ["available"],
};

// An officer may not take their unit off a dispatch it has not reached (403 recall_forbidden):
// recalling is the dispatcher's decision.
const RECALLABLE = new Set(["dispatched", "acknowledged", "en_route"]);

/** May an officer's terminal move its unit from `from` to `to`? */
export function officerMayMove(from, to) {
  if (to === "dispatched") return false; // only a dispatch makes a unit dispatched
  if (to === "available" && RECALLABLE.has(from)) return false;
  return (UNIT_TRANSITIONS[from] || []).includes(to);
}

/** The step an officer most likely takes next from `status` (highlighted on the terminal). */
export const NEXT_STEP = {
  dispatched: "acknowledged",
  acknowledged: "en_route",
  en_route: "on_scene",
  on_scene: "cleared",
  cleared: "available",
  busy: "available",
  out_of_service: "available",
  off_duty: "available",
};

/** Statuses in which the unit holds an assignment (ASSIGNED_STATUSES in status.py). */
export const ASSIGNED = new Set(["dispatched", "acknowledged", "en_route", "on_scene"]);
