// Live camera tiles: one <video> per camera, played over MSE by /static/shared/liveview.js (which
// reconnects by itself), with its state shown on the tile; tiles opened for an incident carry the
// "cut clip" control (截取录像). Two places hold tiles: the desk's tiled area over the map, closed
// tile by tile, and the big screen's camera wall (视频墙) of the open P1/P2 incidents' cameras.

import { stateLabel } from "./camera-strings.js";

const MAX_DESK_TILES = 6;
const WALL_SIZES = [1, 4, 9]; // 1×1, 2×2, 3×3
const WALL_REFRESH_MS = 60_000;
const WALL_PINS_KEY = "jingwu.console.wall";
const CLIP_BEFORE_S = 30;
const CLIP_AROUND_AFTER_S = 60;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined && child !== "") node.append(child);
  return node;
}

/** The live view's WebSocket URL (the token rides in the query: browsers send no headers there). */
export function liveUrl(api, cameraId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams({ access_token: api.token || "" });
  return `${scheme}://${location.host}/api/cameras/${encodeURIComponent(cameraId)}/live?${query}`;
}

let player = null; // the shared player module, loaded once on first use
function loadPlayer() {
  player ||= import("/static/shared/liveview.js").catch((exc) => {
    player = null; // try again with the next tile
    throw exc;
  });
  return player;
}

/** One camera's live picture. `incident` (a view) adds the clip control, whose clips go to
 * `desk.clipCut`; `onClose(tile)` when the tile is closed by its × button. */
export class LiveTile {
  constructor(desk, camera, { incident = null, onClose = null, closable = true, note = "" } = {}) {
    this.desk = desk;
    this.app = desk.app;
    this.camera = camera;
    this.incidentId = incident ? incident.id : null;
    this.incidentCreated = incident ? incident.created_at : null;
    this.onClose = onClose;
    this.view = null;
    this.closed = false;
    this.liveState = "connecting";
    this.stats = null;
    const { i18n } = this.app;
    this.nameNode = el("b", { class: "tile-name" });
    this.noteNode = el("small", { class: "tile-note" }, note);
    this.stateNode = el("span", { class: "tile-state" });
    this.statsNode = el("small", { class: "tile-stats" });
    this.video = el("video", { muted: true, autoplay: true, playsInline: true });
    this.video.setAttribute("muted", "");
    this.message = el("p", { class: "tile-msg", role: "status" });
    this.message.hidden = true;
    this.closeButton = closable
      ? el("button", { type: "button", class: "tile-close", "data-action": "close-tile", textContent: "×", title: i18n.t("live.close") })
      : null;
    if (this.closeButton) this.closeButton.addEventListener("click", () => this.close(true));
    this.element = el("div", { class: "live-tile", "data-testid": "live-tile", "data-camera-id": camera.id, "data-state": "connecting" },
      el("header", {}, this.nameNode, this.noteNode, this.stateNode, this.closeButton),
      el("div", { class: "tile-video" }, this.video, this.statsNode),
      this.incidentId && this.app.can("attachment.write") ? this._clipForm() : null,
      this.message,
    );
    this.relabel();
    this._poster();
    this._play();
  }

