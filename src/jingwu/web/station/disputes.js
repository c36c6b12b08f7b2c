// 矛盾纠纷 at the station desk: the station's open disputes in work order (overdue follow-ups first,
// then rising risk, then by risk), filtered by station, risk and overdue; a case's detail with its
// reasons, visits and their photos, agreements, follow-ups and the calls that escalated it; the
// parties' data read with a stated reason (audited); a follow-up set, a case closed.

const RISKS = ["low", "medium", "high", "critical"];
const OUTCOMES = ["resolved", "referred", "withdrawn", "other"];
const RISK_COLOURS = { low: "#4a7", medium: "#c90", high: "#d50", critical: "#c00" };

const STRINGS = {
  "zh-CN": {
    "disputes.list": "矛盾纠纷",
    "disputes.refresh": "刷新",
    "disputes.station": "派出所",
    "disputes.all": "全部",
    "disputes.risk": "风险",
    "disputes.overdue_only": "只看回访逾期",
    "disputes.col.risk": "风险",
    "disputes.col.kind": "类型",
    "disputes.col.address": "地址",
    "disputes.col.parties": "当事人",
    "disputes.col.officer": "社区民警",
    "disputes.col.follow_up": "回访",
    "disputes.none": "暂无未结纠纷",
    "disputes.overdue": "逾期 {n} 天",
    "disputes.rising": "风险上升",
    "disputes.kind.neighbour": "邻里",
    "disputes.kind.family": "家庭",
    "disputes.kind.labour": "劳资",
    "disputes.kind.property": "物业房产",
    "disputes.kind.debt": "债务",
    "disputes.kind.other": "其他",
    "disputes.risk.low": "低",
    "disputes.risk.medium": "中",
    "disputes.risk.high": "高",
    "disputes.risk.critical": "极高",
    "disputes.reasons": "风险依据",
    "disputes.visits": "走访记录",
    "disputes.agreements": "调解协议",
    "disputes.follow_ups": "回访计划",
    "disputes.incidents": "关联警情",
    "disputes.no_entries": "无",
    "disputes.done": "已完成",
    "disputes.parties_reason": "查看当事人信息的事由（记入审计）",
    "disputes.show_parties": "查看当事人",
    "disputes.add_follow_up": "安排回访",
    "disputes.due_on": "回访日期",
    "disputes.close": "结案",
    "disputes.outcome": "结果",
    "disputes.outcome.resolved": "调解成功",
    "disputes.outcome.referred": "移交其他部门",
    "disputes.outcome.withdrawn": "当事人撤回",
    "disputes.outcome.other": "其他",
    "disputes.note": "说明",
    "disputes.saved": "已保存",
  },
  en: {
    "disputes.list": "Disputes",
    "disputes.refresh": "Refresh",
    "disputes.station": "Station",
    "disputes.all": "All",
    "disputes.risk": "Risk",
    "disputes.overdue_only": "Overdue follow-ups only",
    "disputes.col.risk": "Risk",
    "disputes.col.kind": "Kind",
    "disputes.col.address": "Address",
    "disputes.col.parties": "Parties",
    "disputes.col.officer": "Officer",
    "disputes.col.follow_up": "Follow-up",
    "disputes.none": "No open disputes",
    "disputes.overdue": "{n} days overdue",
    "disputes.rising": "risk rising",
    "disputes.kind.neighbour": "neighbour",
    "disputes.kind.family": "family",
    "disputes.kind.labour": "labour",
    "disputes.kind.property": "property",
    "disputes.kind.debt": "debt",
    "disputes.kind.other": "other",
    "disputes.risk.low": "low",
    "disputes.risk.medium": "medium",
    "disputes.risk.high": "high",
    "disputes.risk.critical": "critical",
    "disputes.reasons": "Why this risk",
    "disputes.visits": "Visits",
    "disputes.agreements": "Agreements",
    "disputes.follow_ups": "Follow-ups",
    "disputes.incidents": "Calls",
    "disputes.no_entries": "none",
    "disputes.done": "done",
    "disputes.parties_reason": "Why you look at the parties (audited)",
    "disputes.show_parties": "Show the parties",
    "disputes.add_follow_up": "Set a follow-up",
    "disputes.due_on": "Day",
    "disputes.close": "Close the case",
    "disputes.outcome": "Outcome",
    "disputes.outcome.resolved": "resolved",
    "disputes.outcome.referred": "referred",
    "disputes.outcome.withdrawn": "withdrawn",
    "disputes.outcome.other": "other",
    "disputes.note": "Note",
    "disputes.saved": "Saved",
  },
};

