// The hotspot forecast beside the map, with what it takes to judge it: the method and how it was
// chosen, its measured hit rate, PAI and PEI* where the month is already in the data, and every
// method back-tested on the months before (the naive count grid and KDE are the baselines a
// forecast must beat to be worth trusting).

import { el, number, percent, table } from "./dom.js";
import { monthEnd, shiftMonth } from "./periods.js";

export const SHARES = ["0.01", "0.03", "0.05"];
export const AREA_SHARES = [0.01, 0.03, 0.05, 0.1];
export const METHODS = ["counts", "kde", "recency-kde", "near-repeat"];
const BASELINES = new Set(["counts", "kde"]);
const BACKTEST_MONTHS = 3;

/** The months to back-test a forecast of `month` on: the few before it that the data can score
 * (each needs a month of records before it, and records of its own). */
export function backtestMonths(month, firstMonth, lastMonth, n = BACKTEST_MONTHS) {
  const months = [];
  for (let back = 1; back <= n; back += 1) {
    const m = shiftMonth(month, -back);
    if (m > firstMonth && m <= lastMonth) months.push(m);
  }
  return months;
}

export class HotspotPanel {
  /**
   * @param {import("./app.js").AnalyticsPage} page
   * @param {import("./heatmap.js").AnalyticsMap} map
   */
  constructor(page, root, map) {
    this.page = page;
    this.map = map;
    this.forecast = null;
    this.scores = null;
    this.failure = null;
    this.scoreFailure = null;
    this.month = root.querySelector("#hot-month");
    this.share = root.querySelector("#hot-share");
    this.method = root.querySelector("#hot-method");
    this.error = root.querySelector(".error");
    this.summary = root.querySelector(".forecast");
    this.baselines = root.querySelector(".baselines");
    this.share.replaceChildren(...AREA_SHARES.map((s) => el("option", { value: String(s), textContent: `${s * 100}%` })));
    this.share.value = "0.05";
    for (const input of [this.month, this.share, this.method]) input.addEventListener("change", () => page.refresh(["hotspots"]));
    root.querySelector("#hotspots-shown").addEventListener("change", (e) => map.setVisible("hotspots", e.target.checked));
    this.fillMethods();
  }

  fillMethods() {
    const chosen = this.method.value || "auto";
    this.method.replaceChildren(
      ...["auto", ...METHODS].map((m) => el("option", { value: m, textContent: this.page.t(`method.${m}`) })),
    );
    this.method.value = chosen;
  }

  /** Follow the period's month (the page calls this when the period changes). */
  follow(month, dataset) {
    const first = dataset && dataset.first ? dataset.first.slice(0, 7) : null;
    const last = dataset && dataset.last ? dataset.last.slice(0, 7) : null;
    // A forecast needs a month of history before it, and can look at most one month ahead.
    let chosen = month;
    if (first && chosen <= first) chosen = shiftMonth(first, 1);
    if (last && chosen > shiftMonth(last, 1)) chosen = shiftMonth(last, 1);
    this.month.value = chosen;
    if (first) this.month.min = shiftMonth(first, 1);
    if (last) this.month.max = shiftMonth(last, 1);
  }

  /** The forecast of the chosen month and the back-tests of the months before it (never throws:
   * refusals come back as failures). */
  async fetch({ dataset }, datasetInfo) {
    const month = this.month.value;
    const first = datasetInfo && datasetInfo.first ? datasetInfo.first.slice(0, 7) : month;
    const last = datasetInfo && datasetInfo.last ? datasetInfo.last.slice(0, 7) : month;
    const query = new URLSearchParams({ month, area_share: this.share.value, method: this.method.value, dataset });
    const months = backtestMonths(month, first, last);
    const scoreQuery = new URLSearchParams([...months.map((m) => ["months", m]), ["dataset", dataset]]);
    const [forecast, scores] = await Promise.allSettled([
      this.page.api.get(`/api/analytics/hotspots?${query}`),
      months.length ? this.page.api.get(`/api/analytics/hotspot-scores?${scoreQuery}`) : Promise.resolve(null),
    ]);
    return {
      forecast: forecast.status === "fulfilled" ? forecast.value : null,
      failure: forecast.status === "rejected" ? forecast.reason : null,
      scores: scores.status === "fulfilled" ? scores.value : null,
      scoreFailure: scores.status === "rejected" ? scores.reason : null,
    };
  }

