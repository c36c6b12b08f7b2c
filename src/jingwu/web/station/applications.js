// 居民申请 at the station desk: the station's applications by stage; the community officer sees
// what waits for verification, the chief (service.approve) approves a verified one (its
// certificate is issued at once) or refuses it with a reason the resident is told, and prints or
// revokes a certificate.

const QUEUE = "/api/service/station/applications";
const STAGES = ["verified", "submitted", "verifying", "missing_documents", "approved", "refused"];

const STRINGS = {
  "zh-CN": {
    "applications.list": "居民申请",
    "applications.refresh": "刷新",
    "applications.stage": "办理阶段",
    "applications.station": "派出所",
    "applications.all": "全部",
    "applications.stage.verified": "待审批",
    "applications.stage.submitted": "待核验（新）",
    "applications.stage.verifying": "待核验（已补交）",
    "applications.stage.missing_documents": "待居民补交",
    "applications.stage.approved": "已办结",
    "applications.stage.refused": "不予办理",
    "applications.col.kind": "事项",
    "applications.col.applicant": "申请人",
    "applications.col.station": "派出所",
    "applications.col.checked": "核验",
    "applications.col.created": "申请时间",
    "applications.none": "暂无申请",
    "applications.approve": "批准并出具证明",
    "applications.refuse": "不予办理",
    "applications.reason": "不予办理的原因（将告知居民）",
    "applications.certificate": "打印证明",
    "applications.revoke": "撤销证明",
    "applications.revoke_reason": "撤销原因",
    "applications.approved": "已批准，核验码 {code}",
    "applications.refused": "已不予办理",
    "applications.revoked": "证明已撤销",
    "applications.checked_by": "{who} 于 {when} 核验",
    "applications.missing": "缺：{list}",
  },
  en: {
    "applications.list": "Residents' applications",
    "applications.refresh": "Refresh",
    "applications.stage": "Stage",
    "applications.station": "Station",
    "applications.all": "All",
    "applications.stage.verified": "to approve",
    "applications.stage.submitted": "to verify (new)",
    "applications.stage.verifying": "to verify (re-submitted)",
    "applications.stage.missing_documents": "waiting for the resident",
    "applications.stage.approved": "approved",
    "applications.stage.refused": "refused",
    "applications.col.kind": "Kind",
    "applications.col.applicant": "Applicant",
    "applications.col.station": "Station",
    "applications.col.checked": "Verification",
    "applications.col.created": "Applied",
    "applications.none": "No applications",
    "applications.approve": "Approve and issue",
    "applications.refuse": "Refuse",
    "applications.reason": "Why it is refused (the resident is told)",
    "applications.certificate": "Print the certificate",
    "applications.revoke": "Revoke the certificate",
    "applications.revoke_reason": "Why it is revoked",
    "applications.approved": "Approved; code {code}",
    "applications.refused": "Refused",
    "applications.revoked": "Certificate revoked",
    "applications.checked_by": "verified by {who} at {when}",
    "applications.missing": "missing: {list}",
  },
};

