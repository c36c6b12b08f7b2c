// 预警 at the station desk: the early warnings the analysts' models raised for the stations in the
// user's jurisdiction (GET /api/warnings), newest first, filtered by status; each with its title,
// place, window and evidence (counts and record ids; a plate only masked), and buttons to
// acknowledge it (someone is on it) or dismiss it (nothing to do).

const STATUSES = ["new", "acknowledged", "dismissed"];

const STRINGS = {
  "zh-CN": {
    "warnings.list": "预警",
    "warnings.refresh": "刷新",
    "warnings.status": "状态",
    "warnings.all": "全部",
    "warnings.status.new": "未处理",
    "warnings.status.acknowledged": "已签收",
    "warnings.status.dismissed": "已排除",
    "warnings.col.raised": "时间",
    "warnings.col.title": "预警",
    "warnings.col.station": "派出所",
    "warnings.col.evidence": "依据",
    "warnings.col.status": "状态",
    "warnings.none": "暂无预警",
    "warnings.acknowledge": "签收",
    "warnings.dismiss": "排除",
    "warnings.note": "备注（可选）",
    "warnings.model": "模型：{name}",
    "warnings.by": "{who} 于 {when}",
    "warnings.saved": "已保存",
    "warnings.ev.incidents": "警情 {n} 起",
    "warnings.ev.open_disputes": "未结纠纷 {n} 件",
    "warnings.ev.plate": "车牌 {plate}",
    "warnings.ev.pair_count": "异地出现 {n} 次",
    "warnings.ev.count": "本期 {n} 起",
    "warnings.ev.mean": "此前均值 {n}",
    "warnings.ev.ids": "记录：{ids}",
    "warnings.kind.repeat_address": "同址反复报警",
    "warnings.kind.plate_far_apart": "疑似套牌",
    "warnings.kind.type_spike": "警情异常增多",
  },
  en: {
    "warnings.list": "Warnings",
    "warnings.refresh": "Refresh",
    "warnings.status": "Status",
    "warnings.all": "All",
    "warnings.status.new": "new",
    "warnings.status.acknowledged": "acknowledged",
    "warnings.status.dismissed": "dismissed",
    "warnings.col.raised": "Raised",
    "warnings.col.title": "Warning",
    "warnings.col.station": "Station",
    "warnings.col.evidence": "Evidence",
    "warnings.col.status": "Status",
    "warnings.none": "No warnings",
    "warnings.acknowledge": "Acknowledge",
    "warnings.dismiss": "Dismiss",
    "warnings.note": "Note (optional)",
    "warnings.model": "Model: {name}",
    "warnings.by": "{who} at {when}",
    "warnings.saved": "Saved",
    "warnings.ev.incidents": "{n} calls",
    "warnings.ev.open_disputes": "{n} open disputes",
    "warnings.ev.plate": "plate {plate}",
    "warnings.ev.pair_count": "seen far apart {n} times",
    "warnings.ev.count": "{n} this period",
    "warnings.ev.mean": "{n} on average before",
    "warnings.ev.ids": "records: {ids}",
    "warnings.kind.repeat_address": "repeat calls",
    "warnings.kind.plate_far_apart": "possibly cloned plate",
    "warnings.kind.type_spike": "spike",
  },
};