const STYLE = `
.disputes-desk .risk { padding: 1px 6px; border-radius: 4px; color: #fff; }
.disputes-desk tr[data-overdue]:not([data-overdue="0"]) .follow { color: var(--warn); font-weight: 600; }
.disputes-desk tbody tr { cursor: pointer; }
.disputes-desk tbody tr[aria-selected="true"] { outline: 2px solid var(--accent); }
.disputes-detail { margin-top: 12px; }
.disputes-detail ul { margin: 0; padding-left: 18px; }
.disputes-detail .photos img { max-height: 96px; margin: 4px; border-radius: 4px; }
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
  id: "disputes",
  needs: "dispute.read",
  title: { "zh-CN": "矛盾纠纷", en: "Disputes" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    const canWrite = desk.permissions.has("dispute.write");
    const element = el("section", { className: "disputes-desk" }, el("style", {}, STYLE));
    const stationSelect = el("select", { name: "station" });
    const riskSelect = el("select", { name: "risk" });
    const overdueBox = el("input", { type: "checkbox", name: "overdue" });
    const body = el("tbody");
    const detail = el("div", { className: "card disputes-detail", hidden: true });
    const filters = el(
      "form",
      { className: "card inline disputes-filters" },
      el("label", {}, el("span", { i18n: "disputes.station" }), stationSelect),
      el("label", {}, el("span", { i18n: "disputes.risk" }), riskSelect),
      el("label", {}, el("span", { i18n: "disputes.overdue_only" }), overdueBox),
    );
    const head = ["risk", "kind", "address", "parties", "officer", "follow_up"].map((c) => el("th", { i18n: `disputes.col.${c}` }));
    element.append(
      el("div", { className: "bar" }, el("h2", { i18n: "disputes.list" }), el("button", { type: "button", className: "disputes-refresh", i18n: "disputes.refresh" })),
      filters,
      el("table", { className: "list disputes-list" }, el("thead", {}, el("tr", {}, ...head)), body),
      detail,
    );
    let cases = [];
    let selected = null;
    let photoUrls = [];

    function options() {
      const keep = [stationSelect.value, riskSelect.value];
      stationSelect.replaceChildren(
        el("option", { value: "", textContent: t("disputes.all") }),
        ...desk.stations.filter((s) => (desk.holds ? desk.holds(s) : true)).map((s) => el("option", { value: s.id, textContent: s.name })),
      );
      riskSelect.replaceChildren(
        el("option", { value: "", textContent: t("disputes.all") }),
        ...RISKS.map((r) => el("option", { value: r, textContent: t(`disputes.risk.${r}`) })),
      );
      [stationSelect.value, riskSelect.value] = keep;
    }

    const badge = (risk) => {
      const node = el("span", { className: "risk", textContent: t(`disputes.risk.${risk}`) });
      node.style.background = RISK_COLOURS[risk] || "#888";
      return node;
    };

    function followText(c) {
      if (c.overdue_days > 0) return t("disputes.overdue", { n: c.overdue_days });
      return c.next_follow_up_on || "—";
    }

    function renderList() {
      const rows = cases.map((c) => {
        const row = el(
          "tr",
          {},
          el("td", {}, badge(c.risk_level), c.risk_rising ? ` ${t("disputes.rising")}` : ""),
          el("td", { textContent: t(`disputes.kind.${c.kind}`) }),
          el("td", { textContent: c.address }),
          el("td", { textContent: c.parties.map((p) => p.name).join("、") }),
          el("td", { textContent: c.officer || "—" }),
          el("td", { className: "follow", textContent: followText(c) }),
        );
        row.dataset.id = c.id;
        row.dataset.overdue = String(c.overdue_days);
        row.dataset.risk = c.risk_level;
        row.setAttribute("aria-selected", String(c.id === selected));
        row.addEventListener("click", () => open(c.id));
        return row;
      });
      if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 6, className: "muted", textContent: t("disputes.none") })));
      body.replaceChildren(...rows);
    }

    async function refresh() {
      options();
      const query = new URLSearchParams();
      if (stationSelect.value) query.set("station_id", stationSelect.value);
      if (riskSelect.value) query.set("risk", riskSelect.value);
      if (overdueBox.checked) query.set("overdue", "true");
      cases = await desk.api.get(`/api/disputes?${query}`);
      renderList();
      if (selected) await open(selected, true);
    }

    const section = (titleKey, items) =>
      el("div", {}, el("h3", { textContent: t(titleKey) }), items.length ? el("ul", {}, ...items) : el("p", { className: "muted", textContent: t("disputes.no_entries") }));

    async function showPhoto(holder, photo) {
      const response = await fetch(`/api/disputes/photos/${encodeURIComponent(photo.id)}`, {
        headers: { Authorization: `Bearer ${desk.api.token}` },
      });
      if (!response.ok) return;
      const url = URL.createObjectURL(await response.blob());
      photoUrls.push(url);
      holder.append(el("img", { src: url, alt: photo.id }));
    }

    async function open(id, quiet = false) {
      selected = id;
      renderList();
      let c;
      try {
        c = await desk.api.get(`/api/disputes/${encodeURIComponent(id)}`);
      } catch (exc) {
        if (!quiet) desk.notice(desk.errorText(exc));
        return;
      }
      for (const url of photoUrls) URL.revokeObjectURL(url);
      photoUrls = [];
      const lang = desk.i18n.lang;
      const visits = c.visits.map((v) => {
        const photos = el("div", { className: "photos" });
        for (const p of v.photos) showPhoto(photos, p);
        return el("li", {}, `${new Date(v.visited_at).toLocaleString(lang)} · ${v.created_by}：${v.note}`, photos);
      });
      const partiesOut = el("ul", { className: "disputes-parties" });
      const partiesForm = el(
        "form",
        { className: "row" },
        el("input", { name: "reason", placeholder: t("disputes.parties_reason"), required: true, size: 30 }),
        el("button", { type: "submit", textContent: t("disputes.show_parties") }),
      );
      partiesForm.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          const full = desk.permissions.has("personal_data.full");
          const reason = encodeURIComponent(partiesForm.elements.reason.value.trim());
          const shown = await desk.api.get(`/api/disputes/${encodeURIComponent(id)}/parties?reason=${reason}&full=${full}`);
          partiesOut.replaceChildren(...shown.map((p) => el("li", { textContent: [p.name, p.phone, p.id_number].filter(Boolean).join(" · ") })));
        } catch (exc) {
          desk.notice(desk.errorText(exc));
        }
      });
      const parts = [
        el("h2", {}, badge(c.risk_level), ` ${t(`disputes.kind.${c.kind}`)} · ${c.address}`),
        el("p", { textContent: c.summary }),
        section("disputes.reasons", c.risk_reasons.map((r) => el("li", { textContent: lang === "en" ? r.en : r.zh }))),
        section("disputes.visits", visits),
        section("disputes.agreements", c.agreements.map((a) => el("li", { textContent: `${a.agreed_on} · ${a.text}` }))),
        section("disputes.follow_ups", c.follow_ups.map((f) => el("li", { textContent: `${f.due_on}${f.note ? ` · ${f.note}` : ""}${f.done_at ? ` · ${t("disputes.done")}` : ""}` }))),
        section("disputes.incidents", c.incidents.map((i) => el("li", { textContent: `${i.incident_id} · ${t(`disputes.risk.${i.risk_before}`)} → ${t(`disputes.risk.${i.risk_after}`)}` }))),
        partiesForm,
        partiesOut,
      ];
      if (canWrite && c.status === "open") {
        const follow = el(
          "form",
          { className: "row disputes-follow" },
          el("input", { type: "date", name: "due_on", required: true }),
          el("input", { name: "note", placeholder: t("disputes.note") }),
          el("button", { type: "submit", textContent: t("disputes.add_follow_up") }),
        );
        follow.addEventListener("submit", (e) => write(e, `/api/disputes/${encodeURIComponent(id)}/follow-ups`, {
          due_on: follow.elements.due_on.value,
          ...(follow.elements.note.value.trim() ? { note: follow.elements.note.value.trim() } : {}),
        }));
        const close = el(
          "form",
          { className: "row disputes-close" },
          el("select", { name: "outcome" }, ...OUTCOMES.map((o) => el("option", { value: o, textContent: t(`disputes.outcome.${o}`) }))),
          el("input", { name: "note", placeholder: t("disputes.note"), required: true }),
          el("button", { type: "submit", className: "danger", textContent: t("disputes.close") }),
        );
        close.addEventListener("submit", (e) => write(e, `/api/disputes/${encodeURIComponent(id)}/close`, {
          outcome: close.elements.outcome.value,
          note: close.elements.note.value.trim(),
        }));
        parts.push(follow, close);
      }
      detail.replaceChildren(...parts);
      detail.hidden = false;
    }

    async function write(event, path, payload) {
      event.preventDefault();
      try {
        await desk.api.post(path, payload);
        desk.notice(t("disputes.saved"));
        await refresh();
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    }

    filters.addEventListener("change", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));
    element.querySelector(".disputes-refresh").addEventListener("click", () => refresh().catch((exc) => desk.notice(desk.errorText(exc))));
    desk.i18n.apply(element);
    return {
      element,
      refresh,
      render() {
        desk.i18n.apply(element);
        renderList();
        if (selected) open(selected, true);
      },
    };
  },
};

