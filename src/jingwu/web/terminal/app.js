// The officer's mobile terminal: log-in, the unit's dispatch with its route and ETA, the status
// buttons, notes, photos and backup, position reports, and an outbox that works offline.
//
// State flows one way: the server's unit and incident (REST on start and on every reconnection,
// then live-stream snapshots), plus the outbox's queued actions on top (a queued status change is
// shown at once, marked as pending), → render() → the DOM.

import { Api, ApiError } from "/static/shared/api.js";
import { markDemo } from "/static/shared/demo.js";
import { distanceM } from "/static/shared/geo.js";
import { I18n } from "/static/shared/i18n.js";
import { LiveStream } from "/static/shared/live.js";
import { TerminalMap } from "/static/terminal/map.js";
import { Outbox } from "/static/terminal/outbox.js";
import { PositionReporter } from "/static/terminal/position.js";
import { Ringer } from "/static/terminal/ring.js";
import { Tabs } from "/static/terminal/tabs.js";
import { askDisposition, askFarArrival, bindSheets } from "/static/terminal/sheets.js";
import { STRINGS } from "/static/terminal/strings.js";
import { ASSIGNED, NEXT_STEP, officerMayMove } from "/static/terminal/transitions.js";

const STATUS_ACTIONS = ["acknowledged", "en_route", "on_scene", "cleared", "available"];
const STATE_KEY = "jingwu.terminal.state";
const TYPES_KEY = "jingwu.terminal.types";
const ROUTE_REFRESH_MS = 20_000;
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;
const PHOTO_KEEP_AS_IS_BYTES = 3 * 1024 * 1024;
const PHOTO_MAX_SIDE = 2560;
const FEED_LIMIT = 8;
const BACKUP_REPEAT_MS = 3000;

const api = new Api("jingwu.terminal.session");
const i18n = new I18n(STRINGS);
const ringer = new Ringer();
const $ = (selector) => document.querySelector(selector);

const state = {
  unit: null, // UnitOut, as the server last told us
  incident: null, // IncidentOut of the unit's incident (kept while the unit is cleared: wrap-up)
  route: null, // {eta_s, distance_m, straight_line_m, route, at} or null
  routeMissing: false, // the route endpoint is not there (older server): stop asking
  position: null, // the unit's latest position {lat, lon, heading, speed, ts}
  types: new Map(), // incident type code → {name_zh, name_en, …}
  ackDeadline: null, // ISO time by which the dispatch must be acknowledged
  ackOverdue: false,
  silenced: null, // the incident whose ring the officer silenced
  feed: [], // the incident's activity, newest first
  netDown: false, // the last request failed for want of a connection
  streamDown: false, // the live stream has been down for a few seconds: dispatches cannot arrive
  unitFresh: false, // state.unit came from the server in this page's life (not the saved copy)
  live: "offline", // the live stream's state
  dropped: [], // actions the server refused: [{id, text}]
  photos: [], // photos sent from this device for the current incident: [{url}]
  busy: false, // an action is being written to the outbox
};

const outbox = new Outbox(api, {
  owner: () => (api.session ? api.session.username : null),
  beforeSend: checkStillApplies,
});

let map = null;
let live = null;
let reporter = null;
let routeTimer = null;
let toastTimer = null;
let wakeLock = null;
let streamTimer = null;
let lastFix = null; // the device's latest GPS fix, for the tabs (a check's place, a collection's)
let signedIn = false;
let tabs = null;
const photoUrls = new Map(); // outbox seq → object URL of a queued photo
const STREAM_GRACE_MS = 4000; // a live stream down longer than this counts as offline

// ------------------------------------------------------------------ helpers

const unitId = () => (api.session ? api.session.unit_id : null);

function isOfficer(session) {
  return Boolean(session && session.role === "officer" && session.unit_id);
}

/** Who works on the terminal: an officer bound to a unit (dispatch and the rest), and a community
 * officer, who has no unit and uses the tabs beyond dispatch (records, disputes, applications). */
function mayUseTerminal(session) {
  return isOfficer(session) || Boolean(session && session.role === "community_officer");
}

/** The status the officer sees: the last queued status change, or else the server's. */
function shownStatus() {
  const pending = pendingStatuses();
  if (pending.length) return pending[pending.length - 1].status;
  return state.unit ? state.unit.status : null;
}

function pendingStatuses() {
  return outbox.entries.filter((e) => e.kind === "status" && e.unit_id === unitId());
}

/** The incident the officer's actions (notes, photos, backup) are about. */
function currentIncidentId() {
  if (state.unit && state.unit.incident_id) return state.unit.incident_id;
  if (state.incident && shownStatus() === "cleared") return state.incident.id;
  if (state.incident && pendingStatuses().length) return state.incident.id;
  return null;
}

/** Is the unit on its way to the incident (the route and ETA matter)? */
function onTheWay() {
  return ["dispatched", "acknowledged", "en_route"].includes(shownStatus());
}

/** Does the officer have an assignment to show (including the wrap-up after "cleared")? */
function hasAssignment() {
  const status = shownStatus();
  if (!state.incident) return false;
  if (state.unit && state.unit.incident_id === state.incident.id) return true;
  return status === "cleared" || ASSIGNED.has(status);
}

function typeName(code) {
  const t = state.types.get(code);
  if (!t) return code || "";
  return i18n.lang === "zh-CN" ? t.name_zh : t.name_en;
}