const STYLE = `
.warnings-desk tr[data-status="new"] .warnings-title { font-weight: 600; }
.warnings-desk .warnings-evidence { margin: 0; padding-left: 16px; color: var(--muted); font-size: 13px; }
.warnings-desk .warnings-kind { margin-right: 6px; }
.warnings-desk td.actions input { width: 9em; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export default {
  id: "warnings",
  needs: "warning.read",
  title: { "zh-CN": "预警", en: "Warnings" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    const element = el("section", { className: "warnings-desk" }, el("style", {}, STYLE));
    const statusSelect = el("select", { name: "status" });
    const body = el("tbody");
    const filters = el("form", { className: "card inline warnings-filters" }, el("label", {}, el("span", { i18n: "warnings.status" }), statusSelect));
    const head = ["raised", "title", "station", "evidence", "status"].map((c) => el("th", { i18n: `warnings.col.${c}` }));
    element.append(
      el("div", { className: "bar" }, el("h2", { i18n: "warnings.list" }), el("button", { type: "button", className: "warnings-refresh", i18n: "warnings.refresh" })),
      filters,
      el("table", { className: "list warnings-list" }, el("thead", {}, el("tr", {}, ...head, el("th", {}))), body),
    );
    let warnings = [];
    let status = "new"; // the new ones first: what the station has still to look at

    function options() {
      statusSelect.replaceChildren(
        ...STATUSES.map((s) => el("option", { value: s, textContent: t(`warnings.status.${s}`) })),
        el("option", { value: "", textContent: t("warnings.all") }),
      );
      statusSelect.value = status;
    }

    function evidence(w) {
      const e = w.evidence || {};
      const items = [];
      if (e.incidents != null) items.push(t("warnings.ev.incidents", { n: e.incidents }));
      if (e.open_disputes) items.push(t("warnings.ev.open_disputes", { n: e.open_disputes }));
      if (e.plate) items.push(t("warnings.ev.plate", { plate: e.plate }));
      if (e.pair_count != null) items.push(t("warnings.ev.pair_count", { n: e.pair_count }));
      if (e.count != null) items.push(t("warnings.ev.count", { n: e.count }));
      if (e.mean != null) items.push(t("warnings.ev.mean", { n: e.mean }));
      const ids = e.incident_ids || (e.sightings || []).map((s) => s.id);
      if (ids.length) items.push(t("warnings.ev.ids", { ids: ids.slice(0, 10).join("、") + (ids.length > 10 ? " …" : "") }));
      return el("ul", { className: "warnings-evidence" }, ...items.map((text) => el("li", { textContent: text })));
    }

    function renderList() {
      const lang = desk.i18n.lang;
      const rows = warnings.map((w) => {
        const title = el(
          "td",
          { className: "warnings-title" },
          el("span", { className: "badge warn warnings-kind", textContent: t(`warnings.kind.${w.kind}`) }),
          lang === "en" ? w.title.en : w.title.zh,
          el("div", { className: "muted", textContent: t("warnings.model", { name: w.model_name }) }),
        );
        const state = el("td", { className: "warnings-status" }, t(`warnings.status.${w.status}`));
        if (w.acted_by) {
          state.append(el("div", { className: "muted", textContent: t("warnings.by", { who: w.acted_by, when: new Date(w.acted_at).toLocaleString(lang) }) }));
          if (w.note) state.append(el("div", { className: "muted", textContent: w.note }));
        }
        const actions = el("td", { className: "actions" });
        if (w.status !== "dismissed") {
          const note = el("input", { name: "note", placeholder: t("warnings.note"), maxLength: 500 });
          actions.append(note);
          if (w.status === "new") {
            const ack = el("button", { type: "button", className: "warnings-ack", textContent: t("warnings.acknowledge") });
            ack.addEventListener("click", () => act(w.id, "acknowledge", note.value));
            actions.append(ack);
          }
          const dismiss = el("button", { type: "button", className: "danger warnings-dismiss", textContent: t("warnings.dismiss") });
          dismiss.addEventListener("click", () => act(w.id, "dismiss", note.value));
          actions.append(dismiss);
        }
        const row = el(
          "tr",
          {},
          el("td", { textContent: new Date(w.raised_at).toLocaleString(lang) }),
          title,
          el("td", { textContent: desk.stationName(w.station_id) }),
          el("td", {}, evidence(w)),
          state,
          actions,
        );
        row.dataset.id = w.id;
        row.dataset.status = w.status;
        row.dataset.station = w.station_id || "";
        return row;
      });
      if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 6, className: "muted", textContent: t("warnings.none") })));
      body.replaceChildren(...rows);
    }

    async function refresh() {
      options();
      const query = new URLSearchParams();
      if (statusSelect.value) query.set("status", statusSelect.value);
      warnings = await desk.api.get(`/api/warnings?${query}`);
      renderList();
    }

    async function act(id, action, note) {
      try {
        const text = (note || "").trim();
        await desk.api.post(`/api/warnings/${encodeURIComponent(id)}/${action}`, text ? { note: text } : {});
        desk.notice(t("warnings.saved"));
        await refresh();
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    }

    filters.addEventListener("change", () => {
      status = statusSelect.value;
      refresh().catch((exc) => desk.notice(desk.errorText(exc)));
    });
    element.querySelector(".warnings-refresh").addEventListener("click", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));
    desk.i18n.apply(element);
    return {
      element,
      refresh,
      render() {
        desk.i18n.apply(element);
        options();
        renderList();
      },
    };
  },
};
