// Words for schedules and auto-reply rules (docs/autoreplies.md, docs/schedules.md): days,
// humanised timeouts, the languages replies come in, template variables, holiday countries.
// Pure functions and constants, no DOM.

import { countryName } from "./format.js";

export const DAYS = [
  { key: "mon", short: "Mon", long: "Monday" },
  { key: "tue", short: "Tue", long: "Tuesday" },
  { key: "wed", short: "Wed", long: "Wednesday" },
  { key: "thu", short: "Thu", long: "Thursday" },
  { key: "fri", short: "Fri", long: "Friday" },
  { key: "sat", short: "Sat", long: "Saturday" },
  { key: "sun", short: "Sun", long: "Sunday" },
];

export const CONDITIONS = {
  nobody_online: "No operator online",
  nobody_replied: "Operators online but nobody replied",
};

/** The languages a reply can be translated into, in this order. */
export const LANGUAGES = ["en", "ja", "ru", "de", "fr", "es"];

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" });
  } catch {
    return null;
  }
})();

/** "ja" -> "Japanese". */
export function languageLabel(code) {
  try {
    return languageNames?.of(code) || code;
  } catch {
    return code;
  }
}

/** What a reply's text can say, with a line on each (the server renders them in a sandbox). */
export const VARIABLES = [
  ["{{ contact.name }}", "the visitor's full name"],
  ["{{ contact.first_name }}", "the first word of their name"],
  ["{{ contact.email }}", "their email address"],
  ["{{ site.name }}", "the name of the site"],
  ["{{ schedule.name }}", "the schedule in force"],
  ["{{ next_available }}", "when your team answers next, e.g. “tomorrow at 9:00”"],
  ["{{ team_online }}", "true while your team is available"],
];

/** 0 -> "immediately", 60 -> "after 1 min", 90 -> "after 1 min 30 s", 5400 -> "after 1 h 30 min". */
export function afterText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s === 0) return "immediately";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [];
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (rest) parts.push(`${rest} s`);
  return `after ${parts.join(" ")}`;
}

/** Whether a range runs past midnight: its end is not after its start ("22:00"–"06:00"). */
export function isOvernight(start, end) {
  if (!start || !end) return false;
  return end !== "24:00" && end !== "00:00" && end <= start;
}

/** Minutes after midnight of "HH:MM" (or null). */
export function minutesOf(text) {
  const m = /^(\d{2}):(\d{2})$/.exec(text || "");
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** "HH:MM" for minutes after midnight, wrapping past midnight. */
export function hhmm(minutes) {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** Countries whose public holidays a schedule can follow (those the `holidays` package knows). */
const HOLIDAY_CODES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW " +
  "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI " +
  "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN " +
  "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME " +
  "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF " +
  "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
  "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK " +
  "YE YT ZA ZM ZW"
).split(" ");

let holidayCountries = null;
/** [{code, name}] sorted by name in the operator's language. */
export function holidayCountryList() {
  if (!holidayCountries) {
    holidayCountries = HOLIDAY_CODES.map((code) => ({ code, name: countryName(code) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  return holidayCountries;
}

/** The time zones this browser knows, for suggestions; the server decides what is valid. */
export function timeZones() {
  try {
    const zones = Intl.supportedValuesOf("timeZone");
    return zones.includes("UTC") ? zones : ["UTC", ...zones];
  } catch {
    return ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"];
  }
}