function later(a, b) {
  // ISO times from the server: compare as instants.
  if (!a) return false;
  if (!b) return true;
  return Date.parse(a) >= Date.parse(b);
}

function save() {
  if (!unitId()) return;
  const saved = {
    unit_id: unitId(),
    unit: state.unit,
    incident: state.incident,
    ackDeadline: state.ackDeadline,
    route: state.route,
  };
  try {
    localStorage.setItem(STATE_KEY, JSON.stringify(saved));
  } catch {
    // storage full: the terminal still works, it just cannot show the last state offline
  }
}

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    if (!saved || saved.unit_id !== unitId()) return;
    state.unit = saved.unit;
    state.incident = saved.incident;
    state.ackDeadline = saved.ackDeadline;
    state.route = saved.route;
    if (state.unit && state.unit.position) state.position = state.unit.position;
  } catch {
    // a damaged saved state is simply ignored
  }
}

function setNet(ok) {
  if (state.netDown === !ok) return;
  state.netDown = !ok;
  renderConnection();
}

function toast(text, kind = "info") {
  const el = $("#toast");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 3500);
}

// ------------------------------------------------------------------ state updates

/** A unit snapshot from the server (REST answer or event); older snapshots are ignored. */
function applyUnit(unit, { force = false } = {}) {
  if (!unit || unit.id !== unitId()) return;
  const previous = state.unit;
  if (!force && previous && !later(unit.status_changed_at, previous.status_changed_at)) return;
  const closed = state.incident && ["closed", "merged"].includes(state.incident.status) ? state.incident : null;
  const merged = { ...unit };
  if (!("position" in unit) && previous) merged.position = previous.position;
  state.unit = merged;
  if (merged.position && (!state.position || later(merged.position.ts, state.position.ts))) {
    state.position = merged.position;
  }
  if (merged.incident_id && (!state.incident || state.incident.id !== merged.incident_id)) {
    loadIncident(merged.incident_id);
  }
  if (!merged.incident_id && merged.status !== "cleared" && !pendingStatuses().length) {
    if (state.incident) resetIncident();
  }
  if (previous && ASSIGNED.has(previous.status) && merged.status === "available" && !merged.incident_id) {
    if (previous.incident_id && merged.status_changed_at && api.session) {
      // Taken off the incident by someone else (a dispatcher's recall).
      const mine = outbox.entries.some((e) => e.kind === "status" && e.status === "available");
      if (mine) {
        // our own tap
      } else if (closed) {
        // Closed by the dispatcher (a false alarm, say): tell the crew why they are free.
        const why = closed.disposition ? `${i18n.lang === "en" ? ": " : "："}${closed.disposition}` : "";
        toast(i18n.t(closed.status === "merged" ? "toast.merged" : "toast.closed", { why }), "warn");
      } else {
        toast(i18n.t("toast.recalled"), "warn");
      }
    }
  }
  save();
}

function applyIncident(incident) {
  if (!incident) return;
  if (state.incident && state.incident.id === incident.id && incident.version < state.incident.version) return;
  if (!state.incident || state.incident.id !== incident.id) {
    state.feed = [];
    clearPhotos();
    state.route = null;
  }
  state.incident = incident;
  save();
}

/** Forget the thumbnails of sent photos (the images live on the server now). */
function clearPhotos() {
  for (const p of state.photos) URL.revokeObjectURL(p.url);
  state.photos = [];
}

/** The caller of our incident, read in full on the officer's tap (the server records the look,
 * with its reason, in the audit log). Kept in memory only: personal data is never saved on the
 * phone, so it is gone with a reload, a new incident or a log-out. */
let caller = null;

async function showCaller() {
  const id = currentIncidentId();
  if (!id) return;
  try {
    // Only what calling back needs: the name and the number, never the ID number.
    const query = new URLSearchParams({ reason: i18n.t("caller.reason"), full: "true", fields: "name,phone" });
    const found = await api.get(`/api/incidents/${encodeURIComponent(id)}/reporter?${query}`);
    caller = { incidentId: id, name: found.name, phone: found.phone };
  } catch (exc) {
    toast(exc.offline ? i18n.t("caller.offline") : i18n.error(exc), "error");
  }
  renderCaller();
}

function renderCaller() {
  const box = $("#caller");
  const id = currentIncidentId();
  if (caller && caller.incidentId !== id) caller = null;
  box.replaceChildren();
  $("#caller-btn").hidden = Boolean(caller);
  if (!caller) return;
  if (!caller.phone) {
    box.textContent = i18n.t("caller.none");
    return;
  }
  if (caller.name) box.append(`${caller.name} `);
  const link = document.createElement("a");
  link.href = `tel:${caller.phone.split(";")[0]}`; // an extension (;ext=) is dialled by hand
  link.textContent = caller.phone;
  box.append(link);
}

function resetIncident() {
  caller = null;
  state.incident = null;
  state.route = null;
  state.feed = [];
  clearPhotos();
  state.ackDeadline = null;
  state.ackOverdue = false;
  save();
}

function applyPosition(p) {
  if (!p || !Number.isFinite(p.lat) || !Number.isFinite(p.lon)) return;
  if (state.position && p.ts && state.position.ts && !later(p.ts, state.position.ts)) return;
  state.position = { lat: p.lat, lon: p.lon, heading: p.heading ?? null, speed: p.speed ?? null, ts: p.ts };
  renderMap();
  renderMetrics();
}