const STYLE = `
.applications-desk .reason { min-width: 260px; }
.applications-desk td.actions { display: flex; gap: 6px; flex-wrap: wrap; justify-content: flex-end; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export default {
  id: "applications",
  needs: "service.handle",
  title: { "zh-CN": "居民申请", en: "Applications" },
  strings: STRINGS,
  create(desk) {
    const t = (key, params) => desk.i18n.t(key, params);
    const pick = (zh, en) => (desk.i18n.lang === "en" ? en : zh);
    const canApprove = desk.permissions.has("service.approve");
    const stageSelect = el("select", { name: "stage" });
    const stationSelect = el("select", { name: "station" });
    const body = el("tbody");
    const element = el(
      "section",
      { className: "applications-desk" },
      el("style", {}, STYLE),
      el(
        "div",
        { className: "bar" },
        el("h2", { i18n: "applications.list" }),
        el("button", { type: "button", className: "applications-refresh", i18n: "applications.refresh", onclick: () => refresh() }),
      ),
      el(
        "form",
        { className: "card inline" },
        el("label", {}, el("span", { i18n: "applications.stage" }), stageSelect),
        el("label", {}, el("span", { i18n: "applications.station" }), stationSelect),
      ),
      el(
        "table",
        { className: "list applications-list" },
        el("thead", {}, el("tr", {}, ...["kind", "applicant", "station", "checked", "created"].map((c) => el("th", { i18n: `applications.col.${c}` })), el("th"))),
        body,
      ),
    );
    let rows = [];

    function options() {
      const keep = [stageSelect.value || (canApprove ? "verified" : "submitted"), stationSelect.value];
      stageSelect.replaceChildren(...STAGES.map((s) => el("option", { value: s, textContent: t(`applications.stage.${s}`) })));
      stationSelect.replaceChildren(
        el("option", { value: "", textContent: t("applications.all") }),
        ...desk.stations.map((s) => el("option", { value: s.id, textContent: s.name })),
      );
      [stageSelect.value, stationSelect.value] = keep;
    }

    async function refresh() {
      const query = new URLSearchParams();
      const stage = stageSelect.value;
      if (stage === "submitted") query.append("status", "submitted");
      else query.append("status", stage);
      if (stage === "submitted") query.append("status", "verifying");
      if (stationSelect.value) query.set("station_id", stationSelect.value);
      try {
        rows = await desk.api.get(`${QUEUE}?${query}`);
      } catch (exc) {
        desk.notice(desk.errorText(exc));
        rows = [];
      }
      render();
    }

    async function act(a, action, payload, done) {
      try {
        const answer = await desk.api.post(`${QUEUE}/${encodeURIComponent(a.id)}/${action}`, payload);
        desk.notice(done(answer));
        await refresh();
      } catch (exc) {
        desk.notice(desk.errorText(exc));
      }
    }

    async function print(a) {
      try {
        const response = await fetch(`${QUEUE}/${encodeURIComponent(a.id)}/certificate`, {
          headers: { Authorization: `Bearer ${desk.api.token}` },
          cache: "no-store",
        });
        if (!response.ok) throw new Error(response.statusText);
        const url = URL.createObjectURL(await response.blob());
        window.open(url, "_blank", "noopener");
        setTimeout(() => URL.revokeObjectURL(url), 120_000);
      } catch (exc) {
        desk.notice(String(exc));
      }
    }

    function actions(a) {
      const cell = el("td", { className: "actions" });
      if (canApprove && a.status === "verified") {
        cell.append(
          el("button", {
            type: "button",
            className: "primary approve",
            textContent: t("applications.approve"),
            onclick: () => act(a, "approve", {}, (r) => t("applications.approved", { code: r.certificate_code })),
          }),
        );
      }
      if (canApprove && !["approved", "refused"].includes(a.status)) {
        const reason = el("input", { className: "reason", maxLength: 500, placeholder: t("applications.reason") });
        cell.append(
          reason,
          el("button", {
            type: "button",
            className: "danger refuse",
            textContent: t("applications.refuse"),
            onclick: () => {
              if (!reason.value.trim()) return reason.focus();
              act(a, "refuse", { reason: reason.value.trim() }, () => t("applications.refused"));
            },
          }),
        );
      }
      if (a.status === "approved" && a.certificate_code) {
        cell.append(el("button", { type: "button", className: "certificate", textContent: t("applications.certificate"), onclick: () => print(a) }));
        if (canApprove) {
          const reason = el("input", { className: "reason", maxLength: 500, placeholder: t("applications.revoke_reason") });
          cell.append(
            reason,
            el("button", {
              type: "button",
              className: "danger revoke",
              textContent: t("applications.revoke"),
              onclick: async () => {
                if (!reason.value.trim()) return reason.focus();
                try {
                  await desk.api.post(`/api/service/certificates/${encodeURIComponent(a.certificate_code)}/revoke`, { reason: reason.value.trim() });
                  desk.notice(t("applications.revoked"));
                } catch (exc) {
                  desk.notice(desk.errorText(exc));
                }
              },
            }),
          );
        }
      }
      return cell;
    }

    function render() {
      options();
      desk.i18n.apply(element);
      if (!rows.length) {
        body.replaceChildren(el("tr", {}, el("td", { colSpan: 6, className: "muted", textContent: t("applications.none") })));
        return;
      }
      body.replaceChildren(
        ...rows.map((a) =>
          el(
            "tr",
            { dataset: { application: a.id, status: a.status } },
            el("td", {}, pick(a.kind_zh, a.kind_en), el("div", { className: "hint", textContent: a.purpose || "" })),
            el("td", {}, `${a.applicant_name} `, el("span", { className: "muted", textContent: a.id_number })),
            el("td", { textContent: a.station_name }),
            el(
              "td",
              {},
              a.verified_by ? t("applications.checked_by", { who: a.verified_by, when: new Date(a.verified_at).toLocaleString(desk.i18n.lang) }) : "",
              a.missing.length
                ? el("div", { className: "badge warn", textContent: t("applications.missing", { list: a.missing.map((m) => pick(m.zh, m.en)).join("、") }) })
                : null,
              a.refusal_reason ? el("div", { className: "badge bad", textContent: a.refusal_reason }) : null,
            ),
            el("td", { textContent: new Date(a.created_at).toLocaleString(desk.i18n.lang) }),
            actions(a),
          ),
        ),
      );
    }

    stageSelect.addEventListener("change", refresh);
    stationSelect.addEventListener("change", refresh);
    options();
    return { element, refresh, render };
  },
};
