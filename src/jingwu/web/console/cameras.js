// Cameras on the console (视频资源共享): for the selected incident, the cameras that can see it
// (GET /api/incidents/{id}/cameras: those that see the scene first, then those in range facing
// away or blocked, then body cameras and drones of units near it), each with its state and why,
// a live tile a click away and its view cone on the map; the incident's clips; the list of
// cameras without a usable picture (离线摄像机), kept current from camera.state events; and the
// big screen's camera wall. Tiles and the wall are camera-grid.js, the map layer camera-map.js.

import { CameraLayer, coverageButton, stateColour } from "./camera-map.js";
import { CameraWall, TileArea, el } from "./camera-grid.js";
import { ClipList } from "./clips.js";
import { FAULT_STATES, stateLabel } from "./camera-strings.js";

const $ = (id) => document.getElementById(id);
const WALL_KEY = "jingwu.console.wall_on";
const FAULTS_RELOAD_MS = 2000;

export class CameraDesk {
  constructor(app) {
    this.app = app;
    this.cameras = new Map(); // every camera record seen, by id (names for clips and events)
    this.entries = []; // the selected incident's ranked cameras
    this.faults = new Map(); // cameras without a usable picture, by id
    this.incidentId = null;
    this.request = 0;
    this.refused = false; // true once the server says this role sees no cameras
    this.block = $("camera-block");
    this.list = $("cameras");
    this.status = $("camera-status");
    this.tiles = new TileArea(this, $("live-tiles"));
    this.wall = new CameraWall(this, $("camera-wall"));
    this.clips = new ClipList(this, $("clips"));
    this.layer = new CameraLayer(app.map, (id) => this.openLive(id));
    this.wallOn = localStorage.getItem(WALL_KEY) === "1";
    document.body.classList.toggle("camera-wall-on", this.wallOn);
    this.list.addEventListener("click", (e) => {
      const row = e.target.closest("li[data-camera-id]");
      if (!row) return;
      const button = e.target.closest("button[data-action]");
      if (button && button.dataset.action === "live") this.openLive(row.dataset.cameraId);
      else if (button && button.dataset.action === "pin") this.togglePin(row.dataset.cameraId);
      else this.focus(row.dataset.cameraId);
    });
    $("camera-fault-list").addEventListener("click", (e) => {
      const row = e.target.closest("li[data-camera-id]");
      if (row) this.focus(row.dataset.cameraId);
    });
    $("camera-wall-toggle").addEventListener("click", () => this.toggleWall());
    this.coverageOn = false;
    this.coverageRequest = 0;
    this.coverageLink = coverageButton(app.map.map, () => this.toggleCoverage());
    this.coverageLink.parentElement.hidden = !this.allowed;
    app.map.map.on("moveend", () => {
      if (this.coverageOn) this.loadCoverageSoon();
    });
    this.loadFaults();
  }

  /** Whether this role sees cameras (camera.read); the server checks again. */
  get allowed() {
    return this.app.can("camera.read") && !this.refused;
  }

  // ------------------------------------------------------------ the selected incident

  /** Show the cameras of an incident (null: none selected). */
  open(incidentId) {
    this.incidentId = incidentId;
    this.entries = [];
    this.layer.show([]);
    this.clips.open(incidentId);
    this.block.hidden = !incidentId || !this.allowed;
    this.render();
    if (incidentId) this.load();
  }

