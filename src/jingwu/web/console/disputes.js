// Beside the selected incident: the open disputes (矛盾纠纷) at its address or with its caller as a
// party — "此地址有未结家庭纠纷，风险：高". A dispatcher sending a car to a family quarrel that has
// been brewing for weeks should know it before the crew knocks. Read from
// GET /api/disputes/by-incident/{id}; refreshed when a dispute.escalated event names the incident.

export const DISPUTE_STRINGS = {
  "zh-CN": {
    "dispute.title": "矛盾纠纷",
    "dispute.kind.neighbour": "邻里",
    "dispute.kind.family": "家庭",
    "dispute.kind.labour": "劳资",
    "dispute.kind.property": "物业房产",
    "dispute.kind.debt": "债务",
    "dispute.kind.other": "其他",
    "dispute.risk.low": "低",
    "dispute.risk.medium": "中",
    "dispute.risk.high": "高",
    "dispute.risk.critical": "极高",
    "dispute.at_address": "此地址有未结{kind}纠纷，风险：{risk}",
    "dispute.with_party": "报警人是未结{kind}纠纷的当事人，风险：{risk}",
    "dispute.escalated": "已因本警情升级",
    "dispute.rising": "风险上升",
    "dispute.parties": "当事人：{names}",
    "dispute.follow_up": "下次回访：{day}",
    "dispute.overdue": "回访已逾期 {n} 天",
  },
  en: {
    "dispute.title": "Disputes",
    "dispute.kind.neighbour": "neighbour",
    "dispute.kind.family": "family",
    "dispute.kind.labour": "labour",
    "dispute.kind.property": "property",
    "dispute.kind.debt": "debt",
    "dispute.kind.other": "other",
    "dispute.risk.low": "low",
    "dispute.risk.medium": "medium",
    "dispute.risk.high": "high",
    "dispute.risk.critical": "critical",
    "dispute.at_address": "This address has an open {kind} dispute, risk {risk}",
    "dispute.with_party": "The caller is a party to an open {kind} dispute, risk {risk}",
    "dispute.escalated": "escalated by this call",
    "dispute.rising": "risk rising",
    "dispute.parties": "Parties: {names}",
    "dispute.follow_up": "Next follow-up: {day}",
    "dispute.overdue": "follow-up {n} days overdue",
  },
};

export const RISK_COLOURS = { low: "#4a7", medium: "#c90", high: "#d50", critical: "#c00" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

/** The headline of one dispute beside a call, in the current language. */
export function disputeHeadline(i18n, dispute) {
  const params = {
    kind: i18n.t(`dispute.kind.${dispute.kind}`),
    risk: i18n.t(`dispute.risk.${dispute.risk_level}`),
  };
  const byAddress = (dispute.matched_by || ["address"]).includes("address");
  return i18n.t(byAddress ? "dispute.at_address" : "dispute.with_party", params);
}

export class DisputesBeside {
  /** @param app the console; @param after the element the block goes after (the timers) */
  constructor(app, after) {
    this.app = app;
    this.app.i18n.extend(DISPUTE_STRINGS);
    this.incidentId = null;
    this.disputes = [];
    this.request = 0;
    this.block = el("section", { class: "block", id: "disputes-block", hidden: true },
      el("h3", { textContent: this.app.i18n.t("dispute.title") }),
      el("ul", { class: "list", id: "disputes-beside" }));
    after.after(this.block);
    this.app.i18n.addEventListener("change", () => this.render());
  }

  /** Show the disputes beside `incidentId` (null: none). */
  async load(incidentId) {
    this.incidentId = incidentId;
    const request = ++this.request;
    if (!incidentId || !this.app.can("dispute.read")) {
      this.disputes = [];
      this.render();
      return;
    }
    try {
      const found = await this.app.api.get(`/api/disputes/by-incident/${encodeURIComponent(incidentId)}`);
      if (request !== this.request) return;
      this.disputes = found;
    } catch (exc) {
      if (request !== this.request) return;
      this.disputes = []; // 403/404: nothing to show beside it; the rest of the pane stands
    }
    this.render();
  }

  /** A live event: a dispute escalated by the shown call is re-read. */
  onEvent(event) {
    if (event.type === "dispute.escalated" && event.incident_id === this.incidentId) this.load(this.incidentId);
  }

  render() {
    const t = (key, params) => this.app.i18n.t(key, params);
    this.block.querySelector("h3").textContent = t("dispute.title");
    const list = this.block.querySelector("ul");
    list.replaceChildren();
    for (const d of this.disputes) {
      const flags = [];
      if (d.escalated) flags.push(t("dispute.escalated"));
      if (d.risk_rising) flags.push(t("dispute.rising"));
      if (d.overdue_days > 0) flags.push(t("dispute.overdue", { n: d.overdue_days }));
      const names = (d.parties || []).map((p) => p.name).join("、");
      list.append(
        el("li", { "data-dispute": d.id, "data-risk": d.risk_level },
          el("span", { class: "badge", textContent: t(`dispute.risk.${d.risk_level}`),
            style: `background:${RISK_COLOURS[d.risk_level] || "#888"};color:#fff` }),
          el("span", { class: "grow" },
            el("strong", { class: "dispute-headline", textContent: disputeHeadline(this.app.i18n, d) }),
            el("br"),
            el("small", { textContent: [d.address, names ? t("dispute.parties", { names }) : "", ...flags].filter(Boolean).join(" · ") }),
            el("br"),
            el("small", { textContent: (d.risk_reasons || []).map((r) => (this.app.i18n.lang === "en" ? r.en : r.zh)).join("；") }),
          ),
        ),
      );
    }
    this.block.hidden = this.disputes.length === 0;
  }
}
