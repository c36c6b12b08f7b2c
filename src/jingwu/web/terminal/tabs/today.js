// 今日工作: the community officer's work list on one page — collections the station returned, the
// disputes they follow (overdue follow-ups first, rising risk next) and the residents' applications
// waiting for a visit. Each line opens the tab where the work is done. Read when shown; offline, the
// last list stays with a note of when it was read.

const ROLES = ["community_officer"];

const STRINGS = {
  "zh-CN": {
    "today.title": "今日工作",
    "today.returned": "退回的采集",
    "today.returned_none": "没有退回的采集",
    "today.disputes": "跟进中的纠纷",
    "today.disputes_none": "没有待跟进的纠纷",
    "today.applications": "待核查的申请",
    "today.applications_none": "没有待核查的申请",
    "today.overdue": "回访逾期 {n} 天",
    "today.due": "回访日期 {date}",
    "today.rising": "风险上升",
    "today.risk": "风险：{level}",
    "today.reason": "退回原因：{reason}",
    "today.read_at": "更新于 {time}",
    "today.offline": "离线：显示的是 {time} 的列表",
    "today.refresh": "刷新",
    "today.failed": "无法读取：{why}",
    "today.risk_low": "低",
    "today.risk_medium": "中",
    "today.risk_high": "高",
    "today.risk_critical": "极高",
  },
  en: {
    "today.title": "Today",
    "today.returned": "Collections returned",
    "today.returned_none": "No collection came back",
    "today.disputes": "Disputes to follow up",
    "today.disputes_none": "No dispute to follow up",
    "today.applications": "Applications to verify",
    "today.applications_none": "No application waits for a visit",
    "today.overdue": "follow-up {n} days overdue",
    "today.due": "follow-up on {date}",
    "today.rising": "risk rising",
    "today.risk": "risk: {level}",
    "today.reason": "returned: {reason}",
    "today.read_at": "read at {time}",
    "today.offline": "offline: the list of {time}",
    "today.refresh": "Refresh",
    "today.failed": "could not read: {why}",
    "today.risk_low": "low",
    "today.risk_medium": "medium",
    "today.risk_high": "high",
    "today.risk_critical": "critical",
  },
};

/** One section: its title with a count, and its lines (or a line saying there is nothing). */
function section(i18n, titleKey, noneKey, lines) {
  const box = document.createElement("section");
  box.className = "card today-section";
  const head = document.createElement("h3");
  head.textContent = `${i18n.t(titleKey)} · ${lines.length}`;
  box.append(head);
  if (!lines.length) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = i18n.t(noneKey);
    box.append(none);
    return box;
  }
  const list = document.createElement("ul");
  list.className = "today-list";
  list.append(...lines);
  box.append(list);
  return box;
}

/** A line of the list (text only: what residents typed is never read as HTML). */
function line(main, detail, { warn = false, onOpen = null } = {}) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = `today-item${warn ? " today-warn" : ""}`;
  const strong = document.createElement("strong");
  strong.textContent = main;
  const small = document.createElement("span");
  small.className = "muted";
  small.textContent = detail;
  button.append(strong, small);
  if (onOpen) button.addEventListener("click", onOpen);
  item.append(button);
  return item;
}

export default {
  id: "today",
  roles: ROLES,
  title: { "zh-CN": "今日工作", en: "Today" },
  strings: STRINGS,
  mount(root, ctx) {
    const { api, i18n } = ctx;
    let data = null; // {returned, disputes, applications, at}
    let failure = null;

    const bar = document.createElement("div");
    bar.className = "today-bar";
    const when = document.createElement("span");
    when.className = "muted";
    const refresh = document.createElement("button");
    refresh.type = "button";
    refresh.className = "btn btn-secondary";
    refresh.addEventListener("click", () => load());
    bar.append(when, refresh);
    const body = document.createElement("div");
    body.className = "today-body";
    root.append(bar, body);

    function render() {
      refresh.textContent = i18n.t("today.refresh");
      if (failure && !data) {
        when.textContent = i18n.t("today.failed", { why: i18n.error(failure) });
        body.replaceChildren();
        return;
      }
      if (!data) return;
      const time = i18n.time(data.at);
      when.textContent = failure ? i18n.t("today.offline", { time }) : i18n.t("today.read_at", { time });
      const returned = data.returned.map((c) =>
        line(c.label, i18n.t("today.reason", { reason: c.return_reason || "—" }), {
          warn: true,
          onOpen: () => ctx.showTab("collect"),
        }),
      );
      const disputes = data.disputes.map((d) => {
        const due = d.overdue_days > 0
          ? i18n.t("today.overdue", { n: d.overdue_days })
          : d.next_follow_up_on
            ? i18n.t("today.due", { date: d.next_follow_up_on })
            : "";
        const risk = i18n.t("today.risk", { level: i18n.t(`today.risk_${d.risk_level}`) });
        const rising = d.risk_rising ? ` · ${i18n.t("today.rising")}` : "";
        return line(`${d.address} · ${d.summary}`, [due, risk + rising].filter(Boolean).join(" · "), {
          warn: d.overdue_days > 0 || d.risk_rising,
          onOpen: () => ctx.showTab("disputes"),
        });
      });
      const applications = data.applications.map((a) =>
        line(`${i18n.lang === "en" ? a.kind_en : a.kind_zh} · ${a.applicant_name}`, a.address, {
          onOpen: () => ctx.showTab("applications"),
        }),
      );
      body.replaceChildren(
        section(i18n, "today.returned", "today.returned_none", returned),
        section(i18n, "today.disputes", "today.disputes_none", disputes),
        section(i18n, "today.applications", "today.applications_none", applications),
      );
    }

    async function load() {
      try {
        const [returned, disputes, applications] = await Promise.all([
          api.get("/api/records/collections?status=returned&mine=true"),
          api.get("/api/disputes/mine"),
          api.get("/api/service/station/applications"),
        ]);
        data = { returned, disputes, applications, at: new Date().toISOString() };
        failure = null;
      } catch (exc) {
        failure = exc;
      }
      render();
    }

    i18n.addEventListener("change", render);
    return {
      show: () => load(),
      hide() {},
    };
  },
};
