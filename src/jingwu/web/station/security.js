// 智慧安防 at the station desk: the community's cameras in reach (state, whether a facade is
// calibrated for thrown-object detection) and the recent thrown objects (高空抛物), newest first,
// each with its snapshot, floor, window, time, incident and clip. The tab keeps its own live
// connection (the desk has none): a throw.detected event puts the detection at the top at once,
// highlighted, and says so wherever the desk is.
//
// A throw's snapshot and clip come from /api/throws/{id}/…, which camera.read opens for the
// throws of the stations in reach: community officers see them without the calls' other photos.

import { LiveStream } from "/static/shared/live.js";
import { CAMERA_STATE_STRINGS } from "/static/shared/camera-states.js";
import { THROW_STRINGS, blobUrl, throwConfidence, throwHeadline, throwItems, throwWhere } from "/static/console/throws.js";

const LIMIT = 50;
const FRESH_MS = 60_000;
// A clip is cut a few seconds after the landing. Its clip.attached event reaches the city's
// viewers only (it names no camera or station), so a new detection's row is re-read until its
// clip is there.
const CLIP_POLL_MS = 4000;
const CLIP_WAIT_MS = 120_000;

const STRINGS = {
  "zh-CN": {
    ...CAMERA_STATE_STRINGS["zh-CN"],
    ...THROW_STRINGS["zh-CN"],
    "security.heading": "智慧安防",
    "security.throws": "高空抛物告警",
    "security.cameras": "辖区摄像机",
    "security.refresh": "刷新",
    "security.col.snapshot": "抓拍",
    "security.col.where": "楼层 / 窗户",
    "security.col.camera": "摄像机",
    "security.col.when": "时间",
    "security.col.incident": "警情",
    "security.col.clip": "录像",
    "security.col.name": "名称",
    "security.col.community": "小区",
    "security.col.state": "状态",
    "security.col.calibrated": "楼面标定",
    "security.calibrated": "已标定",
    "security.not_calibrated": "未标定",
    "security.no_throws": "近期没有高空抛物告警",
    "security.no_cameras": "辖区内没有摄像机",
    "security.clip": "查看录像",
    "security.clip_cutting": "截取中…",
    "security.no_access": "无权查看证据",
    "security.new": "新",
    "security.alert": "高空抛物：{camera} · {where}",
    "security.live": "实时",
    "security.offline": "实时连接已断开，正在重连…",
  },
  en: {
    ...CAMERA_STATE_STRINGS.en,
    ...THROW_STRINGS.en,
    "security.heading": "Community security",
    "security.throws": "Thrown-object alerts",
    "security.cameras": "Cameras in reach",
    "security.refresh": "Refresh",
    "security.col.snapshot": "Snapshot",
    "security.col.where": "Floor / window",
    "security.col.camera": "Camera",
    "security.col.when": "Time",
    "security.col.incident": "Incident",
    "security.col.clip": "Clip",
    "security.col.name": "Name",
    "security.col.community": "Community",
    "security.col.state": "State",
    "security.col.calibrated": "Facade",
    "security.calibrated": "calibrated",
    "security.not_calibrated": "not calibrated",
    "security.no_throws": "No thrown-object alerts lately",
    "security.no_cameras": "No cameras in reach",
    "security.clip": "Watch the clip",
    "security.clip_cutting": "being cut…",
    "security.no_access": "No access to evidence",
    "security.new": "new",
    "security.alert": "Thrown object: {camera} · {where}",
    "security.live": "Live",
    "security.offline": "The live connection dropped; reconnecting…",
  },
};

