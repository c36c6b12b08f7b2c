// The heat layer's side of the page: fetch the period's cells, hand them to the map, and say what
// the colours mean (the legend) and what the map leaves off (records without coordinates).

import { el, number } from "./dom.js";

export const CELL_SIZES = [150, 250, 500, 1000];

export class HeatSection {
  /**
   * @param {import("./app.js").AnalyticsPage} page
   * @param {import("./heatmap.js").AnalyticsMap} map
   */
  constructor(page, root, map) {
    this.page = page;
    this.map = map;
    this.data = null;
    this.failure = null;
    this.classes = [];
    this.shownDataset = null;
    this.error = root.querySelector(".error");
    this.legend = root.querySelector(".legend");
    this.counts = root.querySelector(".counts");
    this.cell = root.querySelector("#heat-cell");
    this.cell.replaceChildren(...CELL_SIZES.map((m) => el("option", { value: String(m), textContent: `${m} m` })));
    this.cell.value = "250";
    this.cell.addEventListener("change", () => page.refresh(["heat"]));
    root.querySelector("#heat-shown").addEventListener("change", (e) => map.setVisible("heat", e.target.checked));
  }

  /** The period's cells (never throws: a refusal comes back as `failure`). */
  async fetch({ period, dataset }) {
    const query = new URLSearchParams({ period, dataset, cell_m: this.cell.value });
    try {
      return { data: await this.page.api.get(`/api/analytics/heat?${query}`), failure: null, dataset };
    } catch (exc) {
      return { data: null, failure: exc, dataset };
    }
  }

  show({ data, failure, dataset }) {
    this.data = data;
    this.failure = failure;
    // Move the view only when the dataset changes: stepping through months keeps the analyst's zoom.
    const fit = dataset !== this.shownDataset && Boolean(data && data.cells.length);
    this.classes = this.map.showHeat(data, { fit });
    if (fit) this.shownDataset = dataset;
    this.render();
  }

  render() {
    const { page } = this;
    const { lang } = page.i18n;
    this.error.hidden = !this.failure || page.periodSaid("heat");
    this.error.textContent = this.failure ? page.errorText(this.failure) : "";
    if (!this.data) {
      this.legend.replaceChildren();
      this.counts.textContent = "";
      return;
    }
    const range = (c) => (c.from === c.to ? number(c.from, lang) : `${number(c.from, lang)}–${number(c.to, lang)}`);
    this.legend.replaceChildren(
      ...this.classes.map((c) =>
        el("span", { className: "key" }, el("i", { className: "swatch", style: `background:${c.colour}` }), range(c)),
      ),
    );
    const d = this.data;
    const parts = [page.t("heat.counts", { located: number(d.located, lang), cells: number(d.cells.length, lang), size: d.cell_m })];
    if (d.without_coordinates) parts.push(page.t("heat.unlocated", { n: number(d.without_coordinates, lang) }));
    if (!d.cells.length) parts.push(page.t("heat.empty"));
    this.counts.textContent = parts.join(" ");
  }
}
