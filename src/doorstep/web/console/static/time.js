// Dates for people: relative times in the list, clock times and day separators in a thread.

const clockFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const shortDateYearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const mediumFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function parse(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

function daysBetween(a, b) {
  return Math.round((startOfDay(b) - startOfDay(a)) / 86_400_000);
}

export function sameDay(a, b) {
  return a && b && startOfDay(a) === startOfDay(b);
}

/** "now", "4m", "3h", "Yesterday", "Tue", "12 Nov", "12 Nov 2024" */
export function relative(date, now = new Date()) {
  if (!date) return "";
  const seconds = Math.max(0, (now - date) / 1000);
  if (seconds < 45) return "now";
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))}m`;
  const days = daysBetween(date, now);
  if (days === 0) return `${Math.floor(seconds / 3600)}h`;
  if (days === 1) return "Yesterday";
  if (days < 7) return weekdayFmt.format(date);
  if (date.getFullYear() === now.getFullYear()) return shortDateFmt.format(date);
  return shortDateYearFmt.format(date);
}

export function clock(date) {
  return date ? clockFmt.format(date) : "";
}

export function dayLabel(date, now = new Date()) {
  const days = daysBetween(date, now);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return date.getFullYear() === now.getFullYear() ? dayFmt.format(date) : dayYearFmt.format(date);
}

export function medium(date) {
  return date ? mediumFmt.format(date) : "";
}

export function full(date) {
  return date ? fullFmt.format(date) : "";
}

/** "Just now", "4m ago", "3h ago", "Yesterday", "Tue", "12 Nov" — for "last seen". */
export function ago(date, now = new Date()) {
  const r = relative(date, now);
  if (!r) return "";
  return r === "now" ? "Just now" : /^\d+[mh]$/.test(r) ? `${r} ago` : r;
}

export function shortDate(date, now = new Date()) {
  if (!date) return "";
  return date.getFullYear() === now.getFullYear() ? shortDateFmt.format(date) : shortDateYearFmt.format(date);
}
