// What the analytics page's sections share to build their tables: elements from data (text only:
// category names and file names come from imported files and are never read as HTML) and numbers
// written the same way everywhere.

/** An element with properties (or attributes) and children; `i18n` marks it for I18n.apply. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "i18n") node.dataset.i18n = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A table: `head` is a list of header texts; `rows` a list of lists of cells (text or nodes). */
export function table(head, rows, { className = "list figures", foot = null } = {}) {
  const cells = (tag, row) => el("tr", {}, ...row.map((c) => (c instanceof Node ? c : el(tag, { textContent: c ?? "" }))));
  return el(
    "table",
    { className },
    el("thead", {}, cells("th", head)),
    el("tbody", {}, ...rows.map((row) => (row instanceof Node ? row : cells("td", row)))),
    foot ? el("tfoot", {}, ...foot.map((row) => (row instanceof Node ? row : cells("td", row)))) : null,
  );
}

/** A number with at most `digits` decimals, in the page's language ("1,234.5"). */
export function number(value, lang, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A share (0…1) as a percentage. */
export function percent(share, lang, digits = 1) {
  if (share === null || share === undefined || Number.isNaN(share)) return "—";
  return `${number(share * 100, lang, digits)}%`;
}

/** Seconds as minutes with one decimal, the unit response times are read in. */
export function minutes(seconds, lang) {
  return seconds === null || seconds === undefined ? "—" : number(seconds / 60, lang, 1);
}

/** A change in per cent with its sign ("+8.1%", "−11.1%"); none where a year earlier had none. */
export function signedPercent(pct, lang) {
  if (pct === null || pct === undefined) return "—";
  const sign = pct > 0 ? "+" : pct < 0 ? "−" : "±";
  return `${sign}${number(Math.abs(pct), lang, 1)}%`;
}

/** A difference of counts with its sign ("+5", "−3", "±0"). */
export function signedCount(diff, lang) {
  const sign = diff > 0 ? "+" : diff < 0 ? "−" : "±";
  return `${sign}${number(Math.abs(diff), lang)}`;
}
