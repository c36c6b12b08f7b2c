// Two languages, zh-CN (the default) and en. Each app passes its own strings; the words both apps
// use (statuses, priorities, error codes) live here once.

export const LANGS = ["zh-CN", "en"];

export const COMMON = {
  "zh-CN": {
    "unit.available": "空闲",
    "unit.dispatched": "已派",
    "unit.acknowledged": "已签收",
    "unit.en_route": "出警",
    "unit.on_scene": "到达",
    "unit.cleared": "处置完毕",
    "unit.busy": "忙碌",
    "unit.out_of_service": "暂停服务",
    "unit.off_duty": "下班",
    "incident.pending": "待派",
    "incident.dispatched": "已派",
    "incident.acknowledged": "已签收",
    "incident.en_route": "出警中",
    "incident.on_scene": "已到达",
    "incident.cleared": "处置完毕",
    "incident.closed": "已结案",
    "incident.merged": "已合并",
    "priority.1": "一级",
    "priority.2": "二级",
    "priority.3": "三级",
    "priority.4": "四级",
    "kind.patrol_car": "巡逻车",
    "kind.motorcycle": "铁骑",
    "kind.foot": "步巡",
    "kind.drone": "无人机",
    "conn.live": "实时",
    "conn.connecting": "连接中…",
    "conn.reconnecting": "重新连接中…",
    "conn.offline": "离线",
    "error.offline": "无法连接服务器",
    "error.bad_credentials": "用户名或密码错误",
    "error.illegal_unit_transition": "警力当前状态不允许此操作",
    "error.illegal_incident_transition": "警情当前状态不允许此操作",
    "error.stale_unit": "数据已被他人更新，请重试",
    "error.stale_incident": "数据已被他人更新，请重试",
    "error.unit_not_available": "该警力不可派",
    "error.unit_already_assigned": "该警力已有任务",
    "error.bad_road_point": "该位置离道路太远",
    "error.off_road": "该位置距最近道路 {distance_m} 米（最多 {max_distance_m} 米），巡逻车无法到达",
    "error.unknown_incident_type": "未知的警情类型",
    "error.bad_phone": "电话号码无效（手机 11 位，座机需带区号）",
    "error.bad_id_number_format": "身份证号应为 18 位（或 15 位旧号）",
    "error.bad_id_checksum": "身份证号校验位不符，请核对",
    "error.bad_id_birth_date": "身份证号中的出生日期无效",
    "error.bad_id_region": "身份证号的地区代码无效",
    "error.totp_required": "请输入身份验证器上的动态验证码",
    "error.bad_totp": "动态验证码错误或已使用，请等下一个",
    "error.totp_not_enrolled": "该账号需要动态验证码，但尚未登记：请联系管理员",
    "login.totp": "动态验证码",
    "error.too_many_attempts": "操作过于频繁，请 {retry_after_s} 秒后再试",
    "error.role_forbidden": "您的角色无权执行此操作",
    "error.out_of_jurisdiction": "该记录不在您的管辖范围内",
    "error.not_own_incident": "只能处理本组被派的警情",
    "error.not_own_unit": "只能操作本组警力",
    "error.reason_required": "请说明查询事由（至少 4 个字）",
    "error.account_locked": "多次登录失败，此终端暂时无法登录该账号，请稍后再试或联系管理员",
    "login.failed_since": "上次登录以来有 {n} 次失败的登录尝试（来自 {sources}）；如非本人操作，请告知管理员",
    "error.session_idle": "长时间未操作，请重新登录",
    "error.future_time": "设备时间超前，请校准时间",
    "error.upload_too_large": "文件过大",
    "error.body_too_large": "提交的内容过大",
    "error.unsupported_media_type": "只能上传 JPEG、PNG 或 WebP 照片",
    "time.s": "{n}秒",
    "time.min": "{n}分",
    "dist.m": "{n}米",
    "dist.km": "{n}公里",
    "osm": "地图数据 © OpenStreetMap 贡献者",
  },
  en: {
    "unit.available": "Available",
    "unit.dispatched": "Dispatched",
    "unit.acknowledged": "Received",
    "unit.en_route": "En route",
    "unit.on_scene": "On scene",
    "unit.cleared": "Cleared",
    "unit.busy": "Busy",
    "unit.out_of_service": "Out of service",
    "unit.off_duty": "Off duty",
    "incident.pending": "Pending",
    "incident.dispatched": "Dispatched",
    "incident.acknowledged": "Received",
    "incident.en_route": "En route",
    "incident.on_scene": "On scene",
    "incident.cleared": "Cleared",
    "incident.closed": "Closed",
    "incident.merged": "Merged",
    "priority.1": "P1",
    "priority.2": "P2",
    "priority.3": "P3",
    "priority.4": "P4",
    "kind.patrol_car": "Patrol car",
    "kind.motorcycle": "Motorcycle",
    "kind.foot": "Foot patrol",
    "kind.drone": "Drone",
    "conn.live": "Live",
    "conn.connecting": "Connecting…",
    "conn.reconnecting": "Reconnecting…",
    "conn.offline": "Offline",
    "error.offline": "The server cannot be reached",
    "error.bad_credentials": "Wrong user name or password",
    "error.illegal_unit_transition": "Not allowed in the unit's current state",
    "error.illegal_incident_transition": "Not allowed in the incident's current state",
    "error.stale_unit": "Someone else changed this; try again",
    "error.stale_incident": "Someone else changed this; try again",
    "error.unit_not_available": "That unit cannot be dispatched",
    "error.unit_already_assigned": "That unit is already assigned",
    "error.bad_road_point": "That place is too far from a road",
    "error.off_road": "That place is {distance_m} m from the nearest road (at most {max_distance_m} m): no patrol car can reach it",
    "error.unknown_incident_type": "Unknown incident type",
    "error.bad_phone": "Not a valid phone number (11-digit mobile, or a landline with its area code)",
    "error.bad_id_number_format": "An ID number has 18 characters (or 15 digits for an old one)",
    "error.bad_id_checksum": "The ID number's check character does not match; please check it",
    "error.bad_id_birth_date": "The ID number's birth date is not valid",
    "error.bad_id_region": "The ID number's region code is not valid",
    "error.totp_required": "Enter the code from your authenticator app",
    "error.bad_totp": "Wrong or already used code; wait for the next one",
    "error.totp_not_enrolled": "This account needs an authenticator code but none is set up: ask an administrator",
    "login.totp": "Authenticator code",
    "error.too_many_attempts": "Too many attempts; try again in {retry_after_s} s",
    "error.role_forbidden": "Your role may not do this",
    "error.out_of_jurisdiction": "This record lies outside your jurisdiction",
    "error.not_own_incident": "Only the incident your unit was sent to",
    "error.not_own_unit": "Only your own unit",
    "error.reason_required": "State why you look (at least 4 characters)",
    "error.account_locked": "Too many failed log-ins: this account is locked from here for now; try later or ask an administrator",
    "login.failed_since": "{n} failed log-in attempts since your last log-in (from {sources}); if that was not you, tell an administrator",
    "error.session_idle": "Logged out after a period without activity; please log in again",
    "error.future_time": "This device's clock is ahead; please correct it",
    "error.upload_too_large": "The file is too large",
    "error.body_too_large": "The request is too large",
    "error.unsupported_media_type": "Only JPEG, PNG or WebP photos can be sent",
    "time.s": "{n} s",
    "time.min": "{n} min",
    "dist.m": "{n} m",
    "dist.km": "{n} km",
    "osm": "Map data © OpenStreetMap contributors",
  },
};