async function loadIncident(incidentId) {
  try {
    const incident = await api.get(`/api/incidents/${encodeURIComponent(incidentId)}`);
    applyIncident(incident);
    setNet(true);
    loadFeed(incidentId);
    refreshRoute();
  } catch (exc) {
    if (exc.offline) setNet(false);
  }
  render();
}

async function loadFeed(incidentId) {
  try {
    const events = await api.get(`/api/incidents/${encodeURIComponent(incidentId)}/timeline`);
    if (!state.incident || state.incident.id !== incidentId) return;
    state.feed = events.map(feedItem).filter(Boolean).reverse().slice(0, FEED_LIMIT);
    renderFeed();
  } catch {
    // the feed is a convenience; live events still fill it
  }
}

/** Reload what the server knows about our unit (start, reconnection, returning online). */
async function refreshAll() {
  if (!unitId()) return;
  try {
    const unit = await api.get(`/api/units/${encodeURIComponent(unitId())}`);
    setNet(true);
    // The first answer replaces the copy saved on the device; later ones only if they are newer
    // (a live event or a command's answer may have overtaken this read).
    applyUnit(unit, { force: !state.unitFresh });
    state.unitFresh = true;
    if (unit.incident_id) await loadIncident(unit.incident_id);
  } catch (exc) {
    if (exc.offline) setNet(false);
  }
  render();
}

async function refreshRoute() {
  clearTimeout(routeTimer);
  routeTimer = null;
  const id = state.unit && state.unit.incident_id;
  if (!id || !unitId()) return;
  if (!state.routeMissing) {
    try {
      const answer = await api.get(`/api/units/${encodeURIComponent(unitId())}/route`);
      if (state.unit && answer.incident_id === state.unit.incident_id) {
        state.route = { ...answer, at: Date.now() };
        save();
      }
      setNet(true);
    } catch (exc) {
      if (exc.offline) setNet(false);
      else if (exc.status === 404 && exc.code !== "unit_not_found") state.routeMissing = true;
      else if (exc.status === 409 && state.route) state.route = { ...state.route, route: null };
    }
    renderMetrics();
    renderMap();
  }
  // While the unit is on its way, the route and ETA follow it (one timer, however many calls
  // overlapped).
  clearTimeout(routeTimer);
  routeTimer = onTheWay() && !state.routeMissing ? setTimeout(refreshRoute, ROUTE_REFRESH_MS) : null;
}

function feedItem(event) {
  const data = event.data || {};
  const actor = event.actor && api.session && event.actor === api.session.username ? i18n.t("feed.you") : event.actor;
  switch (event.type) {
    case "incident.created":
      return { id: event.id, ts: event.ts, key: "feed.created", text: "", actor };
    case "incident.note_added":
      return { id: event.id, ts: event.ts, key: "feed.note", text: data.text || "", actor };
    case "incident.backup_requested":
      return { id: event.id, ts: event.ts, key: "feed.backup", text: data.reason || "", actor, alert: true };
    case "incident.attachment_added":
      return { id: event.id, ts: event.ts, key: "feed.photo", text: "", actor };
    case "incident.status_changed":
      return { id: event.id, ts: event.ts, key: "feed.status", status: data.to, text: "", actor };
    default:
      return null;
  }
}

// ------------------------------------------------------------------ live stream

function onEvent(event) {
  if (event.type === "unit.positions") {
    const batch = event.positions || (event.data && event.data.positions) || (Array.isArray(event.data) ? event.data : []);
    for (const p of batch) if (p.unit_id === unitId()) applyPosition(p);
    return;
  }
  const data = event.data || {};
  const mine = event.unit_id && event.unit_id === unitId();
  const ours = state.incident && event.incident_id === state.incident.id;
  if (!mine && !ours) return; // the rest of the city is the console's business
  if (mine && event.type === "unit.dispatched") {
    if (data.incident) applyIncident(data.incident);
    loadFeed(event.incident_id);
    state.ackDeadline = data.ack_deadline || null;
    state.ackOverdue = false;
    state.silenced = null;
    if (Number.isFinite(data.eta_s) && (!state.route || state.route.incident_id !== event.incident_id)) {
      state.route = { incident_id: event.incident_id, eta_s: data.eta_s, distance_m: null, route: null, at: Date.now() };
    }
  }
  // The incident first: a unit freed by the incident's closing must know it was a close.
  if (data.incident && state.incident && data.incident.id === state.incident.id) applyIncident(data.incident);
  if (mine && data.unit) applyUnit(data.unit);
  if (mine && event.type === "dispatch.ack_overdue") state.ackOverdue = true;
  if (state.incident && event.incident_id === state.incident.id) {
    const item = feedItem(event);
    if (item && !state.feed.some((f) => f.id === item.id)) {
      state.feed = [item, ...state.feed].slice(0, FEED_LIMIT);
    }
    if (event.type === "incident.merged") refreshAll();
  }
  if (mine && (event.type === "unit.dispatched" || event.type === "unit.status_changed")) refreshRoute();
  render();
}

