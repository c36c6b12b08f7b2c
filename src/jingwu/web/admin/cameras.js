// Cameras (视频资源共享): the registry with each camera's state, the form that adds or edits one
// (a fixed camera has a place and a view; a body camera or a drone rides a unit), retiring, and
// the bulk import of a CSV or GeoJSON file, taken whole or refused whole with each bad line said.
// A stream URL may carry user:password@: the server seals the credentials and never shows them.

import { CAMERA_STATE_STRINGS } from "../shared/camera-states.js";
import { CALIBRATE_STRINGS, Calibrator } from "./calibrate.js";
import { actionCell, button, cell, option, submitting } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["fixed", "body", "drone"];
const OWNERS = ["police", "property"];
const STATES = ["unknown", "online", "offline", "no_signal", "frozen", "black", "unsupported"];
const VIEW_FIELDS = ["heading_deg", "fov_deg", "range_m", "height_m", "tilt_deg"];
const FIXED_FIELDS = ["lat", "lon", ...VIEW_FIELDS];
export const CSV_HEADER = "name,kind,stream_url,owner,lat,lon,heading_deg,fov_deg,range_m,height_m,tilt_deg,unit_id,community,station_id";

export const CAMERA_STRINGS = {
  "zh-CN": {
    "tab.cameras": "摄像机",
    "btn.new_camera": "新增摄像机",
    "btn.import_cameras": "批量导入 CSV / GeoJSON",
    "btn.csv_template": "CSV 模板",
    "form.new_camera": "新增摄像机",
    "form.edit_camera": "编辑 {name}",
    "col.camera_kind": "类型",
    "col.owner": "归属",
    "col.stream_url": "视频流地址",
    "col.camera_state": "状态",
    "col.place": "位置",
    "col.community": "小区",
    "col.unit": "所属警力",
    "col.lat": "纬度",
    "col.lon": "经度",
    "col.heading_deg": "朝向（度，正北为0）",
    "col.fov_deg": "视场角（度）",
    "col.range_m": "有效距离（米）",
    "col.height_m": "安装高度（米）",
    "col.tilt_deg": "俯仰角（度）",
    "filter.all_states": "全部状态",
    "filter.fault": "无可用画面",
    "filter.all_kinds": "全部类型",
    "cam.kind.fixed": "固定摄像机",
    "cam.kind.body": "执法记录仪",
    "cam.kind.drone": "无人机",
    "cam.owner.police": "公安自建",
    "cam.owner.property": "物业/社会面",
    ...CAMERA_STATE_STRINGS["zh-CN"],
    ...CALIBRATE_STRINGS["zh-CN"],
    "cam.credentials": "已保存凭据（加密，不显示）",
    "cam.credentials_short": "含凭据",
    "cam.no_unit": "—",
    "cam.none": "尚无摄像机",
    "cam.disabled": "已停用",
    "cam.probe": "保存前检测视频流（可达、密码正确、H.264）；尚未安装的摄像机可不检测",
    "btn.disable": "停用",
    "btn.enable": "启用",
    "hint.stream_url": "rtsp://用户名:密码@地址/路径：凭据加密保存，列表中不显示；编辑时留空密码部分则保留原凭据",
    "import.title": "导入结果",
    "import.added": "已导入 {n} 台摄像机",
    "import.refused": "文件未导入（全部或全不）：{n} 处错误",
    "import.line": "第 {line} 行：{message}",
    "import.reading": "正在导入 {name}…",
    "confirm.retire_camera": "确定撤销摄像机 {name}？记录和已截取的录像将保留。",
    "error.camera_not_found": "找不到该摄像机",
    "error.station_not_found": "找不到该派出所：{message}",
    "error.not_a_drone": "无人机摄像机只能绑定无人机类型的警力",
    "error.import_bad_header": "文件表头不对：{message}",
    "error.import_empty": "文件中没有摄像机",
    "error.import_invalid": "文件无法读取：{message}",
    "error.import_too_large": "单次导入的摄像机过多：{message}",
    "error.unsupported_import_type": "只能导入 CSV 或 GeoJSON 文件",
    "error.stream_unreachable": "无法连接视频流：{message}",
    "error.unsupported_codec": "视频流编码不受支持（需 H.264）：{message}",
    "error.stream_auth_failed": "视频流的用户名或密码错误",
    "error.stream_forbidden": "视频流拒绝访问",
    "error.stream_not_found": "视频流地址的路径不存在",
    "error.stream_invalid": "无法读取视频流：{message}",
    "error.stream_ended": "视频流已结束",
    "error.no_video": "视频流中没有视频画面",
    "error.no_signal": "视频流没有画面（无信号）",
    "error.file_outside_video_dir": "文件视频流只能读取视频文件目录中的文件",
  },
  en: {
    "tab.cameras": "Cameras",
    "btn.new_camera": "New camera",
    "btn.import_cameras": "Import CSV / GeoJSON",
    "btn.csv_template": "CSV template",
    "form.new_camera": "New camera",
    "form.edit_camera": "Edit {name}",
    "col.camera_kind": "Kind",
    "col.owner": "Owner",
    "col.stream_url": "Stream URL",
    "col.camera_state": "State",
    "col.place": "Place",
    "col.community": "Community",
    "col.unit": "Unit",
    "col.lat": "Latitude",
    "col.lon": "Longitude",
    "col.heading_deg": "Heading (°, 0 = north)",
    "col.fov_deg": "Field of view (°)",
    "col.range_m": "Range (m)",
    "col.height_m": "Height (m)",
    "col.tilt_deg": "Tilt (°)",
    "filter.all_states": "All states",
    "filter.fault": "No usable picture",
    "filter.all_kinds": "All kinds",
    "cam.kind.fixed": "Fixed camera",
    "cam.kind.body": "Body camera",
    "cam.kind.drone": "Drone",
    "cam.owner.police": "Police",
    "cam.owner.property": "Property / shared",
    ...CAMERA_STATE_STRINGS.en,
    ...CALIBRATE_STRINGS.en,
    "cam.credentials": "Credentials stored (sealed, never shown)",
    "cam.credentials_short": "credentials",
    "cam.no_unit": "—",
    "cam.none": "No cameras yet",
    "cam.disabled": "disabled",
    "cam.probe": "Look at the stream before saving (reachable, password right, H.264); untick for a camera not installed yet",
    "btn.disable": "Disable",
    "btn.enable": "Enable",
    "hint.stream_url": "rtsp://user:password@host/path: the credentials are stored sealed and never listed; leave them out when editing to keep the stored ones",
    "import.title": "Import",
    "import.added": "{n} cameras imported",
    "import.refused": "Nothing imported (all or nothing): {n} errors",
    "import.line": "Line {line}: {message}",
    "import.reading": "Importing {name}…",
    "confirm.retire_camera": "Retire camera {name}? Its record and the clips cut from it are kept.",
    "error.camera_not_found": "No such camera",
    "error.station_not_found": "No such station: {message}",
    "error.not_a_drone": "A drone camera rides a unit of kind drone",
    "error.import_bad_header": "The file's header is wrong: {message}",
    "error.import_empty": "The file holds no cameras",
    "error.import_invalid": "The file cannot be read: {message}",
    "error.import_too_large": "Too many cameras for one import: {message}",
    "error.unsupported_import_type": "Only CSV or GeoJSON files can be imported",
    "error.stream_unreachable": "The stream cannot be reached: {message}",
    "error.unsupported_codec": "The stream's codec is not supported (H.264 is): {message}",
    "error.stream_auth_failed": "Wrong user name or password for the stream",
    "error.stream_forbidden": "The stream refuses access",
    "error.stream_not_found": "No stream at that path",
    "error.stream_invalid": "The stream cannot be read: {message}",
    "error.stream_ended": "The stream ended",
    "error.no_video": "The stream holds no video",
    "error.no_signal": "The stream sends no picture",
    "error.file_outside_video_dir": "A file stream is read only from the video file folder",
  },
};