export class I18n extends EventTarget {
  /** @param {Record<string, Record<string, string>>} strings the app's own strings, by language */
  constructor(strings, storageKey = "jingwu.lang") {
    super();
    this.storageKey = storageKey;
    this.dicts = {};
    for (const lang of LANGS) this.dicts[lang] = { ...COMMON[lang], ...(strings[lang] || {}) };
    const saved = localStorage.getItem(storageKey);
    this.lang = LANGS.includes(saved) ? saved : "zh-CN";
    this.timeZone = undefined; // the browser's, until setTimeZone
  }

  /** Add a module's own strings (a tab of the terminal or the station desk); earlier keys win, so
   * a module cannot change the words of another by accident. */
  extend(strings) {
    for (const lang of LANGS) this.dicts[lang] = { ...(strings[lang] || {}), ...this.dicts[lang] };
  }

  /** The string for `key`, with {name} placeholders filled; the key itself if it is unknown. */
  t(key, params = {}) {
    const text = this.dicts[this.lang][key] ?? this.dicts["zh-CN"][key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
  }

  setLang(lang) {
    if (!LANGS.includes(lang) || lang === this.lang) return;
    this.lang = lang;
    localStorage.setItem(this.storageKey, lang);
    this.apply(document);
    this.dispatchEvent(new Event("change"));
  }

  /** Fill every element marked data-i18n (text), data-i18n-placeholder and data-i18n-title. */
  apply(root) {
    document.documentElement.lang = this.lang;
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = this.t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = this.t(el.dataset.i18nPlaceholder);
    }
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = this.t(el.dataset.i18nTitle);
  }

  /** An API error as a sentence for the user. */
  error(exc) {
    const key = `error.${exc.code}`;
    const known = this.t(key, exc.params || {});
    return known === key ? exc.message || String(exc) : known;
  }

  /** What the owner is told at log-in of the failed tries since the last one (null: none). */
  failedLogins(session) {
    const tries = (session && session.failed_logins) || [];
    if (!tries.length) return null;
    const n = tries.reduce((sum, f) => sum + f.count, 0);
    return this.t("login.failed_since", { n, sources: tries.map((f) => f.source || "?").join(", ") });
  }

  /** A duration in seconds, e.g. "4:05" (clock style, for timers). */
  clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  /** A travel time in seconds, rounded for reading ("45 s", "3 min"). */
  duration(seconds) {
    if (seconds < 90) return this.t("time.s", { n: Math.round(seconds) });
    return this.t("time.min", { n: Math.round(seconds / 60) });
  }

  distance(metres) {
    if (metres < 1000) return this.t("dist.m", { n: Math.round(metres) });
    return this.t("dist.km", { n: (metres / 1000).toFixed(1) });
  }

  /** An ISO time as local hh:mm:ss. */
  time(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString(this.lang, { hour12: false, timeZone: this.timeZone });
  }

  /** Show times in the bureau's zone (from the server), not the browser's. */
  setTimeZone(zone) {
    try {
      new Intl.DateTimeFormat(this.lang, { timeZone: zone });
      this.timeZone = zone;
    } catch {
      // An unknown zone name: the browser's own zone stays.
    }
  }
}