function startLive() {
  if (live) live.stop();
  live = new LiveStream(api, {
    onEvent,
    onStatus: (status) => {
      state.live = status;
      clearTimeout(streamTimer);
      if (status === "live") {
        state.streamDown = false;
        setNet(true);
      } else {
        streamTimer = setTimeout(() => {
          state.streamDown = state.live !== "live";
          renderConnection();
        }, STREAM_GRACE_MS);
      }
      renderConnection();
    },
    onResync: async () => {
      await refreshAll();
      outbox.flush();
    },
    onUnauthenticated: () => sessionEnded(),
  });
  live.start(null);
}

// ------------------------------------------------------------------ outbox

/** A queued status change that no longer fits (the unit was sent elsewhere meanwhile) is dropped. */
function checkStillApplies(entry) {
  if (entry.kind !== "status" || !["acknowledged", "en_route", "on_scene"].includes(entry.status)) return null;
  const current = state.unit && state.unit.incident_id;
  if (entry.incident_id && current && current !== entry.incident_id) {
    return new ApiError(409, "dispatch_changed", "the unit was sent to another incident meanwhile");
  }
  return null;
}

function describe(entry) {
  switch (entry.kind) {
    case "status":
      return i18n.t("what.status", { s: i18n.t(`unit.${entry.status}`) });
    case "note":
      return i18n.t(entry.disposition ? "what.disposition" : "what.note");
    case "backup":
      return i18n.t("what.backup");
    case "photo":
      return i18n.t("what.photo");
    default:
      // A tab's action names itself (e.g. a field collection, a dispute visit).
      return entry.label ? entry.label[i18n.lang] || entry.label["zh-CN"] : entry.kind;
  }
}

outbox.addEventListener("change", () => {
  renderOutbox();
  renderStatus();
  renderFeed();
  renderPhotos();
});

outbox.addEventListener("sent", (e) => {
  const { entry, result } = e.detail;
  setNet(true);
  if (entry.kind === "status" && result) {
    applyUnit(result);
    ringer.chirp();
  } else if (entry.kind === "backup") toast(i18n.t("toast.backup"), "ok");
  else if (entry.kind === "note" && !entry.disposition) toast(i18n.t("toast.note"), "ok");
  else if (entry.kind === "photo") {
    // The thumbnail stays, now as a sent photo (renderPhotos forgets the queued one).
    const url = photoUrls.get(entry.seq);
    if (url && state.incident && entry.incident_id === state.incident.id) state.photos.push({ url });
    toast(i18n.t("toast.photo"), "ok");
  }
  render();
});

outbox.addEventListener("dropped", (e) => {
  const { entry, error } = e.detail;
  if (entry.kind === "status" && error && error.code === "far_from_scene") {
    confirmFarArrival(entry, error);
    return;
  }
  const text = i18n.t("outbox.dropped", { what: describe(entry), why: i18n.error(error) });
  state.dropped.push({ id: `${entry.seq}`, text });
  if (entry.kind === "status") refreshAll();
  render();
});

outbox.addEventListener("failure", (e) => {
  if (e.detail.error && e.detail.error.offline) setNet(false);
});

/** Flush after a reconnection: first learn the unit's current state, then send in order. */
async function reconnectFlush() {
  if (!unitId()) return;
  await refreshAll();
  outbox.flush();
}

/** The server places the unit far from the scene: ask the officer, and send the arrival again,
 * confirmed, with the time of the first tap (it is kept flagged), or leave it unsent. */
async function confirmFarArrival(entry, error) {
  refreshAll();
  render();
  const stillThere = !state.unit || !state.unit.incident_id || state.unit.incident_id === entry.incident_id;
  if (!stillThere) return;
  const confirmed = await askFarArrival(i18n, error.params ? error.params.distance_m : 0);
  if (!confirmed) {
    toast(i18n.t("toast.arrival_withdrawn"), "warn");
    return;
  }
  await queue({
    kind: "status",
    path: entry.path,
    body: { ...entry.body, confirm_far: true },
    unit_id: entry.unit_id,
    incident_id: entry.incident_id,
    status: entry.status,
  });
  render();
}

async function queue(action) {
  const entry = await outbox.add(action);
  if (!navigator.onLine || state.netDown) toast(i18n.t("toast.queued"));
  return entry;
}

// ------------------------------------------------------------------ actions

async function tapStatus(to) {
  ringer.unlock();
  if (state.busy || !unitId()) return;
  const from = shownStatus();
  if (!officerMayMove(from, to)) return;
  state.busy = true;
  render();
  try {
    const incidentId = currentIncidentId();
    // The tap's own time: sent later from a dead zone, the change still counts when it happened.
    const body = { status: to, occurred_at: new Date().toISOString() };
    if (to === "cleared") {
      // How it ended goes with the status itself (the server requires it of an officer).
      const text = await askDisposition(i18n);
      if (text === null) return;
      body.disposition = text;
    }
    if (to !== "dispatched") ringer.stop();
    await queue({
      kind: "status",
      path: `/api/units/${encodeURIComponent(unitId())}/status`,
      body,
      unit_id: unitId(),
      incident_id: incidentId,
      status: to,
    });
  } finally {
    state.busy = false;
    render();
  }
}

async function tapNote() {
  const input = $("#note-text");
  const text = input.value.trim();
  const incidentId = currentIncidentId();
  if (!text || !incidentId) return;
  input.value = "";
  await queue({
    kind: "note",
    path: `/api/incidents/${encodeURIComponent(incidentId)}/notes`,
    body: { text },
    incident_id: incidentId,
    text,
  });
  render();
}

