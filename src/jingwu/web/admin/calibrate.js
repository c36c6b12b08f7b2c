// Facade calibration for thrown-object detection (高空抛物): drawn on a still frame of a fixed
// camera at the foot of a tower. The admin clicks the wall's four corners (bottom-left,
// bottom-right, top-right, top-left), drags them to fit, types the floors, window columns, floor
// height and balcony depth, and sees the floor lines and the columns' centre lines drawn through
// the outline's perspective, so that a mismatch with the real windows shows before saving. The
// column lines can be dragged onto the windows. Saved as PUT /api/cameras/{id}/calibration in the
// video's own pixels (the snapshot's natural size); the server checks it and says what is wrong.

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const CORNERS = ["bl", "br", "tr", "tl"];
const DEFAULT_FLOOR_HEIGHT_M = 2.9;
const HANDLE_PX = 8; // a corner handle's radius on the screen
const MIN_GAP = 0.01; // two column lines stay this far apart (a fraction of the wall's width)

export const CALIBRATE_STRINGS = {
  "zh-CN": {
    "btn.calibrate": "标定楼面",
    "cam.calibrated": "已标定楼面",
    "calib.title": "标定楼面：{name}",
    "calib.click.bl": "点击左下角",
    "calib.click.br": "点击右下角",
    "calib.click.tr": "点击右上角",
    "calib.click.tl": "点击左上角",
    "calib.progress": "（第 {n}/4 个角）：依次为左下、右下、右上、左上，可点在画面外",
    "calib.adjust": "拖动角点对准楼面四角；楼层线和列线应与窗户对齐，可拖动列线对准每列窗户的中线",
    "calib.loading": "正在读取画面…",
    "calib.no_picture": "该摄像机当前没有画面（{state}），无法在静止画面上标定；请在摄像机在线后再试。",
    "calib.floors": "楼层数",
    "calib.columns": "窗户列数",
    "calib.floor_height": "层高（米）",
    "calib.depth": "阳台进深（米）",
    "calib.centres": "列中线",
    "calib.centres.even": "均匀分布",
    "calib.centres.custom": "已手动调整",
    "calib.centres.reset": "恢复均匀",
    "calib.hint": "楼层从地面起算（1 层为地面层），窗户列从画面左侧起算。",
    "calib.redraw": "重新点选四角",
    "calib.reload": "刷新画面",
    "calib.save": "保存标定",
    "calib.remove": "删除标定",
    "calib.close": "关闭",
    "calib.saved": "楼面标定已保存",
    "calib.removed": "楼面标定已删除",
    "calib.confirm_remove": "确定删除 {name} 的楼面标定？该摄像机将不再检测高空抛物。",
    "calib.need_corners": "请先点选楼面的四个角",
    "calib.floor_label": "{n}",
    "calib.column_label": "{n}",
    "error.calibration_invalid": "标定无效：{message}",
    "error.camera_wrong_way": "摄像机方向不对：{message}",
    "error.camera_unavailable": "摄像机当前没有画面：{message}",
  },
  en: {
    "btn.calibrate": "Calibrate facade",
    "cam.calibrated": "facade calibrated",
    "calib.title": "Calibrate the facade: {name}",
    "calib.click.bl": "Click the bottom-left corner",
    "calib.click.br": "Click the bottom-right corner",
    "calib.click.tr": "Click the top-right corner",
    "calib.click.tl": "Click the top-left corner",
    "calib.progress": "(corner {n} of 4): the wall's corners go bottom-left, bottom-right, top-right, top-left; you may click outside the picture",
    "calib.adjust": "Drag the corners onto the wall's corners; the floor and column lines should meet the windows; drag a column line onto its windows' centre",
    "calib.loading": "Fetching the picture…",
    "calib.no_picture": "This camera has no picture now ({state}): a facade is calibrated on a still frame; try again once the camera is online.",
    "calib.floors": "Floors",
    "calib.columns": "Window columns",
    "calib.floor_height": "Floor height (m)",
    "calib.depth": "Balcony depth (m)",
    "calib.centres": "Column centres",
    "calib.centres.even": "evenly spaced",
    "calib.centres.custom": "adjusted by hand",
    "calib.centres.reset": "Space evenly",
    "calib.hint": "Floors count from the ground (1 = ground floor); window columns from the left of the picture.",
    "calib.redraw": "Click the corners again",
    "calib.reload": "Fetch a new picture",
    "calib.save": "Save calibration",
    "calib.remove": "Remove calibration",
    "calib.close": "Close",
    "calib.saved": "Facade calibration saved",
    "calib.removed": "Facade calibration removed",
    "calib.confirm_remove": "Remove the facade calibration of {name}? The camera will no longer watch for thrown objects.",
    "calib.need_corners": "Click the wall's four corners first",
    "calib.floor_label": "{n}",
    "calib.column_label": "{n}",
    "error.calibration_invalid": "Invalid calibration: {message}",
    "error.camera_wrong_way": "The camera looks the wrong way: {message}",
    "error.camera_unavailable": "The camera has no picture now: {message}",
  },
};

