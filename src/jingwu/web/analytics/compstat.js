// CompStat (同比): each row's count this period beside the same period a year earlier, the change
// with the raw counts always beside it (a +100 % of 1 → 2 must read as the handful it is), the
// total, the solved table where the records say, the caveats, and the top rows as bars.

import { Chart, compstatBars } from "./charts.js";
import { caveatText } from "./caveats.js";
import { el, number, signedCount, signedPercent, table } from "./dom.js";

export const BREAKDOWNS = ["category", "group", "district", "station"];
const CHART_ROWS = 10;

export class CompStatSection {
  /** @param {import("./app.js").AnalyticsPage} page */
  constructor(page, root) {
    this.page = page;
    this.root = root;
    this.data = null;
    this.failure = null;
    this.by = root.querySelector("#compstat-by");
    // 警情 (every incident by its call) or 案件 (cases by their filing, 立案; solved by 破案).
    this.basis = root.querySelector("#compstat-basis");
    this.basis.addEventListener("change", () => page.refresh(["compstat"]));
    this.pair = root.querySelector(".pair");
    this.tables = root.querySelector(".compstat-tables");
    this.caveats = root.querySelector(".caveats");
    this.error = root.querySelector(".error");
    this.chart = new Chart(root.querySelector("#compstat-chart"));
    this.by.addEventListener("change", () => page.refresh(["compstat"]));
    this.fillBreakdowns();
  }

  fillBreakdowns() {
    const chosen = this.by.value || "category";
    this.by.replaceChildren(...BREAKDOWNS.map((b) => el("option", { value: b, textContent: this.page.t(`by.${b}`) })));
    this.by.value = chosen;
  }

  /** The table of the period (never throws: a refusal comes back as `failure`). */
  async fetch({ period, dataset }) {
    const query = new URLSearchParams({
      period,
      dataset,
      by: this.by.value || "category",
      basis: this.basis.value || "records",
    });
    try {
      return { data: await this.page.api.get(`/api/analytics/compstat?${query}`), failure: null };
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
    this.fillBreakdowns();
    const { page } = this;
    this.error.hidden = !this.failure || page.periodSaid("compstat");
    this.error.textContent = this.failure ? page.errorText(this.failure) : "";
    // Nothing to show: no empty table and chart frame under the error.
    this.pair.hidden = !this.data;
    if (!this.data) {
      this.tables.replaceChildren();
      this.caveats.replaceChildren();
      this.chart.show(null);
      return;
    }
    const d = this.data;
    const label = (key) => page.keyLabel(d.by, key);
    const title = d.basis === "cases" ? "compstat.filed" : "compstat.records";
    const parts = [this.table(d.filed, d, title, label, "filed")];
    if (d.solved) parts.push(this.table(d.solved, d, "compstat.solved", label, "solved"));
    this.tables.replaceChildren(...parts);
    this.caveats.replaceChildren(
      ...(d.caveats.length
        ? [el("h3", { textContent: page.t("compstat.caveats") }), el("ul", {}, ...d.caveats.map((c) => el("li", { textContent: caveatText(c, page.i18n) })))]
        : []),
    );
    const rows = d.filed.rows.slice(0, CHART_ROWS).map((r) => ({ ...r, label: label(r.key) }));
    this.chart.show(
      rows.length
        ? compstatBars(rows, {
            current: page.t("compstat.current", { period: d.period }),
            previous: page.t("compstat.previous", { period: d.previous_period }),
          })
        : null,
    );
  }

  /** One table: rows, then the total; an increase is marked bad for filed, good for solved. */
  table(part, d, titleKey, label, kind) {
    const { lang } = this.page.i18n;
    const change = (row) => {
      const diff = row.current - row.previous;
      const sense = diff === 0 ? "" : (diff > 0) === (kind === "filed") ? "worse" : "better";
      return el(
        "td",
        { className: `num change ${sense}`, title: this.page.t("compstat.change_title", { current: row.current, previous: row.previous }) },
        `${signedCount(diff, lang)} · ${signedPercent(row.change_pct, lang)}`,
      );
    };
    // The total's cells are marked (data-total) for the tests and for anyone reading the DOM.
    const line = (row, name, total = false) =>
      el(
        "tr",
        { className: total ? "total" : "" },
        el("td", { textContent: name }),
        el("td", { className: "num", textContent: number(row.current, lang), dataset: total ? { total: "current" } : {} }),
        el("td", { className: "num", textContent: number(row.previous, lang), dataset: total ? { total: "previous" } : {} }),
        change(row),
      );
    const head = [
      this.page.t(`by.${d.by}`),
      this.page.t("compstat.current", { period: d.period }),
      this.page.t("compstat.previous", { period: d.previous_period }),
      this.page.t("compstat.change"),
    ];
    return el(
      "div",
      { className: `compstat-table ${kind}` },
      el("h3", { textContent: this.page.t(titleKey) }),
      table(head, part.rows.map((r) => line(r, label(r.key))), {
        foot: [line(part.total, this.page.t("compstat.total"), true)],
      }),
    );
  }
}