async function tapBackup() {
  ringer.unlock();
  const incidentId = currentIncidentId();
  // One request per press: a nervous double tap must not call for backup twice.
  if (!incidentId || Date.now() - (state.backupAt || 0) < BACKUP_REPEAT_MS) return;
  state.backupAt = Date.now();
  await queue({
    kind: "backup",
    path: `/api/incidents/${encodeURIComponent(incidentId)}/backup`,
    body: {},
    incident_id: incidentId,
  });
  render();
}

/** A photo as the server takes it: JPEG, PNG or WebP, at most 10 MiB (big camera shots shrunk). */
async function preparePhoto(file) {
  const accepted = ["image/jpeg", "image/png", "image/webp"].includes(file.type);
  if (accepted && file.size <= PHOTO_KEEP_AS_IS_BYTES) return new Blob([file], { type: file.type });
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    if (blob) return blob;
  } catch {
    // the browser cannot decode it (e.g. HEIC): send the original if the server takes it
  }
  if (accepted && file.size <= PHOTO_MAX_BYTES) return new Blob([file], { type: file.type });
  return null;
}

async function pickPhotos(input) {
  const incidentId = currentIncidentId();
  const files = Array.from(input.files || []);
  input.value = "";
  if (!incidentId) return;
  for (const file of files) {
    const blob = await preparePhoto(file);
    if (!blob || blob.size > PHOTO_MAX_BYTES) {
      toast(i18n.t(blob ? "error.upload_too_large" : "toast.photo_failed"), "error");
      continue;
    }
    await queue({
      kind: "photo",
      path: `/api/incidents/${encodeURIComponent(incidentId)}/attachments`,
      body: blob,
      incident_id: incidentId,
    });
  }
  render();
}

// ------------------------------------------------------------------ session

async function login(event) {
  event.preventDefault();
  ringer.unlock();
  const button = $("#login-form button[type=submit]");
  const error = $("#login-error");
  error.hidden = true;
  $("#console-link").hidden = true;
  button.disabled = true;
  button.textContent = i18n.t("login.busy");
  try {
    const code = $("#totp-row").hidden ? null : $("#totp").value.trim() || null;
    const session = await api.login($("#username").value.trim(), $("#password").value, code);
    if (!mayUseTerminal(session)) {
      // A dispatcher's or an administrator's account: this is not their tool. Revoke the token.
      await api.logout();
      error.textContent = i18n.t(session.role === "officer" ? "login.no_unit" : "login.not_officer");
      error.hidden = false;
      $("#console-link").hidden = session.role === "officer";
      return;
    }
    $("#password").value = "";
    $("#totp").value = "";
    $("#totp-row").hidden = true;
    await enter();
    const told = i18n.failedLogins(session);
    if (told) toast(told, "warn");
  } catch (exc) {
    error.textContent = i18n.error(exc);
    error.hidden = false;
    // The password was right and a second factor is needed: ask for it in the same form.
    if (exc.code === "totp_required" || exc.code === "bad_totp") {
      $("#totp-row").hidden = false;
      $("#totp").value = "";
      $("#totp").focus();
    }
  } finally {
    button.disabled = false;
    button.textContent = i18n.t("login.submit");
  }
}

async function enter() {
  signedIn = true;
  const dispatching = Boolean(unitId());
  $("#login-view").hidden = true;
  $("#main-view").hidden = !dispatching;
  $("#actions").hidden = !dispatching;
  $("#logout").hidden = false;
  restore();
  await outbox.refresh();
  if (!map) {
    map = new TerminalMap($("#map"));
    // The bureau's time zone comes with the map's configuration: times read as on the console.
    map.load(api, (config) => {
      if (config.timezone && config.timezone !== i18n.timeZone) {
        i18n.setTimeZone(config.timezone);
        render();
      }
    }).then(() => renderMap(true));
  }
  loadTypes();
  render();
  map.resize();
  reporter = new PositionReporter(api, {
    unitId,
    inArea: (lat, lon) => map.inArea(lat, lon),
    onFix: (fix) => {
      lastFix = fix;
      if (dispatching) applyPosition(fix);
    },
    onOutside: () => {
      if (!state.toldOutside) toast(i18n.t("gps.outside"), "warn");
      state.toldOutside = true;
    },
  });
  reporter.start();
  startLive();
  // The unit's state first: a dispatch must not wait for the other tabs' modules to load.
  const tabsReady = openTabs(dispatching);
  await refreshAll();
  outbox.flush();
  await tabsReady;
}

/** The tab bar: dispatch for an officer with a unit, then each module the role may use. */
async function openTabs(dispatching) {
  if (!tabs) {
    tabs = new Tabs({
      nav: $("#tabs"),
      panels: $("#tab-panels"),
      i18n,
      onDispatch: (shown) => {
        $("#main-view").hidden = !shown || !unitId();
        $("#actions").hidden = !shown || !unitId();
        if (shown && map) map.resize();
      },
    });
  }
  await tabs.open(
    {
      api,
      outbox,
      i18n,
      toast,
      position: () =>
        lastFix ? { lat: lastFix.lat, lon: lastFix.lon, accuracy_m: lastFix.accuracy, ts: lastFix.ts } : null,
      online: () => navigator.onLine && !state.netDown,
      showTab: (id) => tabs.show(id),
    },
    { dispatch: dispatching },
  );
}