  async load() {
    const id = this.incidentId;
    const request = ++this.request;
    if (!id || !this.allowed) return;
    if (!this.entries.length) this._status(this.app.i18n.t("cam.loading"));
    try {
      const found = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/cameras`);
      if (request !== this.request || id !== this.incidentId) return;
      this.entries = found.cameras || [];
      for (const entry of this.entries) this._remember(entry.camera);
      this._status(null);
    } catch (exc) {
      if (request !== this.request || id !== this.incidentId) return;
      this.entries = [];
      if (exc.status === 403) {
        this.refused = true;
        this.block.hidden = true;
      } else {
        this._status(this.app.i18n.t("cam.unavailable", { error: this.app.i18n.error(exc) }), true);
      }
    }
    this.render();
    this.layer.show(this.entries);
  }

  /** Re-read the list soon (the incident moved, a camera changed): at most once a second. */
  loadSoon() {
    if (this.loadTimer) return;
    this.loadTimer = setTimeout(() => {
      this.loadTimer = 0;
      this.load();
    }, 1000);
  }

  render() {
    const { i18n } = this.app;
    if (!this.incidentId) {
      this.list.replaceChildren();
      return;
    }
    const rows = this.entries.map((entry) => this._row(entry));
    if (!rows.length && this.status.hidden) rows.push(el("li", { class: "muted" }, el("small", {}, i18n.t("cam.none"))));
    this.list.replaceChildren(...rows);
  }

  _row(entry) {
    const { i18n } = this.app;
    const camera = entry.camera;
    const why = i18n.lang === "zh-CN" ? entry.why_zh || entry.why : entry.why || entry.why_zh;
    const what = [i18n.t(`cam.kind.${camera.kind}`), camera.owner ? i18n.t(`cam.owner.${camera.owner}`) : null]
      .filter(Boolean).join(" · ");
    const pinned = this.wall.isPinned(camera.id);
    return el("li", {
      class: `cam-row ${entry.sees ? "sees" : "blind"}`,
      "data-testid": "camera-row",
      "data-camera-id": camera.id,
      "data-rank": String(entry.rank ?? ""),
      "data-sees": String(Boolean(entry.sees)),
      "data-state": camera.state,
      "data-kind": camera.kind,
    },
      el("span", { class: "cam-rank" }, String(entry.rank ?? "")),
      el("i", { class: "status-dot", style: `--sc:${stateColour(camera.state)}` }),
      el("span", { class: "grow" },
        el("b", {}, camera.name), " ", el("small", {}, what), " ",
        el("span", { class: "cam-state", "data-state": camera.state, title: camera.state_detail || "" }, stateLabel(i18n, camera)),
        el("br"),
        el("small", { class: "cam-why" }, why || (entry.sees ? i18n.t("cam.sees") : i18n.t("cam.not_sees")))),
      el("button", { type: "button", "data-action": "live", "data-testid": "open-live", textContent: i18n.t("cam.live") }),
      el("button", { type: "button", "data-action": "pin", class: pinned ? "pinned" : "", "aria-pressed": String(pinned),
        textContent: i18n.t(pinned ? "cam.wall_unpin" : "cam.wall_pin") }),
    );
  }

  _status(text, bad = false) {
    this.status.hidden = !text;
    this.status.textContent = text || "";
    this.status.classList.toggle("error", bad);
  }

  /** Open a camera's live tile, for the selected incident when it is one of its cameras. */
  openLive(cameraId) {
    const camera = this.cameras.get(cameraId);
    if (!camera) return;
    const ofIncident = this.entries.some((e) => e.camera.id === cameraId);
    const incident = ofIncident ? this.app.detail.shown : null;
    return this.tiles.open(camera, incident);
  }

  togglePin(cameraId) {
    const camera = this.cameras.get(cameraId);
    if (!camera) return;
    this.wall.togglePin(camera);
    this.render();
  }

  focus(cameraId) {
    const camera = this.cameras.get(cameraId);
    if (camera && camera.lat != null && camera.lon != null) this.app.map.focus(camera.lat, camera.lon, 16);
  }

  /** A clip was cut from a tile: listed under its incident at once. */
  clipCut(clip, camera) {
    this._remember(camera);
    this.clips.add(clip);
  }

  // ------------------------------------------------------------ offline cameras

  async loadFaults() {
    if (!this.allowed) {
      $("camera-faults").hidden = true;
      return;
    }
    try {
      const found = await this.app.api.get("/api/cameras?state=fault");
      this.faults = new Map();
      for (const camera of found.cameras || []) {
        this._remember(camera);
        this.faults.set(camera.id, camera);
      }
      $("camera-faults").hidden = false;
    } catch (exc) {
      // A role without cameras (or a server without them) shows no list at all.
      if (exc.status === 403 || exc.status === 404) $("camera-faults").hidden = true;
      return;
    }
    this.renderFaults();
  }

  loadFaultsSoon() {
    if (this.faultsTimer) return;
    this.faultsTimer = setTimeout(() => {
      this.faultsTimer = 0;
      this.loadFaults();
    }, FAULTS_RELOAD_MS);
  }

  renderFaults() {
    const { i18n } = this.app;
    const cameras = [...this.faults.values()].sort((a, b) => String(b.state_since || "").localeCompare(String(a.state_since || "")));
    $("camera-fault-count").textContent = String(cameras.length);
    $("camera-faults").dataset.count = String(cameras.length);
    const rows = cameras.map((camera) => el("li", {
      class: "fault-row",
      "data-testid": "offline-camera-row",
      "data-camera-id": camera.id,
      "data-state": camera.state,
    },
      el("i", { class: "status-dot", style: `--sc:${stateColour(camera.state)}` }),
      el("span", { class: "grow" }, el("b", {}, camera.name || camera.id), " ",
        el("small", {}, [camera.community, camera.kind ? i18n.t(`cam.kind.${camera.kind}`) : null].filter(Boolean).join(" · ")),
        camera.state_detail ? el("br") : null,
        camera.state_detail ? el("small", { class: "cam-why" }, camera.state_detail) : null),
      el("span", { class: "cam-state", "data-state": camera.state },
        stateLabel(i18n, camera), camera.state_since ? el("small", {}, ` ${i18n.time(camera.state_since)}`) : null),
    ));
    if (!rows.length) rows.push(el("li", { class: "muted" }, el("small", {}, i18n.t("faults.none"))));
    $("camera-fault-list").replaceChildren(...rows);
  }

  // ------------------------------------------------------------ live events

  onEvent(event) {
    if (event.type === "camera.state") {
      this.cameraState(event);
      return;
    }
    if (event.type === "clip.attached" && event.incident_id === this.incidentId) this.clips.load();
    if (event.incident_id && event.incident_id === this.incidentId && event.type === "incident.updated") this.loadSoon();
  }

  /** camera.state: the camera's record with its new state in `data.camera`, or the flat
   * {camera_id, state, state_label, detail, at}. */
  cameraState(event) {
    const data = event.data || {};
    let change;
    if (data.camera && data.camera.id) {
      change = { ...data.camera };
    } else {
      const d = data.camera_id ? data : event;
      if (!d.camera_id) return;
      change = { id: d.camera_id, state: d.state, state_label: d.state_label || null, state_detail: d.detail ?? null, state_since: d.at || event.ts || null };
    }
    const known = this.cameras.get(change.id);
    const camera = { ...(known || { name: change.id }), ...change };
    this.cameras.set(camera.id, camera);
    if (FAULT_STATES.has(camera.state)) {
      this.faults.set(camera.id, camera);
      if (!known) this.loadFaultsSoon(); // its name and place come with the list
    } else {
      this.faults.delete(camera.id);
    }
    this.renderFaults();
    let mine = false;
    for (const entry of this.entries) {
      if (entry.camera.id === camera.id) {
        entry.camera = { ...entry.camera, ...change };
        mine = true;
      }
    }
    if (mine) {
      this.render();
      this.layer.update(camera);
    }
    this.tiles.update(camera);
    this.wall.update(camera);
  }

  _remember(camera) {
    if (!camera || !camera.id) return;
    this.cameras.set(camera.id, { ...(this.cameras.get(camera.id) || {}), ...camera });
  }

  /** The stream reconnected: what it did not replay (camera states are not in the log) is re-read. */
  resync() {
    this.loadFaults();
    if (this.incidentId) {
      this.load();
      this.clips.load();
    }
  }

  // ------------------------------------------------------------ coverage and blind spots

  toggleCoverage() {
    this.coverageOn = !this.coverageOn;
    this.coverageLink.classList.toggle("on", this.coverageOn);
    if (this.coverageOn) {
      this.loadCoverage(true);
    } else {
      this.blind = null;
      this.layer.showCoverage(null);
    }
  }

  loadCoverageSoon() {
    clearTimeout(this.coverageTimer);
    this.coverageTimer = setTimeout(() => this.loadCoverage(false), 500);
  }

  /** The streets covered in view, and (once) the blind spots with the suggested new cameras. */
  async loadCoverage(withBlindSpots) {
    // Zoomed in, the streets in view; further out, those around the cameras (the server's default).
    const leaflet = this.app.map.map;
    const b = leaflet.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(5)).join(",");
    const query = leaflet.getZoom() >= 14 ? `?bbox=${bbox}` : "";
    const request = ++this.coverageRequest;
    try {
      const [coverage, blind] = await Promise.all([
        this.app.api.get(`/api/cameras/coverage${query}`),
        withBlindSpots || !this.blind ? this.app.api.get("/api/cameras/blind-spots?limit=10&suggest=5") : this.blind,
      ]);
      if (request !== this.coverageRequest || !this.coverageOn) return;
      this.blind = blind;
      this.layer.showCoverage(coverage, blind, this._coverageWords());
      // Switched on from far out: bring the blind spots into view (the streets follow the view).
      const spots = (blind && blind.blind_spots) || [];
      if (withBlindSpots && spots.length && leaflet.getZoom() < 14) {
        leaflet.fitBounds(spots.map((p) => [p.lat, p.lon]), { maxZoom: 16, padding: [40, 40] });
      }
    } catch (exc) {
      if (request !== this.coverageRequest) return;
      this.app.toast(this.app.i18n.error(exc), true);
      if (withBlindSpots) this.toggleCoverage();
    }
  }

  _coverageWords() {
    const { i18n } = this.app;
    return {
      spot: (s) => i18n.t("cov.spot", { rank: s.rank, label: s.label || "", m: Math.round(s.uncovered_m || 0), n: s.incidents ?? 0 }),
      suggestion: (p) => i18n.t("cov.suggestion", { m: Math.round(p.adds_m || 0) }),
    };
  }

  // ------------------------------------------------------------ the wall, languages

  /** The open incidents changed: the wall may pick other cameras. */
  incidentsChanged() {
    this.wall.incidentsChanged();
  }

  setBigScreen(on) {
    this.bigScreen = on;
    this.wall.setShown(on && this.wallOn);
  }

  toggleWall() {
    if (!this.allowed) return;
    this.wallOn = !this.wallOn;
    localStorage.setItem(WALL_KEY, this.wallOn ? "1" : "0");
    document.body.classList.toggle("camera-wall-on", this.wallOn);
    this.wall.setShown(Boolean(this.bigScreen) && this.wallOn);
    setTimeout(() => this.app.map.map.invalidateSize(), 50);
  }

  relabel() {
    this.coverageLink.textContent = this.app.i18n.t("cov.button");
    this.coverageLink.title = this.app.i18n.t("cov.title");
    if (this.coverageOn && this.blind) this.loadCoverage(false);
    this.render();
    this.renderFaults();
    this.clips.render();
    this.tiles.relabel();
    this.wall.relabel();
    if (!this.status.hidden && !this.status.classList.contains("error")) this._status(this.app.i18n.t("cam.loading"));
  }
}