// ------------------------------------------------------------------ the perspective

/** Solve A x = b (n × n, Gaussian elimination with partial pivoting); null when singular. */
export function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < n; r += 1) if (Math.abs(M[r][col]) > Math.abs(M[pivot][col])) pivot = r;
    if (Math.abs(M[pivot][col]) < 1e-12) return null;
    [M[col], M[pivot]] = [M[pivot], M[col]];
    for (let r = 0; r < n; r += 1) {
      if (r === col) continue;
      const f = M[r][col] / M[col][col];
      for (let c = col; c <= n; c += 1) M[r][c] -= f * M[col][c];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

/**
 * The homography taking the unit square of the wall — (s, y), s across from the left end, y up
 * from the ground — onto the outline [bl, br, tr, tl] in pixels: (0,0) → bl, (1,0) → br,
 * (1,1) → tr, (0,1) → tl. A 3×3 matrix (rows), or null for a degenerate outline.
 */
export function homography(quad) {
  const square = [[0, 0], [1, 0], [1, 1], [0, 1]];
  const A = [];
  const b = [];
  square.forEach(([x, y], i) => {
    const [u, v] = quad[i];
    A.push([x, y, 1, 0, 0, 0, -x * u, -y * u]);
    b.push(u);
    A.push([0, 0, 0, x, y, 1, -x * v, -y * v]);
    b.push(v);
  });
  const h = solve(A, b);
  if (!h || h.some((x) => !Number.isFinite(x))) return null;
  return [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1]];
}

/** Where the wall's (s, y) lies in the picture. */
export function project(H, s, y) {
  const w = H[2][0] * s + H[2][1] * y + H[2][2];
  return [(H[0][0] * s + H[0][1] * y + H[0][2]) / w, (H[1][0] * s + H[1][1] * y + H[1][2]) / w];
}

/** The 3×3 inverse (the picture back onto the wall); null when singular. */
export function invert(H) {
  const [[a, b, c], [d, e, f], [g, h, i]] = H;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) return null;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Evenly spaced column centres, as fractions of the wall's width. */
export function evenCentres(columns) {
  return Array.from({ length: columns }, (_, i) => (i + 0.5) / columns);
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key === "role" || key === "for") node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ------------------------------------------------------------------ the panel

export class Calibrator {
  /** @param tab the Cameras tab (its admin, and refresh() after a change) */
  constructor(tab) {
    this.tab = tab;
    this.admin = tab.admin;
    this.camera = null;
    this.corners = []; // [u, v] in the video's pixels, in the order bl, br, tr, tl
    this.centres = null; // column centres as fractions, or null: evenly spaced
    this.drag = null;
    this.pictureUrl = null;
    this.request = 0;
    this._styles();
    this._build();
  }

  _styles() {
    if (document.querySelector('link[href="/static/admin/calibrate.css"]')) return;
    document.head.append(el("link", { rel: "stylesheet", href: "/static/admin/calibrate.css" }));
  }

