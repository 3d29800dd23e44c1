// Words for what the tracker records: countries and flags, the visitor's local time, devices,
// visit sources, durations, attribute values and page addresses. Pure functions, no DOM.

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: "region" });
  } catch {
    return null;
  }
})();
const numberFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "JP" -> "Japan" (in the operator's language); unknown codes come back as they are. */
export function countryName(code) {
  if (!code) return "";
  try {
    return regionNames?.of(String(code).toUpperCase()) || String(code);
  } catch {
    return String(code);
  }
}

/** "JP" -> 🇯🇵 from the two regional-indicator letters; "" for anything else. */
export function flag(code) {
  if (!/^[A-Za-z]{2}$/.test(code || "")) return "";
  return String.fromCodePoint(...[...code.toUpperCase()].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
}

/** "Osaka, Japan", "Japan" or "". */
export function place(location) {
  if (!location) return "";
  return [location.city, countryName(location.country)].filter(Boolean).join(", ");
}

const clockFmts = new Map();
function clockIn(timeZone) {
  let fmt = clockFmts.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", weekday: "short", timeZone });
    clockFmts.set(timeZone, fmt);
  }
  return fmt;
}

/** Minutes east of UTC of a time zone at a moment (e.g. 540 for Asia/Tokyo). */
function offsetMinutes(timeZone, date) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"));
  return Math.round((asUtc - Math.floor(date.getTime() / 60000) * 60000) / 60000);
}

/**
 * The visitor's clock: {time: "Tue 9:45 PM", zone: "UTC+9", diff: "8 hours ahead of you"},
 * or null when the time zone is missing or unknown to this browser.
 */
