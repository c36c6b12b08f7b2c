// The page's two ECharts: CompStat's bars and the response-time trend. ECharts is the vendored
// UMD build (/static/vendor/echarts/echarts.min.js, loaded by a classic script before this
// module, hence window.echarts); it draws to a canvas, which the page's CSP allows (no eval).
// Animation is off: an analyst switching periods wants the new figures at once, not a tween.

const COLOURS = {
  text: "#93a4b8",
  line: "#2a3c55",
  current: "#3d8bfd",
  previous: "#6b7f99",
  p50: "#3d8bfd",
  p90: "#ffb020",
  target: "#ff4d4f",
};
const FONT = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", system-ui, sans-serif';

/** One chart in `element`, redrawn at the element's size whenever it changes. */
export class Chart {
  constructor(element) {
    this.element = element;
    this.chart = null;
    this.observer = new ResizeObserver(() => this.chart && this.chart.resize());
    this.observer.observe(element);
  }

  /** Draw `option` (replacing what was drawn); null clears the chart. */
  show(option) {
    if (!option) {
      if (this.chart) this.chart.clear();
      return;
    }
    if (!this.chart) this.chart = window.echarts.init(this.element, null, { renderer: "canvas" });
    this.chart.setOption({ animation: false, textStyle: { fontFamily: FONT, color: COLOURS.text }, ...option }, true);
  }
}

const axis = {
  axisLine: { lineStyle: { color: COLOURS.line } },
  axisLabel: { color: COLOURS.text },
  splitLine: { lineStyle: { color: COLOURS.line, type: "dashed" } },
};

/** CompStat's top rows as horizontal bars, this period beside a year earlier (largest on top). */
export function compstatBars(rows, names) {
  const shown = rows.slice().reverse();
  return {
    grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: COLOURS.text }, data: [names.current, names.previous] },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", minInterval: 1, ...axis },
    yAxis: {
      type: "category",
      data: shown.map((r) => r.label),
      ...axis,
      axisLabel: { color: COLOURS.text, width: 140, overflow: "truncate" },
    },
    series: [
      { name: names.current, type: "bar", data: shown.map((r) => r.current), itemStyle: { color: COLOURS.current } },
      { name: names.previous, type: "bar", data: shown.map((r) => r.previous), itemStyle: { color: COLOURS.previous } },
    ],
  };
}

/** Call-to-arrival p50 and p90 (minutes) over the trend's buckets, with the 5-minute target. */
export function trendLines(points, names) {
  const minutes = (s) => (s === null || s === undefined ? null : Math.round(s / 6) / 10);
  return {
    grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: COLOURS.text }, data: [names.p50, names.p90] },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: points.map((p) => p.from), ...axis },
    yAxis: { type: "value", name: names.unit, nameTextStyle: { color: COLOURS.text }, min: 0, ...axis },
    series: [
      {
        name: names.p50,
        type: "line",
        data: points.map((p) => minutes(p.p50_s)),
        itemStyle: { color: COLOURS.p50 },
        showSymbol: points.length <= 40,
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { color: COLOURS.target, type: "dashed" },
          label: { color: COLOURS.target, formatter: names.target, position: "insideEndTop" },
          data: [{ yAxis: 5 }],
        },
      },
      {
        name: names.p90,
        type: "line",
        data: points.map((p) => minutes(p.p90_s)),
        itemStyle: { color: COLOURS.p90 },
        showSymbol: points.length <= 40,
      },
    ],
  };
}
