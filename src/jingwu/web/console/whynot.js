// "Why not this unit?": every unit of the dispatcher's near the selected incident and why it is
// not on the recommendation list (GET /api/incidents/{id}/nearby-units), fetched only when the
// dispatcher opens the toggle under the list, so that no unit is ever left out silently.

const WORDS = {
  "zh-CN": {
    summary: "为何没有推荐某单位？",
    loading: "正在查询附近警力…",
    none: "附近 {r} 内没有其他警力",
    no_position: "没有位置",
    on_this_incident: "已在处置本警情",
    not_available: "{status}：不可派",
    routine_call: "{status}：非空闲，仅紧急警情可调",
    kind_not_allowed: "{kind}不能处置此类警情（可派：{kinds}）",
    missing_capability: "缺少：{caps}",
    off_road: "位置不在道路上，无法计算路线",
    unreachable: "没有可达现场的道路",
    outranked: "行程 {eta}，排在推荐名单之后",
    far: "直线 {dist}",
  },
  en: {
    summary: "Why not a unit?",
    loading: "Looking for units nearby…",
    none: "No other unit within {r}",
    no_position: "No position reported",
    on_this_incident: "Already on this incident",
    not_available: "{status}: not available",
    routine_call: "{status}: not free, pulled for urgent calls only",
    kind_not_allowed: "A {kind} cannot take this type (allowed: {kinds})",
    missing_capability: "Lacks: {caps}",
    off_road: "Off every road: no route from there",
    unreachable: "No road route to the scene",
    outranked: "{eta} by road: ranked below the list",
    far: "{dist} as the crow flies",
  },
};

const RADIUS_M = 2000;

function word(i18n, key, params = {}) {
  const text = (WORDS[i18n.lang] || WORDS["zh-CN"])[key] ?? WORDS["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export class WhyNot {
  /** @param {HTMLDetailsElement} element a <details> with a <summary> and a <ul> */
  constructor(app, element) {
    this.app = app;
    this.element = element;
    this.summary = element.querySelector("summary");
    this.list = element.querySelector("ul");
    this.incidentId = null;
    this.request = 0;
    element.addEventListener("toggle", () => {
      if (element.open) this.load();
    });
  }

  /** Called with each render of the list: the incident it is for (null: nothing to explain). */
  show(incident) {
    const id = incident ? incident.id : null;
    this.element.hidden = !id || !this.app.can("incident.command");
    this.summary.textContent = word(this.app.i18n, "summary");
    if (id !== this.incidentId) {
      this.incidentId = id;
      this.element.open = false;
      this.list.replaceChildren();
    } else if (this.element.open) {
      this.load(); // the list changed: so may the reasons
    }
  }

  async load() {
    const id = this.incidentId;
    if (!id) return;
    const request = ++this.request;
    const { i18n } = this.app;
    if (!this.list.childElementCount) this.list.replaceChildren(this._item(word(i18n, "loading")));
    let units;
    try {
      units = await this.app.api.get(`/api/incidents/${encodeURIComponent(id)}/nearby-units?radius_m=${RADIUS_M}`);
    } catch (exc) {
      if (request === this.request) this.list.replaceChildren(this._item(i18n.error(exc)));
      return;
    }
    if (request !== this.request || id !== this.incidentId) return;
    const left = units.filter((u) => !u.recommended);
    if (!left.length) {
      this.list.replaceChildren(this._item(word(i18n, "none", { r: i18n.distance(RADIUS_M) })));
      return;
    }
    this.list.replaceChildren(
      ...left.map((u) => {
        const li = document.createElement("li");
        li.dataset.unit = u.unit_id;
        li.dataset.reason = u.reason;
        const name = document.createElement("b");
        name.textContent = u.callsign;
        const what = document.createElement("small");
        what.textContent = ` ${i18n.t(`kind.${u.kind}`)} · ${word(i18n, "far", { dist: i18n.distance(u.straight_line_m) })}`;
        const why = document.createElement("div");
        why.className = "why";
        why.textContent = this._reason(u);
        li.append(name, what, why);
        return li;
      }),
    );
  }

  _reason(u) {
    const { i18n } = this.app;
    return word(i18n, u.reason, {
      status: i18n.t(`unit.${u.status}`),
      kind: i18n.t(`kind.${u.kind}`),
      kinds: u.allowed_kinds.map((k) => i18n.t(`kind.${k}`)).join(i18n.lang === "en" ? ", " : "、"),
      caps: u.missing_capabilities.join(", "),
      eta: u.eta_s == null ? "—" : i18n.duration(u.eta_s),
    });
  }

  _item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }
}