/** The number typed in a field, null when empty; NaN marks a typo (the server says which). */
function numberOf(text) {
  const t = String(text ?? "").trim().replace("，", ".");
  return t === "" ? null : Number(t);
}

export class CamerasTab {
  constructor(admin) {
    this.admin = admin;
    this.cameras = [];
    this.units = [];
    this.editing = null;
    const form = $("camera-form");
    $("camera-new").addEventListener("click", () => this.open(null));
    form.querySelector("[data-cancel]").addEventListener("click", () => (form.hidden = true));
    form.elements.kind.addEventListener("change", () => this._kindFields());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    $("camera-filter-state").addEventListener("change", () => this.refresh());
    $("camera-filter-kind").addEventListener("change", () => this.refresh());
    $("camera-import-file").addEventListener("change", (e) => this.importFile(e.target));
    this.calibrator = new Calibrator(this);
    const template = $("camera-template");
    template.href = `data:text/csv;charset=utf-8,${encodeURIComponent(`${CSV_HEADER}\n`)}`;
    template.download = "cameras.csv";
  }

  async refresh() {
    const query = new URLSearchParams();
    if ($("camera-filter-state").value) query.set("state", $("camera-filter-state").value);
    if ($("camera-filter-kind").value) query.set("kind", $("camera-filter-kind").value);
    const [found, units] = await Promise.all([
      this.admin.api.get(`/api/cameras${query.size ? `?${query}` : ""}`),
      this.admin.api.get("/api/units").catch(() => []),
    ]);
    this.cameras = found.cameras || [];
    this.units = units;
    this.render();
  }