function showLogin(message = "") {
  signedIn = false;
  if (tabs) tabs.close();
  $("#main-view").hidden = true;
  $("#actions").hidden = true;
  $("#logout").hidden = true;
  $("#login-view").hidden = false;
  const error = $("#login-error");
  error.textContent = message;
  error.hidden = !message;
  renderConnection();
}

function stopSession() {
  caller = null;
  if (live) live.stop();
  live = null;
  clearTimeout(streamTimer);
  state.streamDown = false;
  state.unitFresh = false;
  if (reporter) reporter.stop();
  reporter = null;
  ringer.stop();
  clearTimeout(routeTimer);
  state.unit = null;
  state.incident = null;
  state.route = null;
  state.feed = [];
  clearPhotos();
  state.dropped = [];
  releaseWakeLock();
}

function sessionEnded() {
  const username = $("#username");
  if (api.session === null && state.unit) username.value = state.unit.callsign || username.value;
  stopSession();
  showLogin(i18n.t("login.expired"));
}

async function logout() {
  const waiting = await outbox.count();
  if (waiting && !window.confirm(i18n.t("logout.confirm", { n: waiting }))) return;
  stopSession();
  await api.logout();
  localStorage.removeItem(STATE_KEY);
  await outbox.refresh();
  showLogin();
}

async function loadTypes() {
  try {
    const cached = JSON.parse(localStorage.getItem(TYPES_KEY) || "[]");
    for (const t of cached) state.types.set(t.code, t);
  } catch {
    // ignore
  }
  try {
    const types = await api.get("/api/incident-types");
    state.types = new Map(types.map((t) => [t.code, t]));
    localStorage.setItem(
      TYPES_KEY,
      JSON.stringify(types.map(({ code, name_zh, name_en, default_priority }) => ({ code, name_zh, name_en, default_priority }))),
    );
  } catch {
    // offline: the cached names (or the codes) do
  }
  renderDispatch();
}

// ------------------------------------------------------------------ rendering

function render() {
  renderConnection();
  renderStatus();
  renderDispatch();
  renderMetrics();
  renderOutbox();
  renderFeed();
  renderPhotos();
  renderMap();
  renderRing();
  renderWakeLock();
}

function renderConnection() {
  const loggedIn = signedIn;
  const offline = !navigator.onLine || state.netDown || (loggedIn && state.streamDown);
  $("#offline-banner").hidden = !offline;
  const status = offline ? "offline" : state.live;
  const conn = $("#conn");
  conn.dataset.conn = status;
  $("#conn-text").textContent = i18n.t(`conn.${status}`);
  conn.hidden = !signedIn;
  document.body.classList.toggle("is-offline", offline);
}

function renderStatus() {
  const status = shownStatus();
  const el = $("#unit-status");
  const pending = pendingStatuses().length > 0;
  el.dataset.status = status || "";
  el.dataset.pending = pending ? "true" : "false";
  el.textContent = status ? i18n.t(`unit.${status}`) : "—";
  $("#status-pending").hidden = !pending;
  const unit = state.unit;
  $("#unit-callsign").textContent = unit ? `${unit.callsign} · ${i18n.t(`kind.${unit.kind}`)}` : api.session ? api.session.username : "";
  const next = NEXT_STEP[status];
  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    const to = button.dataset.action;
    const legal = Boolean(status) && officerMayMove(status, to);
    button.disabled = !legal || state.busy;
    button.classList.toggle("is-next", legal && to === next);
    button.classList.toggle("is-done", isDone(status, to));
  }
}

function isDone(status, action) {
  const order = ["dispatched", "acknowledged", "en_route", "on_scene", "cleared", "available"];
  if (!ASSIGNED.has(status) && status !== "cleared") return false;
  return order.indexOf(action) >= 0 && order.indexOf(action) <= order.indexOf(status);
}

function renderDispatch() {
  const show = hasAssignment();
  const card = $("#dispatch");
  const wasHidden = card.hidden;
  card.hidden = !show;
  $("#work").hidden = !show;
  $("#idle").hidden = show || !state.unit;
  document.body.classList.toggle("has-dispatch", show);
  if (wasHidden !== card.hidden && map) requestAnimationFrame(() => map.resize());
  if (!show) return;
  const incident = state.incident;
  card.dataset.incident = incident.id;
  card.classList.toggle("is-new", shownStatus() === "dispatched");
  const prio = $("#dispatch-priority");
  prio.textContent = i18n.t(`priority.${incident.priority}`);
  prio.dataset.priority = String(incident.priority);
  $("#dispatch-type").textContent = typeName(incident.type_code);
  $("#dispatch-address").textContent = incident.address || i18n.t("dispatch.no_address");
  const description = $("#dispatch-description");
  description.textContent = incident.description || "";
  description.hidden = !incident.description;
  $("#incident-status").textContent = i18n.t("dispatch.incident_status", { s: i18n.t(`incident.${incident.status}`) });
  $("#dispatch-id").textContent = incident.id;
  renderCaller();
  $("#dispatch-time").textContent = i18n.time(incident.created_at);
  $("#mute").hidden = !ringer.ringing;
  // Photos and backup are for the incident the unit is working: the server refuses them once the
  // unit has cleared (a note is still fine during the wrap-up).
  const working = ASSIGNED.has(shownStatus());
  $("button[data-action=backup]").disabled = !working;
  $("#photo").disabled = !working;
  $(".btn-photo").classList.toggle("is-disabled", !working);
}