  _build() {
    const field = (name, key, attrs) => el("label", {},
      el("span", { "data-calib-i18n": key }), el("input", { name, type: "number", required: true, ...attrs }));
    this.title = el("h3", { id: "calib-title" });
    this.prompt = el("p", { class: "calib-prompt", "data-testid": "calib-prompt", role: "status" });
    this.img = el("img", { class: "calib-img", alt: "", draggable: false });
    this.overlay = svg("svg", { class: "calib-overlay", "data-testid": "calib-overlay" });
    this.stage = el("div", { class: "calib-stage", "data-testid": "calib-stage" }, this.img);
    this.stage.append(this.overlay);
    this.missing = el("p", { class: "calib-missing", "data-testid": "calib-no-picture", role: "status", hidden: true });
    this.centresText = el("span", { class: "muted", "data-testid": "calib-centres" });
    this.resetCentres = el("button", { type: "button", class: "link", "data-action": "even" });
    this.error = el("p", { class: "error", role: "alert", "data-testid": "calib-error", hidden: true });
    this.saveButton = el("button", { type: "submit", class: "primary", "data-action": "save" });
    this.removeButton = el("button", { type: "button", class: "danger", "data-action": "remove", hidden: true });
    this.form = el("form", { class: "calib-form", novalidate: false },
      field("floors", "calib.floors", { min: 1, max: 200, step: 1 }),
      field("columns", "calib.columns", { min: 1, max: 100, step: 1 }),
      field("floor_height_m", "calib.floor_height", { min: 2, max: 8, step: 0.01 }),
      field("protrusion_depth_m", "calib.depth", { min: 0, max: 4, step: 0.01 }),
      el("div", { class: "calib-centres" }, el("span", { "data-calib-i18n": "calib.centres" }), " ", this.centresText, " ", this.resetCentres),
      el("p", { class: "hint", "data-calib-i18n": "calib.hint" }),
      this.error,
      el("div", { class: "row" },
        this.saveButton,
        el("button", { type: "button", "data-action": "redraw" }),
        el("button", { type: "button", "data-action": "reload" }),
        this.removeButton,
        el("button", { type: "button", "data-action": "close" })),
    );
    this.panel = el("section", { id: "calibrate", class: "card calibrate", "data-testid": "calibrate", hidden: true },
      this.title,
      el("div", { class: "calib-body" },
        el("div", { class: "calib-picture" }, this.prompt, this.missing, this.stage),
        this.form));
    const anchor = $("camera-form");
    anchor.after(this.panel);

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    this.form.addEventListener("click", (e) => {
      const action = e.target.closest("button[data-action]")?.dataset.action;
      if (action === "redraw") this.redraw();
      else if (action === "reload") this.loadPicture();
      else if (action === "remove") this.remove();
      else if (action === "close") this.close();
      else if (action === "even") {
        this.centres = null;
        this.draw();
      }
    });
    this.form.elements.floors.addEventListener("input", () => this.draw());
    this.form.elements.columns.addEventListener("input", () => {
      // A new number of columns starts evenly spaced: the old lines meant other windows.
      if (this.centres && this.centres.length !== this._columns()) this.centres = null;
      this.draw();
    });
    this.stage.addEventListener("pointerdown", (e) => this._down(e));
    this.stage.addEventListener("pointermove", (e) => this._move(e));
    this.stage.addEventListener("pointerup", (e) => this._up(e));
    this.stage.addEventListener("pointercancel", (e) => this._up(e));
    this.img.addEventListener("load", () => this._fit());
    new ResizeObserver(() => this._fit()).observe(this.img);
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** Open the panel for a fixed camera: its latest picture, and its calibration if it has one. */
  open(camera) {
    this.camera = camera;
    this.corners = [];
    this.centres = null;
    const f = this.form.elements;
    const saved = camera.throw_calibration ? camera.throw_calibration.facade || camera.throw_calibration : null;
    f.floors.value = saved ? saved.floors : "";
    f.columns.value = saved ? saved.columns : "";
    f.floor_height_m.value = saved ? saved.floor_height_m : DEFAULT_FLOOR_HEIGHT_M;
    f.protrusion_depth_m.value = saved ? saved.protrusion_depth_m ?? 0 : 0;
    if (saved) {
      this.corners = (saved.corners_px || []).map(([u, v]) => [Number(u), Number(v)]);
      const centres = saved.column_centres;
      const even = evenCentres(saved.columns);
      if (Array.isArray(centres) && centres.length === saved.columns && centres.some((c, i) => Math.abs(c - even[i]) > 1e-4)) {
        this.centres = centres.map(Number);
      }
    }
    this.removeButton.hidden = !saved;
    this._error(null);
    this.panel.hidden = false;
    this.panel.dataset.cameraId = camera.id;
    this.render();
    this.loadPicture();
    this.panel.scrollIntoView({ block: "nearest" });
  }

  close() {
    this.panel.hidden = true;
    this.camera = null;
    this.request += 1;
    this._forgetPicture();
  }

  /** The camera's latest keyframe (it needs the bearer token: fetched, not linked). */
  async loadPicture() {
    const camera = this.camera;
    if (!camera) return;
    const request = ++this.request;
    const { i18n } = this.admin;
    this.stage.hidden = true;
    this.missing.hidden = false;
    this.missing.dataset.state = "loading";
    this.missing.textContent = i18n.t("calib.loading");
    try {
      const response = await fetch(`/api/cameras/${encodeURIComponent(camera.id)}/snapshot.jpg`, {
        headers: { Authorization: `Bearer ${this.admin.api.token}` },
        cache: "no-store",
      });
      if (!response.ok) {
        let detail = response.statusText;
        try {
          detail = (await response.json()).error.message || detail;
        } catch {
          // not JSON: the status says it
        }
        throw Object.assign(new Error(detail), { status: response.status });
      }
      const blob = await response.blob();
      if (request !== this.request) return;
      this._forgetPicture();
      this.pictureUrl = URL.createObjectURL(blob);
      this.img.src = this.pictureUrl;
      await this.img.decode().catch(() => {});
      if (request !== this.request) return;
      this.missing.hidden = true;
      this.missing.dataset.state = "";
      this.stage.hidden = false;
      this._fit();
    } catch (exc) {
      if (request !== this.request) return;
      this.missing.dataset.state = "none";
      const state = this.tab.stateLabel ? this.tab.stateLabel(camera) : camera.state;
      this.missing.textContent = i18n.t("calib.no_picture", { state });
      this.missing.title = exc.message || "";
    }
    this.render();
  }

  _forgetPicture() {
    if (this.pictureUrl) URL.revokeObjectURL(this.pictureUrl);
    this.pictureUrl = null;
    this.img.removeAttribute("src");
  }

  get natural() {
    return { w: this.img.naturalWidth || 0, h: this.img.naturalHeight || 0 };
  }

  /** The overlay lies exactly on the picture; its user units are the video's pixels. */
  _fit() {
    const { w, h } = this.natural;
    if (!w || !h) return;
    this.overlay.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.overlay.setAttribute("preserveAspectRatio", "none");
    Object.assign(this.overlay.style, {
      left: `${this.img.offsetLeft}px`,
      top: `${this.img.offsetTop}px`,
      width: `${this.img.offsetWidth}px`,
      height: `${this.img.offsetHeight}px`,
    });
    this.draw();
  }

  /** Video pixels per screen pixel (the picture is scaled to fit). */
  get scale() {
    const shown = this.img.getBoundingClientRect().width;
    return shown > 0 && this.natural.w ? this.natural.w / shown : 1;
  }

  /** A pointer's place in the video's pixels (outside the picture too: a corner may lie off it). */
  _videoPoint(e) {
    const rect = this.img.getBoundingClientRect();
    const { w, h } = this.natural;
    return [((e.clientX - rect.left) * w) / rect.width, ((e.clientY - rect.top) * h) / rect.height];
  }

  _columns() {
    const n = Number(this.form.elements.columns.value);
    return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 0;
  }

  _floors() {
    const n = Number(this.form.elements.floors.value);
    return Number.isInteger(n) && n >= 1 && n <= 200 ? n : 0;
  }

  get centresNow() {
    const columns = this._columns();
    if (this.centres && this.centres.length === columns) return this.centres;
    return evenCentres(columns);
  }

  // ------------------------------------------------------------ pointer

  _down(e) {
    if (!this.natural.w || e.button > 0) return;
    const target = e.target.closest("[data-corner], [data-column]");
    if (target && target.dataset.corner !== undefined) {
      this.drag = { kind: "corner", index: Number(target.dataset.corner) };
    } else if (target && target.dataset.column !== undefined && this.corners.length === 4) {
      this.drag = { kind: "column", index: Number(target.dataset.column) };
      if (!this.centres) this.centres = [...this.centresNow];
    } else if (this.corners.length < 4) {
      this.corners.push(this._videoPoint(e));
      this.render();
      return;
    } else {
      return;
    }
    e.preventDefault();
    this.stage.setPointerCapture(e.pointerId);
    this.stage.classList.add("dragging");
  }

  _move(e) {
    if (!this.drag) return;
    const point = this._videoPoint(e);
    if (this.drag.kind === "corner") {
      this.corners[this.drag.index] = point;
    } else {
      const H = homography(this.corners);
      const inverse = H && invert(H);
      if (!inverse) return;
      const [s] = project(inverse, point[0], point[1]);
      const i = this.drag.index;
      const low = i > 0 ? this.centres[i - 1] + MIN_GAP : 0;
      const high = i < this.centres.length - 1 ? this.centres[i + 1] - MIN_GAP : 1;
      if (Number.isFinite(s) && low <= high) this.centres[i] = Math.min(high, Math.max(low, s));
    }
    this.draw();
  }

  _up(e) {
    if (!this.drag) return;
    this.drag = null;
    this.stage.classList.remove("dragging");
    if (this.stage.hasPointerCapture(e.pointerId)) this.stage.releasePointerCapture(e.pointerId);
    this.render();
  }

  redraw() {
    this.corners = [];
    this.centres = null;
    this._error(null);
    this.render();
  }

  // ------------------------------------------------------------ drawing

  render() {
    const t = (key, params) => this.admin.i18n.t(key, params);
    if (!this.camera) return;
    this.title.textContent = t("calib.title", { name: this.camera.name });
    for (const node of this.panel.querySelectorAll("[data-calib-i18n]")) node.textContent = t(node.dataset.calibI18n);
    for (const button of this.form.querySelectorAll("button[data-action]")) {
      const key = { save: "calib.save", redraw: "calib.redraw", reload: "calib.reload", remove: "calib.remove", close: "calib.close", even: "calib.centres.reset" }[button.dataset.action];
      if (key) button.textContent = t(key);
    }
    const next = this.corners.length;
    this.prompt.dataset.next = next < 4 ? CORNERS[next] : "done";
    this.prompt.textContent = next < 4
      ? `${t(`calib.click.${CORNERS[next]}`)} ${t("calib.progress", { n: next + 1 })}`
      : t("calib.adjust");
    this.stage.classList.toggle("placing", next < 4);
    this.centresText.textContent = t(this.centres ? "calib.centres.custom" : "calib.centres.even");
    this.resetCentres.hidden = !this.centres;
    this.saveButton.disabled = next < 4;
    this.draw();
  }

  /** The outline, the floor lines and the column centre lines over the picture. */
  draw() {
    const overlay = this.overlay;
    overlay.replaceChildren();
    if (!this.natural.w) return;
    const k = this.scale; // video pixels per screen pixel: handles and text keep their screen size
    const corners = this.corners;
    const group = svg("g");
    overlay.append(group);
    if (corners.length >= 2) {
      const points = corners.map(([u, v]) => `${u},${v}`).join(" ");
      group.append(svg(corners.length === 4 ? "polygon" : "polyline", { points, class: "calib-outline" }));
    }
    const H = corners.length === 4 ? homography(corners) : null;
    if (H) {
      const floors = this._floors();
      const fontSize = 12 * k;
      for (let i = 1; i < floors; i += 1) {
        const [a, b] = [project(H, 0, i / floors), project(H, 1, i / floors)];
        group.append(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "calib-floor", "data-floor-line": i }));
      }
      const every = floors > 60 ? 10 : floors > 25 ? 5 : 1;
      for (let f = 1; f <= floors; f += 1) {
        if (f !== 1 && f !== floors && f % every) continue;
        const [u, v] = project(H, 0, (f - 0.5) / floors);
        const label = svg("text", { x: u - 6 * k, y: v, "font-size": fontSize, class: "calib-label floor", "text-anchor": "end", "dominant-baseline": "middle" });
        label.textContent = this.admin.i18n.t("calib.floor_label", { n: f });
        group.append(label);
      }
      this.centresNow.forEach((c, j) => {
        const [a, b] = [project(H, c, 0), project(H, c, 1)];
        const attrs = { x1: a[0], y1: a[1], x2: b[0], y2: b[1] };
        group.append(svg("line", { ...attrs, class: "calib-column", "data-column-line": j + 1 }));
        // A wide, invisible line to grab.
        group.append(svg("line", { ...attrs, class: "calib-column-hit", "data-column": j, "stroke-width": 12 }));
        const label = svg("text", { x: b[0], y: b[1] - 8 * k, "font-size": fontSize, class: "calib-label column", "text-anchor": "middle" });
        label.textContent = this.admin.i18n.t("calib.column_label", { n: j + 1 });
        group.append(label);
      });
    }
    corners.forEach(([u, v], i) => {
      const handle = svg("g", { class: "calib-handle", "data-corner": i, "data-testid": `calib-corner-${CORNERS[i]}` });
      handle.append(svg("circle", { cx: u, cy: v, r: HANDLE_PX * k }));
      // Each corner's name outside the wall, away from the floor and column numbers.
      const [dx, dy, anchor] = [[-10, 18, "end"], [10, 18, "start"], [10, -12, "start"], [-10, -12, "end"]][i];
      const label = svg("text", { x: u + dx * k, y: v + dy * k, "font-size": 12 * k, class: "calib-label corner", "text-anchor": anchor });
      label.textContent = this.admin.i18n.t(`calib.click.${CORNERS[i]}`).replace(/^(点击|Click the )/, "");
      handle.append(label);
      group.append(handle);
    });
  }

  // ------------------------------------------------------------ saving

  /** The PUT body: the outline in the video's pixels, and what was typed. */
  body() {
    const f = this.form.elements;
    const columns = Number(f.columns.value);
    const facade = {
      corners_px: this.corners.map(([u, v]) => [round(u, 1), round(v, 1)]),
      floors: Number(f.floors.value),
      columns,
      floor_height_m: Number(f.floor_height_m.value),
      protrusion_depth_m: Number(f.protrusion_depth_m.value || 0),
    };
    if (this.centres && this.centres.length === columns) facade.column_centres = this.centres.map((c) => round(c, 4));
    return { facade };
  }

  async save() {
    const camera = this.camera;
    if (!camera) return;
    this._error(null);
    if (this.corners.length < 4) {
      this._error(this.admin.i18n.t("calib.need_corners"));
      return;
    }
    this.saveButton.disabled = true;
    try {
      const saved = await this.admin.api.request("PUT", `/api/cameras/${encodeURIComponent(camera.id)}/calibration`, { body: this.body() });
      this.camera = saved && saved.id ? saved : camera;
      this.removeButton.hidden = false;
      this.admin.notice(this.admin.i18n.t("calib.saved"));
      this.panel.dataset.saved = "true";
      await this.tab.refresh();
    } catch (exc) {
      this._error(exc.code ? this.admin.errorText(exc) : exc.message);
    } finally {
      this.saveButton.disabled = this.corners.length < 4;
    }
  }

  async remove() {
    const camera = this.camera;
    if (!camera || !confirm(this.admin.i18n.t("calib.confirm_remove", { name: camera.name }))) return;
    this._error(null);
    try {
      await this.admin.api.request("DELETE", `/api/cameras/${encodeURIComponent(camera.id)}/calibration`);
      this.admin.notice(this.admin.i18n.t("calib.removed"));
      this.camera = { ...camera, throw_calibration: null };
      this.removeButton.hidden = true;
      this.redraw();
      await this.tab.refresh();
    } catch (exc) {
      this._error(exc.code ? this.admin.errorText(exc) : exc.message);
    }
  }

  _error(text) {
    this.error.hidden = !text;
    this.error.textContent = text || "";
  }
}
