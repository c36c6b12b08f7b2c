// The API writes CompStat's caveats and the 5-minute share's scope as English sentences, not
// codes. The ones it writes today are recognised here and said in the page's language; any other
// is shown as the server wrote it, so that a new caveat is never hidden.

const CAVEATS = [
  [/^the data covers (\S+) only in part \(it covers (.+)\)$/, (m) => ["caveat.partial", { period: m[1], covered: m[2] }]],
  [/^the data holds nothing of (\S+), the period a year earlier/, (m) => ["caveat.no_previous", { period: m[1] }]],
  [/^solved counts the cases solved in each period/, () => ["caveat.solved_when", {}]],
  [/^solved counts the cases filed in each period/, () => ["caveat.solved_filed", {}]],
  [/^(\d+) row\(s\) have fewer than (\d+) cases/, (m) => ["caveat.small", { n: m[1], k: m[2] }]],
];

/** A caveat in the page's language (English as written for one not known here). */
export function caveatText(text, i18n) {
  for (const [pattern, words] of CAVEATS) {
    const m = pattern.exec(text);
    if (m) {
      const [key, params] = words(m);
      return i18n.t(key, params);
    }
  }
  return text;
}

/** What the 5-minute share counts: urban arrivals, or all where the records do not say. */
export function withinScope(of, i18n) {
  if (of === "urban arrivals") return i18n.t("times.of_urban");
  if (String(of).startsWith("all arrivals")) return i18n.t("times.of_all");
  return of;
}