function renderMetrics() {
  if (!hasAssignment()) return;
  const incident = state.incident;
  const route = state.route && (!state.route.incident_id || state.route.incident_id === incident.id) ? state.route : null;
  const distance = $("#dispatch-distance");
  const eta = $("#dispatch-eta");
  const onWay = onTheWay(); // once on scene, distance and ETA are history
  if (!onWay) {
    distance.textContent = "";
  } else if (route && Number.isFinite(route.distance_m) && route.route) {
    distance.textContent = i18n.t("dispatch.by_road", { d: i18n.distance(route.distance_m) });
  } else if (state.position && incident.location) {
    // No road route (yet): the straight line from where the unit is.
    distance.textContent = i18n.t("dispatch.straight", { d: i18n.distance(distanceM(state.position, incident.location)) });
  } else if (route && Number.isFinite(route.straight_line_m)) {
    distance.textContent = i18n.t("dispatch.straight", { d: i18n.distance(route.straight_line_m) });
  } else {
    distance.textContent = "";
  }
  if (onWay && route && Number.isFinite(route.eta_s)) {
    eta.textContent = i18n.t("dispatch.eta", { t: i18n.duration(route.eta_s) });
  } else if (onWay) {
    eta.textContent = i18n.t("dispatch.no_route");
  } else eta.textContent = "";
  eta.hidden = !eta.textContent;
  renderAckTimer();
}

function renderAckTimer() {
  const timer = $("#ack-timer");
  const waiting = state.unit && state.unit.status === "dispatched" && shownStatus() === "dispatched";
  if (!waiting || (!state.ackDeadline && !state.ackOverdue)) {
    timer.hidden = true;
    return;
  }
  const left = state.ackDeadline ? (Date.parse(state.ackDeadline) - Date.now()) / 1000 : 0;
  const overdue = state.ackOverdue || left <= 0;
  timer.hidden = false;
  timer.classList.toggle("is-overdue", overdue);
  timer.textContent = overdue ? i18n.t("dispatch.ack_overdue") : i18n.t("dispatch.ack_within", { t: i18n.clock(left) });
}

function renderOutbox() {
  const n = outbox.entries.length;
  const counter = $("#outbox-count");
  counter.dataset.count = String(n);
  const one = i18n.t("outbox.count_one");
  counter.textContent = n === 1 && one !== "outbox.count_one" ? one : i18n.t("outbox.count", { n });
  $("#outbox-bar").hidden = n === 0 || !signedIn;
  const list = $("#outbox-errors");
  list.replaceChildren(
    ...state.dropped.map((d) => {
      const li = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = d.text;
      const ok = document.createElement("button");
      ok.type = "button";
      ok.className = "chip";
      ok.textContent = i18n.t("action.dismiss");
      ok.addEventListener("click", () => {
        state.dropped = state.dropped.filter((x) => x !== d);
        renderOutbox();
      });
      li.append(text, ok);
      return li;
    }),
  );
}

function renderFeed() {
  const list = $("#feed");
  if (!list || !hasAssignment()) return;
  const pending = outbox.entries
    .filter((e) => e.incident_id === state.incident.id && ["note", "backup"].includes(e.kind))
    .map((e) => ({
      key: e.kind === "backup" ? "feed.backup" : "feed.note",
      text: e.kind === "note" ? e.body.text : "",
      ts: e.created_at,
      actor: i18n.t("feed.you"),
      pending: true,
    }))
    .reverse();
  const items = [...pending, ...state.feed].slice(0, FEED_LIMIT);
  list.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement("li");
      if (item.pending) li.classList.add("is-pending");
      if (item.alert) li.classList.add("is-alert");
      const time = document.createElement("time");
      time.textContent = i18n.time(item.ts).slice(0, 5);
      const what = document.createElement("b");
      what.textContent = i18n.t(item.key, { s: item.status ? i18n.t(`incident.${item.status}`) : "" });
      const text = document.createElement("span");
      text.textContent = [item.text, item.actor ? `— ${item.actor}` : ""].filter(Boolean).join(" ");
      li.append(time, what, text);
      if (item.pending) {
        const badge = document.createElement("em");
        badge.textContent = i18n.t("status.pending");
        li.append(badge);
      }
      return li;
    }),
  );
  $("#feed-title").hidden = items.length === 0;
}

function renderPhotos() {
  const strip = $("#photos");
  if (!strip) return;
  const incidentId = state.incident ? state.incident.id : null;
  const queued = outbox.entries.filter((e) => e.kind === "photo" && e.incident_id === incidentId && e.body instanceof Blob);
  const sent = new Set(state.photos.map((p) => p.url));
  const waiting = new Set(queued.map((e) => e.seq));
  for (const [seq, url] of photoUrls) {
    if (waiting.has(seq)) continue;
    if (!sent.has(url)) URL.revokeObjectURL(url);
    photoUrls.delete(seq);
  }
  for (const e of queued) if (!photoUrls.has(e.seq)) photoUrls.set(e.seq, URL.createObjectURL(e.body));
  const tiles = [
    ...state.photos.map((p) => ({ url: p.url, pending: false })),
    ...queued.filter((e) => !sent.has(photoUrls.get(e.seq))).map((e) => ({ url: photoUrls.get(e.seq), pending: true })),
  ];
  strip.hidden = tiles.length === 0;
  strip.replaceChildren(
    ...tiles.map((t) => {
      const fig = document.createElement("figure");
      fig.className = t.pending ? "is-pending" : "";
      const img = document.createElement("img");
      img.src = t.url;
      img.alt = "";
      fig.append(img);
      return fig;
    }),
  );
}

