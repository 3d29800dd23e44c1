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

// ---------- wall-clock time in another time zone (a site's) ----------

const zonePartFmts = new Map();
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** {year, month, day, hour, minute, weekday (0 Sunday)} of an instant on the clock in timeZone. */
export function zoneParts(date, timeZone) {
  let fmt = zonePartFmts.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", weekday: "short", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
    });
    zonePartFmts.set(timeZone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour) % 24, minute: Number(parts.minute), weekday: WEEKDAYS.indexOf(parts.weekday),
  };
}

/** Whether this browser knows the time zone. */
export function knownZone(timeZone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return Boolean(timeZone);
  } catch {
    return false;
  }
}

function offsetAt(timeZone, ms) {
  const p = zoneParts(new Date(ms), timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / 60000) * 60000;
}

const pad = (n) => String(n).padStart(2, "0");

/** "2026-05-02T23:00" on the clock in timeZone -> the instant. A skipped hour moves forward. */
export function fromZoned(local, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const first = wall - offsetAt(timeZone, wall);
  const second = wall - offsetAt(timeZone, first);
  return new Date(Math.max(first, second));
}

/** The instant as "2026-05-02T23:00" on the clock in timeZone (a datetime-local value). */
export function toZoned(date, timeZone) {
  const p = zoneParts(date, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The next time the clock in timeZone shows this weekday (0 Sunday) and hour, from `now`. */
export function nextZoned(weekday, hour, minute, timeZone, now = new Date()) {
  const p = zoneParts(now, timeZone);
  let ahead = (weekday - p.weekday + 7) % 7;
  if (ahead === 0 && p.hour * 60 + p.minute >= hour * 60 + minute) ahead = 7;
  const day = new Date(Date.UTC(p.year, p.month - 1, p.day + ahead));
  return fromZoned(`${day.getUTCFullYear()}-${pad(day.getUTCMonth() + 1)}-${pad(day.getUTCDate())}T${pad(hour)}:${pad(minute)}`, timeZone);
}

const zonedFmts = new Map();
/** "Sat 2 May, 23:00" as the clock in timeZone shows it. */
export function zonedLabel(date, timeZone, { weekday = "short", withDate = true } = {}) {
  if (!date) return "";
  // Another zone than the browser's is named ("6:00 PM CET"), so nobody reads it as their own.
  const named = timeZone !== Intl.DateTimeFormat().resolvedOptions().timeZone;
  const key = `${timeZone}|${weekday}|${withDate}|${named}`;
  let fmt = zonedFmts.get(key);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(undefined, {
      timeZone, weekday, hour: "numeric", minute: "2-digit", ...(withDate ? { day: "numeric", month: "short" } : {}),
      ...(named ? { timeZoneName: "short" } : {}),
    });
    zonedFmts.set(key, fmt);
  }
  try {
    return fmt.format(date);
  } catch {
    return medium(date);
  }
}