const STYLE = `
.security-desk .bar { flex-wrap: wrap; }
.security-desk h3 { margin: 16px 0 6px; font-size: 15px; }
.security-desk .live-state { font-size: 12px; color: var(--muted); }
.security-desk .live-state[data-status="live"] { color: #19c3b1; }
.security-desk .throw-thumb { width: 120px; height: 80px; object-fit: cover; border-radius: 4px; border: 1px solid var(--line); display: block; background: #000; }
.security-desk .throw-where { font-weight: 700; color: #ffd0d0; }
.security-desk tr.throw-row.fresh { background: rgba(255, 77, 79, .18); outline: 2px solid var(--bad); }
.security-desk tr.throw-row.fresh .badge { background: var(--bad); color: #fff; }
.security-desk td.clip video { width: 240px; display: block; margin-top: 4px; }
.security-desk .cam-state[data-state="online"] { color: #19c3b1; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "className") node.className = value;
    else if (key.startsWith("data-") || key === "role" || key === "colspan") node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== ""));
  return node;
}

export default {
  id: "security",
  needs: "camera.read",
  title: { "zh-CN": "智慧安防", en: "Community security" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    const evidence = true; // the tab needs camera.read, which is what the throw's evidence asks
    let cameras = [];
    let throws = [];
    const fresh = new Set(); // throw ids that came live, highlighted for a while
    const snapshots = new Map(); // attachment id → object URL | "loading" | "none"
    const clips = new Map(); // clip id → object URL
    const throwBody = el("tbody", { "data-testid": "security-throws" });
    const cameraBody = el("tbody", { "data-testid": "security-cameras" });
    const liveState = el("span", { className: "live-state", "data-testid": "security-live", "data-status": "offline" });
    const element = el(
      "section",
      { className: "security-desk" },
      el("style", {}, STYLE),
      el("div", { className: "bar" },
        el("h2", { i18n: "security.heading" }),
        liveState,
        el("button", { type: "button", className: "security-refresh", i18n: "security.refresh" })),
      el("h3", { i18n: "security.throws" }),
      el("table", { className: "list wide security-throws" },
        el("thead", {}, el("tr", {}, ...["snapshot", "where", "camera", "when", "incident", "clip"].map((c) => el("th", { i18n: `security.col.${c}` })))),
        throwBody),
      el("h3", { i18n: "security.cameras" }),
      el("table", { className: "list wide security-cameras" },
        el("thead", {}, el("tr", {}, ...["name", "community", "state", "calibrated"].map((c) => el("th", { i18n: `security.col.${c}` })))),
        cameraBody),
    );

    const when = (iso) => (iso ? new Date(iso).toLocaleString(desk.i18n.lang, { hour12: false }) : "—");
    const stateLabel = (camera) =>
      desk.i18n.lang === "zh-CN" && camera.state_label ? camera.state_label : t(`camstate.${camera.state}`);

    function renderCameras() {
      const rows = cameras.map((camera) =>
        el("tr", { "data-testid": "security-camera", "data-camera-id": camera.id, "data-state": camera.state, "data-calibrated": String(Boolean(camera.throw_calibration)) },
          el("td", {}, camera.name),
          el("td", {}, camera.community || "—"),
          el("td", {}, el("span", { className: "cam-state", "data-state": camera.state, textContent: stateLabel(camera) })),
          el("td", { textContent: t(camera.throw_calibration ? "security.calibrated" : "security.not_calibrated") })));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "4", className: "muted", textContent: t("security.no_cameras") })));
      cameraBody.replaceChildren(...rows);
    }

    function thumbnail(item) {
      const id = item.snapshot_attachment_id;
      if (!id) return el("span", { className: "muted", textContent: "—" });
      if (!evidence) return el("small", { className: "muted", "data-testid": "security-no-access", textContent: t("security.no_access") });
      const known = snapshots.get(id);
      if (!known) loadSnapshot(id, item.id);
      if (!known || known === "loading") return el("small", { className: "muted", textContent: t("throw.snapshot_loading") });
      if (known === "none") return el("small", { className: "muted", textContent: t("throw.snapshot_none") });
      return el("a", { href: known, target: "_blank" },
        el("img", { className: "throw-thumb", src: known, alt: t("throw.snapshot"), title: t("throw.snapshot"), "data-testid": "security-snapshot" }));
    }

    async function loadSnapshot(id, throwId) {
      snapshots.set(id, "loading");
      try {
        snapshots.set(id, await blobUrl(desk.api, `/api/throws/${encodeURIComponent(throwId)}/snapshot.jpg`));
      } catch {
        snapshots.set(id, "none");
      }
      renderThrows();
    }

    function clipCell(item) {
      const cell = el("td", { className: "clip" });
      if (!item.clip_id) {
        cell.append(el("small", { className: "muted", "data-testid": "security-clip-cutting", textContent: t("security.clip_cutting") }));
        return cell;
      }
      if (!evidence) {
        cell.append(el("small", { className: "muted", textContent: t("security.no_access") }));
        return cell;
      }
      const url = clips.get(item.clip_id);
      cell.append(el("button", { type: "button", className: "link", "data-action": "clip", "data-testid": "security-clip", textContent: t("security.clip") }));
      if (url) {
        cell.append(el("video", { src: url, controls: true, preload: "metadata", "data-testid": "security-clip-video" }),
          el("a", { href: url, download: `${item.incident_id}-${item.clip_id}.mp4`, textContent: t("throw.clip_download") }));
      }
      return cell;
    }

    function renderThrows() {
      const items = [...throws].sort((a, b) => String(b.detected_at).localeCompare(String(a.detected_at)));
      const rows = items.map((item) => {
        const isNew = fresh.has(item.id);
        const row = el("tr", {
          className: `throw-row${isNew ? " fresh" : ""}`,
          "data-testid": "security-throw",
          "data-throw-id": item.id,
          "data-incident-id": item.incident_id || "",
          "data-clip-id": item.clip_id || "",
          "data-fresh": String(isNew),
        },
          el("td", {}, thumbnail(item)),
          el("td", {},
            isNew ? el("span", { className: "badge", textContent: t("security.new") }) : null, isNew ? " " : null,
            el("span", { className: "throw-where", "data-testid": "security-where", textContent: throwHeadline(desk.i18n, item) }),
            el("div", { className: "muted", textContent: throwConfidence(desk.i18n, item) })),
          el("td", {}, item.camera_name || item.camera_id || "", el("div", { className: "muted", textContent: item.community || "" })),
          el("td", { textContent: when(item.detected_at) }),
          el("td", { "data-testid": "security-incident", textContent: item.incident_id || "—" }),
          clipCell(item));
        return row;
      });
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "6", className: "muted", textContent: t("security.no_throws") })));
      throwBody.replaceChildren(...rows);
    }

    function render() {
      desk.i18n.apply(element);
      liveState.textContent = t(live && live.status === "live" ? "security.live" : live ? "security.offline" : "");
      liveState.hidden = !live;
      renderThrows();
      renderCameras();
    }

    async function refresh() {
      const [foundCameras, foundThrows] = await Promise.all([
        desk.api.get("/api/cameras"),
        desk.api.get(`/api/throws?limit=${LIMIT}`),
      ]);
      cameras = foundCameras.cameras || [];
      merge(throwItems(foundThrows));
      render();
    }

    /** The server's list over ours: a detection that came live and is not in it yet stays, and
     * a clip learnt from an event is kept until the server knows it too. */
    function merge(loaded) {
      const byId = new Map(throws.map((x) => [x.id, x]));
      for (const x of loaded) {
        const held = byId.get(x.id);
        byId.set(x.id, { ...(held || {}), ...x, clip_id: x.clip_id || (held && held.clip_id) || null });
      }
      throws = [...byId.values()];
    }

    let polling = 0;
    let polls = 0;
    function waitForClips() {
      if (polling) return;
      polls = 0;
      const tick = async () => {
        polling = 0;
        const waiting = throws.some((x) => !x.clip_id && Date.now() - Date.parse(x.landed_at || x.detected_at) < CLIP_WAIT_MS);
        if (!waiting || polls++ > CLIP_WAIT_MS / CLIP_POLL_MS) return;
        try {
          merge(throwItems(await desk.api.get(`/api/throws?limit=${LIMIT}`)));
          renderThrows();
        } catch {
          // the next tick tries again
        }
        polling = setTimeout(tick, CLIP_POLL_MS);
      };
      polling = setTimeout(tick, CLIP_POLL_MS);
    }

    function arrived(item) {
      const known = throws.findIndex((x) => x.id === item.id);
      if (known >= 0) throws[known] = { ...throws[known], ...item, clip_id: item.clip_id || throws[known].clip_id || null };
      else throws.unshift(item);
      fresh.add(item.id);
      setTimeout(() => {
        fresh.delete(item.id);
        renderThrows();
      }, FRESH_MS);
      renderThrows();
      if (!item.clip_id) waitForClips();
      desk.notice(t("security.alert", { camera: item.camera_name || item.camera_id || "", where: throwWhere(desk.i18n, item) }));
    }

    function onEvent(event) {
      const data = event.data || {};
      if (event.type === "throw.detected" && data.throw) arrived(data.throw);
      else if (event.type === "clip.attached" && data.clip) {
        const clip = data.clip;
        let changed = false;
        for (const item of throws) {
          if (!item.clip_id && item.incident_id === (clip.incident_id || event.incident_id) && item.camera_id === clip.camera_id) {
            item.clip_id = clip.id;
            changed = true;
          }
        }
        if (changed) renderThrows();
      } else if (event.type === "camera.state" && data.camera && data.camera.id) {
        const i = cameras.findIndex((c) => c.id === data.camera.id);
        if (i >= 0) {
          cameras[i] = { ...cameras[i], ...data.camera };
          renderCameras();
        }
      }
    }

    throwBody.addEventListener("click", async (e) => {
      const button = e.target.closest("button[data-action=clip]");
      if (!button) return;
      const row = button.closest("tr");
      const id = row.dataset.clipId;
      try {
        if (!clips.has(id)) clips.set(id, await blobUrl(desk.api, `/api/throws/${encodeURIComponent(row.dataset.throwId)}/clip`));
        renderThrows();
      } catch (exc) {
        desk.notice(exc.status === 403 ? t("security.no_access") : String(exc.message || exc));
      }
    });
    element.querySelector(".security-refresh").addEventListener("click", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));

    // The desk has no live stream of its own; this tab keeps one while the page lives.
    let live = null;
    if (desk.permissions.has("live.read")) {
      live = new LiveStream(desk.api, {
        onEvent,
        onStatus: (status) => {
          liveState.dataset.status = status;
          liveState.textContent = t(status === "live" ? "security.live" : "security.offline");
        },
        // Reconnected: what happened meanwhile is replayed; a reset reloads the lists.
        onResync: (why) => (why === "reset" && cameras.length + throws.length ? refresh().catch(() => {}) : undefined),
        onUnauthenticated: () => desk.showLogin(),
      });
      live.start(null);
    }
    render();
    return { element, refresh, render };
  },
};