export function localTime(timeZone, now = new Date()) {
  if (!timeZone) return null;
  try {
    const time = clockIn(timeZone).format(now);
    const theirs = offsetMinutes(timeZone, now);
    const mine = -now.getTimezoneOffset();
    const sign = theirs < 0 ? "−" : "+";
    const abs = Math.abs(theirs);
    const zone = `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, "0")}` : ""}`;
    const delta = (theirs - mine) / 60;
    let diff = "Same time as you";
    if (delta !== 0) {
      const hours = Math.abs(delta);
      const amount = Number.isInteger(hours) ? String(hours) : hours.toFixed(1).replace(/\.0$/, "");
      diff = `${amount} ${hours === 1 ? "hour" : "hours"} ${delta > 0 ? "ahead of" : "behind"} you`;
    }
    return { time, zone, diff };
  } catch {
    return null;
  }
}

const DEVICE_TYPES = { mobile: "Mobile", tablet: "Tablet", desktop: "Desktop", bot: "Bot" };

/** "Mobile · iOS · Mobile Safari" */
export function deviceText(device) {
  if (!device) return "";
  return [DEVICE_TYPES[device.type] || device.type, device.os, device.browser].filter(Boolean).join(" · ");
}

const CHANNELS = {
  direct: "Direct",
  organic_search: "Organic search",
  paid: "Paid",
  social: "Social",
  email: "Email",
  referral: "Referral",
  campaign: "Campaign",
};

export function channelLabel(channel) {
  if (!channel) return "";
  return CHANNELS[channel] || String(channel).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The detail after the channel: "newsletter / email · spring" (source / medium · campaign). */
export function sourceDetail(source) {
  if (!source) return "";
  const sm = [source.source, source.medium].filter(Boolean).join(" / ");
  return [sm, source.campaign].filter(Boolean).join(" · ");
}

/** One line for a visit source: "Email · newsletter / email · spring". */
export function sourceText(source) {
  if (!source) return "";
  return [channelLabel(source.channel), sourceDetail(source)].filter(Boolean).join(" · ");
}

/** 42_000 -> "42s", 185_000 -> "3m 05s", 3_720_000 -> "1h 02m". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** The same, spoken: "3 minutes 5 seconds". */
export function durationLong(ms) {
  const s = Math.max(0, Math.floor((ms || 0) / 1000));
  const unit = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (s < 60) return unit(s, "second");
  const m = Math.floor(s / 60);
  if (m < 60) return `${unit(m, "minute")}${s % 60 ? ` ${unit(s % 60, "second")}` : ""}`;
  const h = Math.floor(m / 60);
  return `${unit(h, "hour")}${m % 60 ? ` ${unit(m % 60, "minute")}` : ""}`;
}

export function number(value) {
  return numberFmt.format(value);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DATE_KEY = /(_at|_on|_date|At|Date)$|^(date|birthday|created|updated)$/;

/**
 * An attribute value for people: {text, date?}. Numbers get separators, ISO dates and
 * Unix timestamps in date-named attributes ("signed_up_at") become dates.
 */
export function attributeValue(key, value) {
  if (value === null || value === undefined) return { text: "—" };
  if (typeof value === "boolean") return { text: value ? "Yes" : "No" };
  if (typeof value === "number") {
    if (DATE_KEY.test(key)) {
      const ms = value > 1e11 && value < 1e14 ? value : value > 1e8 && value < 1e11 ? value * 1000 : null;
      if (ms !== null) return dated(new Date(ms), false);
    }
    return { text: number(value) };
  }
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (ISO_DATE.test(trimmed)) {
      const [y, m, d] = trimmed.split("-").map(Number);
      const date = new Date(y, m - 1, d);
      if (!Number.isNaN(date.getTime())) return { text: dateFmt.format(date), date, dateOnly: true };
    }
    if (ISO_DATE_TIME.test(trimmed)) {
      const date = new Date(trimmed);
      if (!Number.isNaN(date.getTime())) return dated(date, false);
    }
    return { text: value };
  }
  return { text: JSON.stringify(value) };
}

function dated(date, dateOnly) {
  return { text: dateOnly ? dateFmt.format(date) : dateTimeFmt.format(date), date, dateOnly };
}

/** What an attribute's value looks like in an edit box. */
export function editableText(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

/**
 * A typed value back from an edit box. The attribute keeps its type when the text still
 * fits it; new values become numbers or booleans only when they read exactly as one.
 */
export function parseAttribute(text, previous) {
  const t = text.trim();
  if (typeof previous === "number") {
    const n = Number(t.replace(/,/g, ""));
    if (t !== "" && Number.isFinite(n)) return { value: n };
    return { error: "This attribute is a number." };
  }
  if (typeof previous === "boolean") {
    if (/^(true|yes|1)$/i.test(t)) return { value: true };
    if (/^(false|no|0)$/i.test(t)) return { value: false };
    return { error: "This attribute is yes or no." };
  }
  if (previous === undefined || previous === null) {
    if (t !== "" && /^-?\d+(\.\d+)?$/.test(t) && String(Number(t)) === t) return { value: Number(t) };
    if (t === "true") return { value: true };
    if (t === "false") return { value: false };
  }
  return { value: text };
}

/** A link target only for web addresses: never javascript: or data: from a visitor's page. */
export function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

/** "/pricing" from "https://shop.example/pricing?utm_source=x"; hash routes keep "#/…". */
export function pathOf(url) {
  if (!url) return "";
  try {
    const u = new URL(url);
    return u.pathname + (u.hash.startsWith("#/") ? u.hash : "");
  } catch {
    return String(url);
  }
}

/** "shop.example/pricing" — for a page without a title. */
export function shortUrl(url) {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === "/" ? "" : u.pathname);
  } catch {
    return String(url || "");
  }
}

/** Event properties on one line: "value: 120 · sku: TSHIRT-1". */
export function propertiesText(properties) {
  const entries = Object.entries(properties || {});
  return entries.map(([k, v]) => `${k}: ${attributeValue(k, v).text}`).join(" · ");
}

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: "language" });
  } catch {
    return null;
  }
})();

/** "ja-JP" -> "Japanese (Japan)". */
export function languageName(tag) {
  if (!tag) return "";
  try {
    return languageNames?.of(tag) || tag;
  } catch {
    return tag;
  }
}