  show({ forecast, failure, scores, scoreFailure }) {
    Object.assign(this, { forecast, failure, scores, scoreFailure });
    this.map.showHotspots(forecast ? forecast.geojson : null);
    this.render();
  }

  render() {
    this.fillMethods();
    const { page } = this;
    const t = (key, params) => page.t(key, params);
    const { lang } = page.i18n;
    this.error.hidden = !this.failure;
    this.error.textContent = this.failure ? page.errorText(this.failure) : "";
    const f = this.forecast;
    if (!f) {
      this.summary.replaceChildren();
    } else {
      // Scores are measured at 1, 3 and 5 % of the area: the map's own share where it is one of
      // them, else 5 %, said so beside the figure.
      const key = f.score && f.score[String(f.area_share)] ? String(f.area_share) : "0.05";
      const measured = f.score && f.score[key];
      const how = f.chosen_by
        ? f.chosen_by.fallback
          ? t("hot.fallback")
          : t("hot.chosen", { months: f.chosen_by.back_tested_months.join(", ") })
        : t("hot.asked");
      this.summary.replaceChildren(
        el(
          "p",
          { className: "method" },
          el("span", { className: "muted", textContent: `${t("hot.method")} ` }),
          el("b", { textContent: t(`method.${f.method}`), dataset: { method: f.method } }),
          el("span", { className: "hint", textContent: ` ${how}` }),
        ),
        el(
          "div",
          { className: "figures-row" },
          el(
            "div",
            { className: "figure" },
            el("b", { textContent: measured ? number(measured.pai, lang, 2) : "—", dataset: { figure: "pai" } }),
            el("span", { textContent: t("hot.pai_at", { share: percent(Number(key), lang, 0) }) }),
          ),
          el(
            "div",
            { className: "figure" },
            el("b", { textContent: measured ? percent(measured.hit_rate, lang) : "—" }),
            el("span", { textContent: t("hot.hit_rate") }),
          ),
        ),
        el("p", {
          className: "hint",
          textContent: t("hot.cells", {
            cells: number(f.cells, lang),
            size: f.cell_m,
            share: percent(f.area_share, lang, 0),
            area: number(f.study_area_m2 / 1e6, lang, 1),
            trained: number(f.trained_on, lang),
            month: f.for,
          }),
        }),
        f.score
          ? table(
              [t("hot.share"), t("hot.hit_rate"), "PAI", "PEI*"],
              SHARES.filter((s) => f.score[s]).map((s) => [
                percent(Number(s), lang, 0),
                `${percent(f.score[s].hit_rate, lang)} (${f.score[s].hits}/${f.score[s].incidents})`,
                number(f.score[s].pai, lang, 2),
                number(f.score[s].pei_star, lang, 2),
              ]),
            )
          : el("p", { className: "hint", textContent: t("hot.not_yet", { month: f.for, end: monthEnd(f.for).toISOString().slice(0, 10) }) }),
      );
    }
    this.renderBaselines();
  }

  /** Every method's mean over the back-tested months, the chosen one marked, the baselines named. */
  renderBaselines() {
    const { page } = this;
    const t = (key, params) => page.t(key, params);
    const { lang } = page.i18n;
    const s = this.scores;
    if (!s) {
      this.baselines.replaceChildren(
        ...(this.scoreFailure ? [el("p", { className: "error", textContent: page.errorText(this.scoreFailure) })] : []),
      );
      return;
    }
    const chosen = this.forecast ? this.forecast.method : null;
    const rows = [];
    for (const method of METHODS) {
      const by = s.mean[method];
      if (!by) continue;
      const name = `${t(`method.${method}`)}${BASELINES.has(method) ? ` · ${t("hot.baseline")}` : ""}`;
      rows.push(
        el(
          "tr",
          { className: method === chosen ? "chosen" : "" },
          el("td", { textContent: name }),
          ...SHARES.map((share) =>
            el("td", {
              className: "num",
              textContent: by[share] ? `${number(by[share].pai, lang, 2)} / ${number(by[share].pei_star, lang, 2)}` : "—",
              title: by[share] ? t("hot.cell_title", { hit: percent(by[share].hit_rate, lang) }) : "",
            }),
          ),
        ),
      );
    }
    this.baselines.replaceChildren(
      el("h4", { textContent: t("hot.backtest", { months: s.months.map((m) => m.month).join(", ") }) }),
      table([t("hot.method"), ...SHARES.map((share) => `${percent(Number(share), lang, 0)} PAI / PEI*`)], rows),
      el("p", { className: "hint", textContent: t("hot.explain") }),
    );
  }
}