  _clipForm() {
    this.mode = el("select", { class: "clip-mode", "data-field": "mode" },
      el("option", { value: "now" }), el("option", { value: "created" }));
    this.before = el("input", { type: "number", min: "0", max: "600", step: "1", value: String(CLIP_BEFORE_S), class: "clip-s", "data-field": "before" });
    this.after = el("input", { type: "number", min: "0", max: "600", step: "1", value: "0", class: "clip-s", "data-field": "after" });
    this.beforeLabel = el("span");
    this.afterLabel = el("span");
    this.cutButton = el("button", { type: "submit", class: "primary", "data-testid": "cut-clip", "data-action": "cut-clip" });
    this.mode.addEventListener("change", () => {
      // At the call: a minute either side of the creation time; now: the last 30 s.
      const around = this.mode.value === "created";
      this.after.disabled = !around;
      this.after.value = around ? String(CLIP_AROUND_AFTER_S) : "0";
    });
    this.after.disabled = true;
    const form = el("form", { class: "clip-form" }, this.mode,
      el("label", {}, this.beforeLabel, this.before), el("label", {}, this.afterLabel, this.after), this.cutButton);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.cutClip();
    });
    return form;
  }

  relabel() {
    const { i18n } = this.app;
    this.nameNode.textContent = this.camera.name;
    this.nameNode.title = `${this.camera.name} · ${stateLabel(i18n, this.camera)}`;
    this.element.dataset.cameraState = this.camera.state;
    const key = `live.${this.liveState}`;
    const other = `camstate.${this.liveState}`;
    const said = i18n.t(key) !== key ? i18n.t(key) : i18n.t(other) !== other ? i18n.t(other) : this.liveState;
    this.stateNode.textContent = said;
    // The registry's verdict, when it has none of a picture, is worth more than "connecting".
    const registry = this.camera.state;
    if (this.liveState !== "live" && registry && registry !== this.liveState && registry !== "online" && registry !== "unknown") {
      this.stateNode.textContent += ` · ${stateLabel(i18n, this.camera)}`;
    }
    if (this.closeButton) this.closeButton.title = i18n.t("live.close");
    if (this.cutButton) {
      this.cutButton.textContent = i18n.t(this.cutting ? "clip.cutting" : "clip.cut");
      this.mode.options[0].textContent = i18n.t("clip.mode.now");
      this.mode.options[1].textContent = i18n.t("clip.mode.created");
      this.beforeLabel.textContent = i18n.t("clip.before");
      this.afterLabel.textContent = i18n.t("clip.after");
    }
    this._renderStats();
  }

  /** The registry's record of the camera changed (a camera.state event). */
  update(camera) {
    this.camera = { ...this.camera, ...camera };
    this.relabel();
  }

  async _play() {
    let module;
    try {
      module = await loadPlayer();
    } catch {
      this._setState("no_player");
      return;
    }
    if (this.closed) return;
    try {
      this.view = module.openLiveView(this.video, liveUrl(this.app.api, this.camera.id), {
        onState: (state, detail) => this._setState(state, detail),
        onStats: (stats) => {
          this.stats = stats;
          this._renderStats();
        },
      });
    } catch (exc) {
      this._setState("unsupported");
      this._say(exc && exc.message ? exc.message : String(exc), true);
    }
  }

  /** The latest snapshot as the video's poster while it connects (best effort). */
  async _poster() {
    if (this.camera.state !== "online") return;
    try {
      const response = await fetch(`/api/cameras/${encodeURIComponent(this.camera.id)}/snapshot.jpg`, {
        headers: { Authorization: `Bearer ${this.app.api.token}` },
        cache: "no-store",
      });
      if (!response.ok || this.closed) return;
      this.posterUrl = URL.createObjectURL(await response.blob());
      if (!this.closed) this.video.poster = this.posterUrl;
    } catch {
      // No picture yet: the tile stays dark until the stream starts.
    }
  }

  _setState(state, detail = "") {
    if (this.closed) return;
    this.liveState = String(state || "connecting");
    this.element.dataset.state = this.liveState;
    this.stateNode.title = detail || "";
    this.relabel();
  }

  _renderStats() {
    const s = this.stats;
    if (!s || this.liveState !== "live") {
      this.statsNode.textContent = "";
      return;
    }
    const { i18n } = this.app;
    const parts = [];
    // The bit rate over the time between two reports (the player counts bytes received).
    const now = performance.now();
    if (s.bytes != null && this.lastBytes != null && now > this.lastAt) {
      this.kbps = ((s.bytes - this.lastBytes) * 8) / (now - this.lastAt);
    }
    if (s.bytes != null && s !== this.countedStats) {
      this.countedStats = s;
      this.lastBytes = s.bytes;
      this.lastAt = now;
    }
    if (this.kbps != null && this.kbps >= 0) parts.push(i18n.t("live.kbps", { n: Math.round(this.kbps) }));
    const lagMs = s.lagS != null ? s.lagS * 1000 : s.latency_ms;
    if (lagMs != null) parts.push(i18n.t("live.latency", { n: Math.round(lagMs) }));
    this.statsNode.textContent = parts.join(" · ");
  }

  /** The range asked for: [from, to] as Date, or null when it makes no sense. */
  clipRange() {
    const before = Number(this.before.value);
    const after = Number(this.after.value);
    if (!Number.isFinite(before) || !Number.isFinite(after) || before < 0 || after < 0) return null;
    const now = Date.now();
    let from;
    let to;
    if (this.mode.value === "created" && this.incidentCreated) {
      const at = Date.parse(this.incidentCreated);
      from = at - before * 1000;
      to = Math.min(at + after * 1000, now); // never in the future
    } else {
      from = now - before * 1000;
      to = now;
    }
    return to > from ? [new Date(from), new Date(to)] : null;
  }

  async cutClip() {
    if (this.cutting || !this.incidentId) return;
    const range = this.clipRange();
    const { i18n } = this.app;
    if (!range) {
      this._say(i18n.t("clip.bad_range"), true);
      return;
    }
    this.cutting = true;
    this.cutButton.disabled = true;
    this.relabel();
    this._say(null);
    try {
      const clip = await this.app.api.post(`/api/incidents/${encodeURIComponent(this.incidentId)}/clips`, {
        camera_id: this.camera.id,
        from: range[0].toISOString(),
        to: range[1].toISOString(),
      });
      this.desk.clipCut(clip, this.camera);
      this._say(i18n.t("clip.done", { id: this.incidentId }));
    } catch (exc) {
      this._say(i18n.error(exc), true);
    } finally {
      this.cutting = false;
      if (this.cutButton) this.cutButton.disabled = false;
      this.relabel();
    }
  }

  _say(text, bad = false) {
    this.message.hidden = !text;
    this.message.textContent = text || "";
    this.message.classList.toggle("bad", bad);
    clearTimeout(this.sayTimer);
    if (text && !bad) this.sayTimer = setTimeout(() => (this.message.hidden = true), 6000);
  }

  close(byUser = false) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.sayTimer);
    if (this.view) {
      try {
        this.view.close();
      } catch {
        // a player already gone
      }
    }
    this.view = null;
    this.video.removeAttribute("src");
    this.video.load();
    if (this.posterUrl) URL.revokeObjectURL(this.posterUrl);
    this.element.remove();
    if (byUser && this.onClose) this.onClose(this);
  }
}

