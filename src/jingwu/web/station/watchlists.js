// 布控名单 (watch lists) at the station desk, for commanders and admins (watchlist.admin): list the
// entries of each list a page at a time, add one (the subject, why, until when), take one off,
// and see the latest patrol checks made in the station's jurisdiction. Subjects are shown masked
// unless the role may see people in full; every look is audited by the server (docs/checks.md).

const LISTS = ["wanted", "missing", "stolen_vehicle", "vehicle_of_interest"];
const PAGE = 20;

const STRINGS = {
  "zh-CN": {
    "watchlists.heading": "布控名单",
    "watchlists.list.wanted": "在逃人员",
    "watchlists.list.missing": "失踪人员",
    "watchlists.list.stolen_vehicle": "被盗抢车辆",
    "watchlists.list.vehicle_of_interest": "关注车辆",
    "watchlists.add": "新增布控",
    "watchlists.subject.person": "公民身份号码",
    "watchlists.subject.vehicle": "车牌号",
    "watchlists.label": "姓名 / 车辆描述（可选）",
    "watchlists.reason": "布控事由（必填）",
    "watchlists.expires": "截止日期（可选）",
    "watchlists.save": "保存",
    "watchlists.saved": "已加入名单",
    "watchlists.remove": "撤控",
    "watchlists.removed": "已撤控",
    "watchlists.confirm_remove": "确定撤控 {subject}？",
    "watchlists.none": "名单为空",
    "watchlists.col.subject": "对象",
    "watchlists.col.label": "姓名 / 描述",
    "watchlists.col.reason": "事由",
    "watchlists.col.added": "布控人 / 时间",
    "watchlists.col.expires": "截止",
    "watchlists.col.state": "状态",
    "watchlists.in_force": "有效",
    "watchlists.lapsed": "已失效",
    "watchlists.page": "第 {from}–{to} 条，共 {total} 条",
    "watchlists.prev": "上一页",
    "watchlists.next": "下一页",
    "watchlists.recent": "最近盘查",
    "watchlists.no_checks": "暂无盘查记录",
    "watchlists.col.when": "时间",
    "watchlists.col.officer": "民警",
    "watchlists.col.kind": "类别",
    "watchlists.col.result": "结果",
    "watchlists.kind.person": "人员",
    "watchlists.kind.vehicle": "车辆",
    "watchlists.result.clear": "未见异常",
    "watchlists.result.hit": "比中",
    "watchlists.refresh": "刷新",
    "error.unknown_watchlist": "没有这个名单",
    "error.watchlist_entry_not_found": "该布控不存在或已撤控",
    "error.expiry_in_past": "截止日期已过",
    "error.bad_plate": "车牌号格式不符",
    "error.reason_required": "请填写事由",
  },
  en: {
    "watchlists.heading": "Watch lists",
    "watchlists.list.wanted": "Wanted",
    "watchlists.list.missing": "Missing",
    "watchlists.list.stolen_vehicle": "Stolen vehicles",
    "watchlists.list.vehicle_of_interest": "Vehicles of interest",
    "watchlists.add": "Add an entry",
    "watchlists.subject.person": "Identity number",
    "watchlists.subject.vehicle": "Plate",
    "watchlists.label": "Name / description (optional)",
    "watchlists.reason": "Why (required)",
    "watchlists.expires": "Until (optional)",
    "watchlists.save": "Save",
    "watchlists.saved": "Added to the list",
    "watchlists.remove": "Remove",
    "watchlists.removed": "Removed from the list",
    "watchlists.confirm_remove": "Remove {subject} from the list?",
    "watchlists.none": "The list is empty",
    "watchlists.col.subject": "Subject",
    "watchlists.col.label": "Name / description",
    "watchlists.col.reason": "Why",
    "watchlists.col.added": "Added by / when",
    "watchlists.col.expires": "Until",
    "watchlists.col.state": "State",
    "watchlists.in_force": "in force",
    "watchlists.lapsed": "lapsed",
    "watchlists.page": "{from}–{to} of {total}",
    "watchlists.prev": "Previous",
    "watchlists.next": "Next",
    "watchlists.recent": "Latest checks",
    "watchlists.no_checks": "No checks yet",
    "watchlists.col.when": "When",
    "watchlists.col.officer": "Officer",
    "watchlists.col.kind": "Kind",
    "watchlists.col.result": "Result",
    "watchlists.kind.person": "Person",
    "watchlists.kind.vehicle": "Vehicle",
    "watchlists.result.clear": "clear",
    "watchlists.result.hit": "HIT",
    "watchlists.refresh": "Refresh",
    "error.unknown_watchlist": "No such list",
    "error.watchlist_entry_not_found": "No such entry, or already removed",
    "error.expiry_in_past": "That date has passed",
    "error.bad_plate": "Not a plate number",
    "error.reason_required": "State why",
  },
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export default {
  id: "watchlists",
  needs: "watchlist.admin",
  title: { "zh-CN": "布控名单", en: "Watch lists" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    let list = "wanted";
    let offset = 0;
    let page = null;
    let checks = [];
    const element = el("section", { className: "watchlists" });
    const tabs = el(
      "div",
      { className: "watchlists-lists", role: "tablist" },
      ...LISTS.map((l) => el("button", { type: "button", "data-list": l, i18n: `watchlists.list.${l}` })),
    );
    const subjectLabel = el("span");
    const form = el(
      "form",
      { className: "watchlists-add" },
      el("h3", { i18n: "watchlists.add" }),
      el("label", {}, subjectLabel, el("input", { name: "subject", required: "", autocomplete: "off" })),
      el("label", {}, el("span", { i18n: "watchlists.label" }), el("input", { name: "label", autocomplete: "off" })),
      el("label", {}, el("span", { i18n: "watchlists.reason" }), el("input", { name: "reason", required: "" })),
      el("label", {}, el("span", { i18n: "watchlists.expires" }), el("input", { name: "expires", type: "date" })),
      el("button", { type: "submit", i18n: "watchlists.save" }),
    );
    const table = el("div", { className: "watchlists-table" });
    const pager = el(
      "div",
      { className: "watchlists-pager" },
      el("button", { type: "button", "data-step": "-1", i18n: "watchlists.prev" }),
      el("span", { className: "watchlists-count" }),
      el("button", { type: "button", "data-step": "1", i18n: "watchlists.next" }),
    );
    const recent = el("div", { className: "watchlists-recent" });
    element.append(
      el("h2", { i18n: "watchlists.heading" }),
      el("button", { type: "button", className: "watchlists-refresh", i18n: "watchlists.refresh" }),
      tabs,
      form,
      table,
      pager,
      el("h3", { i18n: "watchlists.recent" }),
      recent,
    );

    const when = (iso) => (iso ? new Date(iso).toLocaleString(desk.i18n.lang) : "—");
    const isPerson = () => list === "wanted" || list === "missing";

    function render() {
      for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-selected", String(b.dataset.list === list));
      subjectLabel.textContent = t(isPerson() ? "watchlists.subject.person" : "watchlists.subject.vehicle");
      table.replaceChildren();
      const entries = page ? page.entries : [];
      if (!entries.length) table.append(el("p", { i18n: "watchlists.none" }));
      else {
        const head = el(
          "tr",
          {},
          ...["subject", "label", "reason", "added", "expires", "state"].map((c) => el("th", { i18n: `watchlists.col.${c}` })),
          el("th"),
        );
        const rows = entries.map((e) => {
          const remove = el("button", { type: "button", className: "watchlists-remove", i18n: "watchlists.remove" });
          remove.addEventListener("click", () => removeEntry(e));
          return el(
            "tr",
            { "data-entry-id": e.entry_id },
            el("td", { className: "watchlists-subject" }, e.subject),
            el("td", {}, e.label || ""),
            el("td", {}, e.reason),
            el("td", {}, `${e.added_by} · ${when(e.added_at)}`),
            el("td", {}, e.expires_at ? when(e.expires_at) : "—"),
            el("td", { i18n: e.in_force ? "watchlists.in_force" : "watchlists.lapsed" }),
            el("td", {}, e.removed_at ? "" : remove),
          );
        });
        table.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
      }
      const total = page ? page.total : 0;
      pager.querySelector(".watchlists-count").textContent = total
        ? t("watchlists.page", { from: offset + 1, to: offset + entries.length, total })
        : "";
      pager.querySelector('[data-step="-1"]').disabled = offset === 0;
      pager.querySelector('[data-step="1"]').disabled = !page || page.next_offset === null;
      recent.replaceChildren();
      if (!checks.length) recent.append(el("p", { i18n: "watchlists.no_checks" }));
      else {
        const head = el("tr", {}, ...["when", "officer", "kind", "subject", "reason", "result"].map((c) => el("th", { i18n: `watchlists.col.${c === "reason" ? "reason" : c}` })));
        const rows = checks.map((c) =>
          el(
            "tr",
            { "data-result": c.result },
            el("td", {}, when(c.checked_at)),
            el("td", {}, c.unit_id ? `${c.officer} (${c.unit_id})` : c.officer),
            el("td", { i18n: `watchlists.kind.${c.kind}` }),
            el("td", {}, c.subject),
            el("td", {}, c.reason),
            el("td", { i18n: `watchlists.result.${c.result}` }),
          ),
        );
        recent.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
      }
      desk.i18n.apply(element);
    }

    async function refresh() {
      const [found, latest] = await Promise.all([
        desk.api.get(`/api/watchlists/${list}/entries?limit=${PAGE}&offset=${offset}`),
        desk.api.get("/api/checks?limit=30"),
      ]);
      page = found;
      checks = latest;
      render();
    }

    async function removeEntry(entry) {
      if (!window.confirm(t("watchlists.confirm_remove", { subject: entry.subject }))) return;
      try {
        await desk.api.request("DELETE", `/api/watchlists/${list}/entries/${entry.entry_id}`);
        desk.notice(t("watchlists.removed"));
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
      await refresh();
    }

    tabs.addEventListener("click", (e) => {
      const button = e.target.closest("[data-list]");
      if (!button) return;
      list = button.dataset.list;
      offset = 0;
      refresh().catch((exc) => desk.notice(desk.errorText(exc)));
    });
    pager.addEventListener("click", (e) => {
      const button = e.target.closest("[data-step]");
      if (!button || !page) return;
      offset = Math.max(0, offset + Number(button.dataset.step) * PAGE);
      refresh().catch((exc) => desk.notice(desk.errorText(exc)));
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body = { subject: String(data.get("subject") || "").trim(), reason: String(data.get("reason") || "") };
      const label = String(data.get("label") || "").trim();
      if (label) body.label = label;
      const expires = String(data.get("expires") || "");
      // The end of that day, in the browser's zone (the desk's).
      if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
      try {
        await desk.api.post(`/api/watchlists/${list}/entries`, body);
        form.reset();
        desk.notice(t("watchlists.saved"));
        offset = 0;
        await refresh();
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    });
    element
      .querySelector(".watchlists-refresh")
      .addEventListener("click", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));
    render();
    return { element, refresh, render };
  },
};