function renderMap(refit = false) {
  if (!map) return;
  const label = state.unit ? state.unit.callsign : "";
  map.setUnit(state.position, label);
  const show = hasAssignment();
  const incident = show ? state.incident : null;
  const incidentKey = incident ? incident.id : "none";
  if (map._incidentKey !== incidentKey) {
    map.setIncident(incident);
    map._incidentKey = incidentKey;
  }
  const route = show && onTheWay() && state.route && state.route.route ? state.route.route : null;
  const routeKey = route ? `${incidentKey}:${state.route.at}` : "none";
  if (map._routeKey !== routeKey) {
    map.setRoute(route);
    map._routeKey = routeKey;
    refit = true;
  }
  map.frame(incidentKey, refit);
}

function renderRing() {
  const shouldRing = () =>
    Boolean(state.unit && state.unit.status === "dispatched" && shownStatus() === "dispatched") &&
    state.incident &&
    state.silenced !== state.incident.id;
  if (shouldRing() && !ringer.ringing) {
    ringer.start(shouldRing);
    if (!ringer.audible) toast(i18n.t("sound.enable"), "warn");
  } else if (!shouldRing() && ringer.ringing) ringer.stop();
  $("#mute").hidden = !ringer.ringing;
}

async function renderWakeLock() {
  // Keep the screen on while there is an assignment (where the browser allows it).
  const want = hasAssignment() && document.visibilityState === "visible";
  if (want && !wakeLock && navigator.wakeLock) {
    wakeLock = "pending";
    try {
      const lock = await navigator.wakeLock.request("screen");
      wakeLock = lock;
      lock.addEventListener("release", () => {
        if (wakeLock === lock) wakeLock = null;
      });
    } catch {
      wakeLock = null;
    }
  } else if (!want) releaseWakeLock();
}

function releaseWakeLock() {
  if (wakeLock && wakeLock !== "pending") wakeLock.release().catch(() => {});
  wakeLock = null;
}

function renderLanguage() {
  i18n.apply(document);
  $("#lang-toggle").textContent = i18n.t("lang.other");
  document.title = i18n.t("app.title");
  if (tabs) tabs.render();
  render();
}

// ------------------------------------------------------------------ start

function bind() {
  bindSheets(i18n);
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#lang-toggle").addEventListener("click", () => i18n.setLang(i18n.lang === "zh-CN" ? "en" : "zh-CN"));
  i18n.addEventListener("change", renderLanguage);
  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    button.addEventListener("click", () => tapStatus(button.dataset.action));
  }
  $("button[data-action=note]").addEventListener("click", tapNote);
  $("#note-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      tapNote();
    }
  });
  $("button[data-action=backup]").addEventListener("click", tapBackup);
  $("#caller-btn").addEventListener("click", showCaller);
  $("#photo").addEventListener("change", (e) => pickPhotos(e.target));
  $("#mute").addEventListener("click", () => {
    if (state.incident) state.silenced = state.incident.id;
    ringer.stop();
    renderRing();
  });
  // Any tap unlocks the alert sound (browsers refuse sound before the first gesture).
  document.addEventListener("pointerdown", () => ringer.unlock(), { capture: true });
  window.addEventListener("online", () => {
    renderConnection();
    reconnectFlush();
  });
  window.addEventListener("offline", () => {
    setNet(false);
    renderConnection();
  });
  document.addEventListener("visibilitychange", () => renderWakeLock());
  api.addEventListener("unauthenticated", () => {
    if (signedIn) sessionEnded();
  });
  setInterval(() => {
    if (signedIn && unitId()) renderAckTimer();
  }, 1000);
}

// What the service worker keeps for an offline start (sw.js DATA_PATHS).
const REFERENCE_DATA = ["/api/map/config", "/api/incident-types", "/api/map/features", "/api/map/roads"];

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const firstInstall = !navigator.serviceWorker.controller;
  navigator.serviceWorker.register("/terminal/sw.js", { scope: "/terminal/" }).catch(() => {
    // no offline start-up then; everything else works
  });
  // On a first install the worker takes control after log-in has already fetched the map and the
  // incident types past it; fetched again through it, they are there for a reload with no signal.
  if (firstInstall) {
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (signedIn) keepReferenceData();
    });
  }
}

async function keepReferenceData() {
  for (const path of REFERENCE_DATA) {
    try {
      await api.get(path);
    } catch {
      // offline or refused: the next start tries again
    }
  }
}

async function start() {
  bind();
  markDemo();
  renderLanguage();
  registerServiceWorker();
  await outbox.open();
  if (mayUseTerminal(api.session)) await enter();
  else {
    if (api.session) api.forget();
    showLogin();
  }
}

const ready = start().catch((exc) => {
  console.error("terminal start failed", exc);
});

// Hooks for the browser tests (and curious officers' developer tools).
window.jingwuTerminal = {
  ready,
  outbox: {
    count: () => outbox.count(),
    flush: () => outbox.flush(),
    entries: () => outbox.entries.map(({ seq, kind, status, key, path }) => ({ seq, kind, status, key, path })),
  },
  state,
  shownStatus,
};