/** The desk's tiled area over the map: several cameras at once, each closed by its own ×. */
export class TileArea {
  constructor(desk, element) {
    this.desk = desk;
    this.element = element;
    this.tiles = [];
  }

  /** Open (or bring forward) a camera's tile for an incident. */
  open(camera, incident) {
    const known = this.tiles.find((t) => t.camera.id === camera.id && t.incidentId === (incident ? incident.id : null));
    if (known) {
      known.element.classList.remove("flash");
      void known.element.offsetWidth; // restart the animation
      known.element.classList.add("flash");
      return known;
    }
    const note = incident ? this.desk.app.i18n.t("live.incident", { id: incident.id }) : "";
    const tile = new LiveTile(this.desk, camera, { incident, note, onClose: (t) => this._closed(t) });
    this.tiles.push(tile);
    this.element.append(tile.element);
    while (this.tiles.length > MAX_DESK_TILES) this.tiles.shift().close();
    this._layout();
    return tile;
  }

  _closed(tile) {
    this.tiles = this.tiles.filter((t) => t !== tile);
    this._layout();
  }

  closeAll() {
    for (const tile of this.tiles) tile.close();
    this.tiles = [];
    this._layout();
  }

  _layout() {
    this.element.hidden = this.tiles.length === 0;
    this.element.dataset.count = String(this.tiles.length);
  }

  update(camera) {
    for (const tile of this.tiles) if (tile.camera.id === camera.id) tile.update(camera);
  }

  relabel() {
    for (const tile of this.tiles) {
      if (tile.incidentId) tile.noteNode.textContent = this.desk.app.i18n.t("live.incident", { id: tile.incidentId });
      tile.relabel();
    }
  }
}

/** The big screen's camera wall: the dispatcher's pinned cameras first, then the best camera of
 * each open P1/P2 incident (most urgent, newest first), in a 2×2 or 3×3 grid. Tiles are kept
 * across refreshes, so a camera still on the wall is never reconnected. */
export class CameraWall {
  constructor(desk, element) {
    this.desk = desk;
    this.app = desk.app;
    this.element = element;
    this.grid = element.querySelector(".wall-grid");
    this.empty = element.querySelector(".wall-empty");
    this.tiles = new Map(); // camera id → LiveTile
    this.shown = false;
    this.timer = 0;
    this.request = 0;
    this.pins = this._loadPins();
  }

