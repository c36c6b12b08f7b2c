// The period picker's arithmetic: a kind (month, 28 days, ISO week, year to date, year) and the
// value of its input, turned into the API's period text (2019-07, 28d:2019-07-31, 2019-W27,
// ytd:2019-07, 2019). Each period is remembered by its last day (the "anchor"), so that switching
// the kind keeps the analyst where they were: June 2025 becomes the week or the 28 days ending
// on 30 June. Days are calendar days held as UTC dates: a period is the data's own local days,
// and no time zone of the browser may shift them.

export const KINDS = ["month", "28d", "week", "ytd", "year"];

/** The <input> type that picks each kind's value (Chromium draws month and week pickers). */
export const INPUT_TYPES = { month: "month", "28d": "date", week: "week", ytd: "month", year: "number" };

const DAY_MS = 86_400_000;
const pad = (n, width = 2) => String(n).padStart(width, "0");

export function isoDay(date) {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function monthOf(date) {
  return isoDay(date).slice(0, 7);
}

/** The last day of the month written YYYY-MM. */
export function monthEnd(month) {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m, 0));
}

/** The month `by` months after YYYY-MM (before, when negative). */
export function shiftMonth(month, by) {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return monthOf(d);
}

/** ISO 8601 week of a day, as the API writes it: 2025-W27. */
export function isoWeek(date) {
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(date.getTime() + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / DAY_MS / 7);
  return `${year}-W${pad(week)}`;
}

function weekMonday(text) {
  const [year, week] = text.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday1 = jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * DAY_MS;
  return new Date(monday1 + (week - 1) * 7 * DAY_MS);
}

/** The value of `kind`'s input for the period ending on (or holding) `anchor`. */
export function valueFor(kind, anchor) {
  switch (kind) {
    case "month":
    case "ytd":
      return monthOf(anchor);
    case "28d":
      return isoDay(anchor);
    case "week":
      return isoWeek(anchor);
    default:
      return String(anchor.getUTCFullYear());
  }
}

/** The last day of the period that `kind`'s input value names; null for a value it cannot be. */
export function anchorOf(kind, value) {
  const text = String(value || "").trim();
  if ((kind === "month" || kind === "ytd") && /^\d{4}-\d{2}$/.test(text)) return monthEnd(text);
  if (kind === "28d" && /^\d{4}-\d{2}-\d{2}$/.test(text)) return new Date(`${text}T00:00:00Z`);
  if (kind === "week" && /^\d{4}-W\d{2}$/.test(text)) return new Date(weekMonday(text).getTime() + 6 * DAY_MS);
  if (kind === "year" && /^\d{4}$/.test(text)) return new Date(Date.UTC(Number(text), 11, 31));
  return null;
}

/** The API's period text for `kind` and its input's value. */
export function periodText(kind, value) {
  const text = String(value || "").trim();
  if (kind === "28d") return `28d:${text}`;
  if (kind === "ytd") return `ytd:${text}`;
  return text;
}

/** A day from the API's local times ("2025-12-29T10:14:21"), as a UTC calendar day. */
export function dayOf(localTime) {
  return localTime ? new Date(`${localTime.slice(0, 10)}T00:00:00Z`) : null;
}

/** Where the page opens: the last whole month of the data (the month of its last record when
 * that is the only one), or last month when the dataset is empty. */
export function defaultAnchor(dataset, today = new Date()) {
  const last = dataset && dayOf(dataset.last);
  const first = dataset && dayOf(dataset.first);
  if (!last) return monthEnd(shiftMonth(monthOf(today), -1));
  const lastMonth = monthOf(last);
  if (isoDay(monthEnd(lastMonth)) === isoDay(last)) return last;
  const before = monthEnd(shiftMonth(lastMonth, -1));
  return first && before < first ? monthEnd(lastMonth) : before;
}