  stateLabel(camera) {
    const { i18n } = this.admin;
    if (i18n.lang === "zh-CN" && camera.state_label) return camera.state_label;
    return i18n.t(`camstate.${camera.state}`);
  }

  unitName(id) {
    const unit = this.units.find((u) => u.id === id);
    return unit ? unit.callsign : id || "";
  }

  render() {
    const t = this.admin.i18n;
    this._filters();
    this._formChoices();
    const rows = this.cameras.map((camera) => {
      const tr = document.createElement("tr");
      tr.dataset.testid = "camera-row";
      tr.dataset.cameraId = camera.id;
      tr.dataset.state = camera.state;
      tr.dataset.kind = camera.kind;
      const state = cell("");
      const badge = document.createElement("span");
      badge.className = "cam-state";
      badge.dataset.state = camera.state;
      badge.textContent = this.stateLabel(camera);
      badge.title = camera.state_detail || "";
      state.append(badge);
      if (camera.enabled === false) state.append(` ${t.t("cam.disabled")}`);
      if (camera.throw_calibration) {
        const calibrated = document.createElement("small");
        calibrated.className = "cam-calibrated";
        calibrated.dataset.testid = "camera-calibrated";
        calibrated.textContent = ` ${t.t("cam.calibrated")}`;
        state.append(calibrated);
      }
      const place = camera.kind === "fixed"
        ? [camera.community, camera.lat != null ? `${Number(camera.lat).toFixed(5)}, ${Number(camera.lon).toFixed(5)}` : null,
          camera.view ? `${Math.round(camera.view.heading_deg)}° / ${Math.round(camera.view.fov_deg)}° / ${Math.round(camera.view.range_m)} m` : null]
          .filter(Boolean).join(" · ")
        : this.unitName(camera.unit_id);
      const stream = cell(camera.stream_url);
      stream.className = "stream";
      if (camera.has_credentials) {
        const sealed = document.createElement("small");
        sealed.className = "sealed";
        sealed.textContent = t.t("cam.credentials_short");
        sealed.title = t.t("cam.credentials");
        stream.append(" ", sealed);
      }
      tr.append(
        cell(camera.name),
        cell(t.t(`cam.kind.${camera.kind}`)),
        cell(camera.owner ? t.t(`cam.owner.${camera.owner}`) : ""),
        state,
        cell(camera.station_id ? this.admin.stationName(camera.station_id) : ""),
        cell(place),
        stream,
        actionCell(
          ...(camera.kind === "fixed" ? [button(t.t("btn.calibrate"), () => this.calibrator.open(camera), "calibrate")] : []),
          button(t.t("btn.edit"), () => this.open(camera)),
          button(t.t(camera.enabled === false ? "btn.enable" : "btn.disable"), () => this.setEnabled(camera, camera.enabled === false)),
          button(t.t("btn.retire"), () => this.retire(camera), "danger"),
        ),
      );
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(t.t("cam.none"));
      td.colSpan = 8;
      td.className = "muted";
      tr.append(td);
      rows.push(tr);
    }
    $("camera-rows").replaceChildren(...rows);
    this._renderImport();
    this.calibrator.render();
  }

  /** The last import's verdict, in the words of the moment. */
  _renderImport() {
    const t = this.admin.i18n;
    const result = this.importResult;
    const box = $("camera-import");
    box.hidden = !result;
    if (!result) return;
    box.dataset.result = result.kind;
    const summary = $("camera-import-summary");
    if (result.kind === "pending") summary.textContent = t.t("import.reading", { name: result.name });
    else if (result.kind === "added") summary.textContent = t.t("import.added", { n: result.added });
    else if (result.lines.length) summary.textContent = t.t("import.refused", { n: result.lines.length });
    else summary.textContent = this.admin.errorText(result.error);
    $("camera-import-errors").replaceChildren(...result.lines.map((e) => {
      const li = document.createElement("li");
      li.dataset.testid = "import-error";
      li.dataset.line = String(e.line ?? "");
      li.textContent = e.line != null ? t.t("import.line", { line: e.line, message: e.message }) : e.message;
      return li;
    }));
  }

  _filters() {
    const t = this.admin.i18n;
    const state = $("camera-filter-state");
    const kind = $("camera-filter-kind");
    const [s, k] = [state.value, kind.value];
    state.replaceChildren(option("", t.t("filter.all_states")), option("fault", t.t("filter.fault")),
      ...STATES.map((x) => option(x, t.t(`camstate.${x}`))));
    kind.replaceChildren(option("", t.t("filter.all_kinds")), ...KINDS.map((x) => option(x, t.t(`cam.kind.${x}`))));
    state.value = s;
    kind.value = k;
  }

  _formChoices() {
    const t = this.admin.i18n;
    const form = $("camera-form");
    const keep = (select, fill) => {
      const value = select.value;
      fill();
      if (value) select.value = value;
    };
    keep(form.elements.kind, () => form.elements.kind.replaceChildren(...KINDS.map((k) => option(k, t.t(`cam.kind.${k}`)))));
    keep(form.elements.owner, () => form.elements.owner.replaceChildren(...OWNERS.map((o) => option(o, t.t(`cam.owner.${o}`)))));
    keep(form.elements.station_id, () => form.elements.station_id.replaceChildren(option("", "—"),
      ...this.admin.stations.filter((s) => this.admin.holds(s)).map((s) => option(s.id, s.name))));
    this._unitChoices();
  }

  /** A body camera rides any unit; a drone's camera, a unit of kind drone. */
  _unitChoices() {
    const form = $("camera-form");
    const select = form.elements.unit_id;
    const value = select.value;
    const drone = form.elements.kind.value === "drone";
    const units = this.units.filter((u) => !drone || u.kind === "drone");
    select.replaceChildren(option("", this.admin.i18n.t("cam.no_unit")), ...units.map((u) => option(u.id, u.callsign)));
    if (value && units.some((u) => u.id === value)) select.value = value;
  }

  /** Show the fields of the chosen kind only. */
  _kindFields() {
    const form = $("camera-form");
    const kind = form.elements.kind.value;
    for (const node of form.querySelectorAll("[data-kinds]")) {
      const shown = node.dataset.kinds.split(" ").includes(kind);
      node.hidden = !shown;
      for (const input of node.querySelectorAll("input, select")) input.disabled = !shown;
    }
    form.elements.lat.required = kind === "fixed";
    form.elements.lon.required = kind === "fixed";
    this._unitChoices();
  }

  open(camera) {
    const form = $("camera-form");
    const t = this.admin.i18n;
    this.editing = camera;
    form.reset();
    this._formChoices();
    $("camera-form-title").textContent = camera ? t.t("form.edit_camera", { name: camera.name }) : t.t("form.new_camera");
    const f = form.elements;
    if (camera) {
      f.name.value = camera.name;
      f.kind.value = camera.kind;
      f.owner.value = camera.owner || "police";
      f.stream_url.value = camera.stream_url || "";
      f.station_id.value = camera.station_id || "";
      f.community.value = camera.community || "";
      f.lat.value = camera.lat ?? "";
      f.lon.value = camera.lon ?? "";
      for (const name of VIEW_FIELDS) f[name].value = camera.view ? camera.view[name] ?? "" : "";
    } else {
      f.kind.value = "fixed";
      f.owner.value = "police";
    }
    this._kindFields();
    if (camera) f.unit_id.value = camera.unit_id || "";
    $("camera-credentials").hidden = !(camera && camera.has_credentials);
    form.querySelector(".error").hidden = true;
    form.hidden = false;
    f.name.focus();
  }

  /** The body of a POST (all the kind's fields) or a PATCH (only what changed). */
  body() {
    const f = $("camera-form").elements;
    const kind = f.kind.value;
    const body = {
      name: f.name.value.trim(),
      kind,
      owner: f.owner.value,
      stream_url: f.stream_url.value.trim(),
      station_id: f.station_id.value || null,
    };
    if (kind === "fixed") {
      for (const name of FIXED_FIELDS) body[name] = numberOf(f[name].value);
      body.community = f.community.value.trim() || null;
      body.unit_id = null;
    } else {
      body.unit_id = f.unit_id.value || null;
    }
    const typo = Object.entries(body).find(([, v]) => typeof v === "number" && Number.isNaN(v));
    if (typo) throw new Error(`${this.admin.i18n.t(`col.${typo[0]}`)}: ${f[typo[0]].value}`);
    if (!this.editing) {
      for (const [key, value] of Object.entries(body)) if (value === null) delete body[key];
      return body;
    }
    const was = this.editing;
    const before = { ...was, ...(was.view || {}) };
    const changed = {};
    for (const [key, value] of Object.entries(body)) {
      if ((before[key] ?? null) !== value) changed[key] = value;
    }
    return changed;
  }

  async save() {
    const form = $("camera-form");
    // Looking at the stream can be skipped for a camera not installed yet (?probe=false).
    const probe = form.elements.probe.checked ? "" : "?probe=false";
    const ok = await submitting(form, this.admin, async () => {
      const body = this.body();
      if (this.editing) {
        if (!Object.keys(body).length) return;
        await this.admin.api.request("PATCH", `/api/cameras/${encodeURIComponent(this.editing.id)}${probe}`, { body });
      } else {
        await this.admin.api.post(`/api/cameras${probe}`, body);
      }
    });
    if (ok) {
      form.reset(); // a typed password does not stay in the page
      form.hidden = true;
      await this.refresh();
    }
  }

  async setEnabled(camera, enabled) {
    try {
      await this.admin.api.request("PATCH", `/api/cameras/${encodeURIComponent(camera.id)}`, { body: { enabled } });
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }

  async retire(camera) {
    if (!confirm(this.admin.i18n.t("confirm.retire_camera", { name: camera.name }))) return;
    try {
      await this.admin.api.request("DELETE", `/api/cameras/${encodeURIComponent(camera.id)}`);
      await this.refresh();
    } catch (exc) {
      this.admin.notice(this.admin.errorText(exc));
    }
  }

  /** Send a whole file; it goes in whole, or not at all with each bad line's error listed. */
  async importFile(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    this.importResult = { kind: "pending", name: file.name, lines: [] };
    this._renderImport();
    const csv = /\.csv$/i.test(file.name) || file.type === "text/csv";
    const text = await file.text();
    input.value = ""; // the same file can be chosen again once it is fixed
    try {
      const result = await this.admin.api.post("/api/cameras/import",
        new Blob([text], { type: csv ? "text/csv" : "application/geo+json" }));
      this.importResult = { kind: "added", added: result.added, lines: [] };
      await this.refresh();
    } catch (exc) {
      this.importResult = { kind: "refused", error: exc, lines: (exc.params && exc.params.errors) || [] };
    }
    this._renderImport();
  }
}
