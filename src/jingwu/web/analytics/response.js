// Response times (出警时效): the three stages' percentiles in minutes, the share of arrivals
// within 5 minutes with its counts, the figures by priority, and the trend of call→arrival.

import { withinScope } from "./caveats.js";
import { Chart, trendLines } from "./charts.js";
import { el, minutes, number, percent, table } from "./dom.js";

export const STAGES = ["call_to_dispatch", "dispatch_to_arrival", "call_to_arrival"];

export class ResponseSection {
  /** @param {import("./app.js").AnalyticsPage} page */
  constructor(page, root) {
    this.page = page;
    this.root = root;
    this.data = null;
    this.failure = null;
    this.error = root.querySelector(".error");
    this.pair = root.querySelector(".pair");
    this.figures = root.querySelector(".times-figures");
    this.chart = new Chart(root.querySelector("#trend-chart"));
  }

  /** The period's figures (never throws: a refusal comes back as `failure`). */
  async fetch({ period, dataset }) {
    const query = new URLSearchParams({ period, dataset });
    try {
      return { data: await this.page.api.get(`/api/analytics/response-times?${query}`), failure: null };
    } catch (exc) {
      return { data: null, failure: exc };
    }
  }

  show({ data, failure }) {
    this.data = data;
    this.failure = failure;
    this.render();
  }

  render() {
    const { page } = this;
    const t = (key, params) => page.t(key, params);
    const { lang } = page.i18n;
    this.error.hidden = !this.failure || page.periodSaid("times");
    this.error.textContent = this.failure ? page.errorText(this.failure) : "";
    this.pair.hidden = !this.data;
    if (!this.data) {
      this.figures.replaceChildren();
      this.chart.show(null);
      return;
    }
    const d = this.data;
    const head = [t("times.stage"), "n", "p50", "p75", "p90"];
    const stats = (s) => [number(s.n, lang), minutes(s.p50_s, lang), minutes(s.p75_s, lang), minutes(s.p90_s, lang)];
    const stages = table(
      head,
      STAGES.map((stage) => [t(`stage.${stage}`), ...stats(d.overall[stage])]),
    );
    const w = d.within_5_min;
    const within = el(
      "div",
      { className: "figure" },
      el("b", { textContent: percent(w.share, lang), dataset: { figure: "within" } }),
      el("span", { textContent: t("times.within", { within: number(w.within, lang), arrivals: number(w.arrivals, lang), of: withinScope(w.of, page.i18n) }) }),
    );
    const priorities = (d.by.priority || []).map((row) => [
      page.priorityName(row.priority),
      ...stats(row.call_to_arrival),
    ]);
    const inconsistent = STAGES.reduce((sum, s) => sum + (d.inconsistent[s] || 0), 0);
    const parts = [
      el("h3", { textContent: t("times.stages") }),
      stages,
      el("p", { className: "hint", textContent: t("times.unit") }),
      within,
      inconsistent ? el("p", { className: "hint", textContent: t("times.inconsistent", { n: inconsistent }) }) : null,
      el("h3", { textContent: t("times.by_priority") }),
      table([t("times.priority"), ...head.slice(1)], priorities),
    ];
    this.figures.replaceChildren(...parts.filter(Boolean));
    const points = d.trend.call_to_arrival;
    this.chart.show(
      points.length
        ? trendLines(points, {
            p50: t("times.p50"),
            p90: t("times.p90"),
            unit: t("times.minutes"),
            target: t("times.target"),
          })
        : null,
    );
  }
}
