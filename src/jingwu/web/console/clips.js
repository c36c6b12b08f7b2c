// The selected incident's video clips (录像片段): each with its camera, its stretch of time, the
// first 12 hex of its SHA-256 and its size; played in place or downloaded. Clips need the bearer
// token, so they are fetched as blobs, never linked.

import { el } from "./camera-grid.js";
import { sizeText } from "./camera-strings.js";

export class ClipList {
  constructor(desk, list) {
    this.desk = desk;
    this.app = desk.app;
    this.list = list;
    this.incidentId = null;
    this.clips = [];
    this.urls = new Map(); // clip id → object URL
    this.playing = new Set();
    this.request = 0;
    list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (!button) return;
      const id = button.closest("li").dataset.clipId;
      if (button.dataset.action === "play-clip") this.toggle(id);
      if (button.dataset.action === "download-clip") this.download(id);
    });
  }

  open(incidentId) {
    this._forget();
    this.incidentId = incidentId;
    this.clips = [];
    const readable = this.app.can("attachment.read");
    this.list.hidden = !readable;
    if (this.list.previousElementSibling) this.list.previousElementSibling.hidden = !readable;
    this.render();
    if (incidentId) this.load();
  }

  async load() {
    const id = this.incidentId;
    if (!id || !this.app.can("attachment.read")) return;
    const request = ++this.request;
    try {
      const found = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/clips`);
      if (request !== this.request || id !== this.incidentId) return;
      this.clips = found.clips || [];
      this.render();
    } catch (exc) {
      if (request !== this.request) return;
      this.clips = [];
      this.render();
    }
  }

  /** A clip just cut (the answer to the POST): shown at once, before the event comes. */
  add(clip) {
    if (clip.incident_id !== this.incidentId || this.clips.some((c) => c.id === clip.id)) return;
    this.clips.push(clip);
    this.render();
  }

  render() {
    const { i18n } = this.app;
    const rows = this.clips.map((clip) => {
      const camera = this.desk.cameras.get(clip.camera_id);
      const hash = (clip.sha256 || "").slice(0, 12);
      const open = this.playing.has(clip.id);
      const li = el("li", { class: "clip-row", "data-testid": "clip-row", "data-clip-id": clip.id, "data-sha256": clip.sha256 || "" },
        el("div", { class: "clip-head" },
          el("span", { class: "grow" }, el("b", {}, camera ? camera.name : clip.camera_id), " ",
            el("small", {}, `${i18n.time(clip.from)}–${i18n.time(clip.to)}`
              + (clip.duration_s != null ? ` · ${i18n.clock(clip.duration_s)}` : "")), el("br"),
            el("small", { class: "clip-hash", title: clip.sha256 || "" }, i18n.t("clip.hash", { hash })),
            el("small", { class: "clip-size" }, ` · ${sizeText(i18n, clip.size)}`)),
          el("button", { type: "button", "data-action": "play-clip", textContent: i18n.t(open ? "clip.hide" : "clip.play") }),
          el("button", { type: "button", "data-action": "download-clip", textContent: i18n.t("clip.download") })),
      );
      if (open && this.urls.has(clip.id)) {
        li.append(el("video", { class: "clip-video", controls: true, src: this.urls.get(clip.id), preload: "metadata" }));
      }
      return li;
    });
    if (!rows.length) rows.push(el("li", { class: "muted" }, el("small", {}, i18n.t("clip.none"))));
    this.list.replaceChildren(...rows);
  }

  async _blobUrl(clip) {
    if (this.urls.has(clip.id)) return this.urls.get(clip.id);
    const path = clip.url || `/api/clips/${encodeURIComponent(clip.id)}`;
    const response = await fetch(path, { headers: { Authorization: `Bearer ${this.app.api.token}` } });
    if (!response.ok) throw Object.assign(new Error(response.statusText), { code: `http_${response.status}` });
    const url = URL.createObjectURL(await response.blob());
    this.urls.set(clip.id, url);
    return url;
  }

  async toggle(id) {
    const clip = this.clips.find((c) => c.id === id);
    if (!clip) return;
    if (this.playing.has(id)) {
      this.playing.delete(id);
      this.render();
      return;
    }
    try {
      await this._blobUrl(clip);
    } catch (exc) {
      this.app.toast(this.app.i18n.error(exc), true);
      return;
    }
    if (clip.incident_id && clip.incident_id !== this.incidentId) return;
    this.playing.add(id);
    this.render();
  }

  async download(id) {
    const clip = this.clips.find((c) => c.id === id);
    if (!clip) return;
    try {
      const url = await this._blobUrl(clip);
      const link = el("a", { href: url, download: `${clip.incident_id || this.incidentId}-${clip.camera_id}-${(clip.sha256 || clip.id).slice(0, 12)}.mp4` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (exc) {
      this.app.toast(this.app.i18n.error(exc), true);
    }
  }

  _forget() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
    this.playing.clear();
  }
}