  _loadPins() {
    try {
      const pins = JSON.parse(localStorage.getItem(WALL_PINS_KEY) || "[]");
      return Array.isArray(pins) ? pins.filter((p) => p && p.id) : [];
    } catch {
      return [];
    }
  }

  isPinned(cameraId) {
    return this.pins.some((p) => p.id === cameraId);
  }

  /** Pin a camera to the wall (or take it off): kept in this browser. */
  togglePin(camera) {
    if (this.isPinned(camera.id)) this.pins = this.pins.filter((p) => p.id !== camera.id);
    else this.pins = [{ id: camera.id, name: camera.name, state: camera.state }, ...this.pins].slice(0, 9);
    localStorage.setItem(WALL_PINS_KEY, JSON.stringify(this.pins));
    if (this.shown) this.refresh();
  }

  /** Shown on the big screen only; hidden, every stream is closed (a wall nobody sees costs). */
  setShown(shown) {
    if (shown === this.shown) return;
    this.shown = shown;
    this.element.hidden = !shown;
    clearInterval(this.timer);
    if (shown) {
      this.refresh();
      this.timer = setInterval(() => this.refresh(), WALL_REFRESH_MS);
    } else {
      for (const tile of this.tiles.values()) tile.close();
      this.tiles.clear();
      this.incidentsKey = null;
    }
  }

  /** The open P1/P2 incidents changed: pick again (at most once every few seconds). */
  incidentsChanged() {
    if (!this.shown || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = 0;
      if (this._urgent().map((i) => i.id).join() !== this.incidentsKey) this.refresh();
    }, 3000);
  }

  _urgent() {
    return this.app.state.queue().filter((i) => i.priority <= 2).slice(0, 9);
  }

  async refresh() {
    if (!this.shown) return;
    const request = ++this.request;
    const urgent = this._urgent();
    this.incidentsKey = urgent.map((i) => i.id).join();
    const chosen = new Map();
    for (const pin of this.pins) chosen.set(pin.id, { camera: { state: "unknown", ...pin }, note: this.app.i18n.t("wall.pinned") });
    const lists = await Promise.all(urgent.map((incident) =>
      this.app.api.get(`/api/incidents/${encodeURIComponent(incident.id)}/cameras`).then(
        (found) => [incident, found.cameras || []],
        () => [incident, []],
      )));
    if (request !== this.request || !this.shown) return;
    for (const [incident, entries] of lists) {
      if (chosen.size >= 9) break;
      // The first camera that sees the scene with a picture; else the first with a picture.
      const usable = entries.filter((e) => !chosen.has(e.camera.id) && ["online", "unknown"].includes(e.camera.state));
      const best = usable.find((e) => e.sees) || usable[0];
      if (best) chosen.set(best.camera.id, { camera: best.camera, note: `${this.app.i18n.t(`priority.${incident.priority}`)} · ${this.app.typeName(incident.type_code)}` });
    }
    for (const pin of this.pins) {
      const known = this.desk.cameras.get(pin.id);
      if (known) chosen.get(pin.id).camera = known;
    }
    this._show([...chosen.values()].slice(0, 9));
  }

  _show(entries) {
    const wanted = new Set(entries.map((e) => e.camera.id));
    for (const [id, tile] of this.tiles) {
      if (!wanted.has(id)) {
        tile.close();
        this.tiles.delete(id);
      }
    }
    const ordered = [];
    for (const { camera, note } of entries) {
      let tile = this.tiles.get(camera.id);
      if (!tile) {
        tile = new LiveTile(this.desk, camera, { note, closable: false });
        this.tiles.set(camera.id, tile);
      } else {
        tile.noteNode.textContent = note;
      }
      ordered.push(tile.element);
    }
    this.grid.replaceChildren(...ordered);
    const size = WALL_SIZES.find((n) => n >= entries.length) || 9;
    this.grid.dataset.size = String(size);
    this.empty.hidden = entries.length > 0;
  }

  update(camera) {
    const tile = this.tiles.get(camera.id);
    if (tile) tile.update(camera);
  }

  relabel() {
    this.element.querySelector("h2").textContent = this.app.i18n.t("wall.title");
    this.empty.textContent = this.app.i18n.t("wall.empty");
    for (const tile of this.tiles.values()) tile.relabel();
  }
}
