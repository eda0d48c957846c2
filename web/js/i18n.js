// Every string a person reads comes from one catalogue per language: web/i18n/{kk,ru,en}.json.
// A catalogue is a flat object of dotted keys ("gp.book.title") to a text with {name}
// placeholders, or, for counted text, to plural forms {"one": "…", "few": "…", "many": "…",
// "other": "…"} chosen with Intl.PluralRules for the `count` parameter.
// Dates, times, numbers and durations are formatted with Intl in the chosen language.

export const LANGUAGES = { kk: "Қазақша", ru: "Русский", en: "English" };
const FALLBACK = "en";
const STORED = "tc_lang";

// The locale Intl formats with for each language. Chromium ships no Kazakh locale data (it
// writes months as "M03", weekdays in English, numbers as "12,345.6"), so Kazakh dates are
// numeric and built here, and Kazakh numbers use the Russian grouping, which Kazakh shares.
const DATE_LOCALE = { en: "en-GB", ru: "ru-RU", kk: "kk-KZ" };
const NUMBER_LOCALE = { en: "en-GB", ru: "ru-RU", kk: "ru-RU" };

const catalogues = {};
let current = FALLBACK;
let plurals = pluralRules(FALLBACK);
const changed = new Set();

/** Plural categories for a language: Intl's, or Kazakh's own (one/other) where Intl has none. */
function pluralRules(code) {
  const rules = new Intl.PluralRules(DATE_LOCALE[code] || code);
  if (rules.resolvedOptions().locale.startsWith(code)) return rules;
  return { select: (n) => (Math.abs(Number(n)) === 1 ? "one" : "other") };
}

/** The chosen language's code: "kk", "ru" or "en". */
export const language = () => current;

/** Listeners called after the language changes (the app re-renders). */
export const onLanguageChange = (fn) => changed.add(fn);

/** The language to start in: the account's, the last one chosen here, or the browser's. */
export function preferredLanguage(accountLanguage) {
  if (accountLanguage in LANGUAGES) return accountLanguage;
  const stored = localStorage.getItem(STORED);
  if (stored in LANGUAGES) return stored;
  for (const tag of navigator.languages || [navigator.language]) {
    const code = String(tag).slice(0, 2).toLowerCase();
    if (code in LANGUAGES) return code;
  }
  return FALLBACK;
}

async function fetchCatalogue(code) {
  if (!catalogues[code]) {
    const response = await fetch(`/static/i18n/${code}.json`, { credentials: "same-origin" });
    catalogues[code] = response.ok ? await response.json() : {};
  }
  return catalogues[code];
}

/** Loads a language (and English, for keys a catalogue lacks) and makes it current. */
export async function setLanguage(code) {
  if (!(code in LANGUAGES)) code = FALLBACK;
  await Promise.all([fetchCatalogue(FALLBACK), fetchCatalogue(code)]);
  const before = current;
  current = code;
  plurals = pluralRules(code);
  document.documentElement.lang = code;
  localStorage.setItem(STORED, code);
  if (before !== code) for (const fn of changed) await fn(code);
}

function lookup(key) {
  return catalogues[current]?.[key] ?? catalogues[FALLBACK]?.[key];
}

/** Whether a key exists in the current language or in English. */
export const has = (key) => lookup(key) !== undefined;

/**
 * The text for a key: t("gp.booked", {time: "14:40"}); t("items", {count: 3}) picks the plural
 * form. A missing key shows itself (and warns once), so it is found in review, never hidden.
 */
export function t(key, params = {}) {
  let entry = lookup(key);
  if (entry === undefined) {
    warnMissing(key);
    return key;
  }
  if (typeof entry === "object") {
    const count = Number(params.count ?? 0);
    entry = entry[plurals.select(count)] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const warned = new Set();
function warnMissing(key) {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`i18n: no text for "${key}"`);
}

/** t() for one entry of a table of codes: label("status", "no_show") → t("status.no_show"). */
export const tCode = (table, code) =>
  code == null ? "" : has(`${table}.${code}`) ? t(`${table}.${code}`) : String(code);

// ---- Formatting in the chosen language and the browser's time zone ----

const cache = new Map();
function formatter(kind, options) {
  const key = `${current}|${kind}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    const make = { date: Intl.DateTimeFormat, number: Intl.NumberFormat, list: Intl.ListFormat }[kind];
    const locale = (kind === "date" ? DATE_LOCALE : NUMBER_LOCALE)[current] || current;
    cache.set(key, new make(locale, options));
  }
  return cache.get(key);
}

const pad = (n) => String(n).padStart(2, "0");
const numericDate = (d) => `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()}`;
const TIME = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
const DAY = { day: "numeric", month: "short", year: "numeric" };

/** "GMT+5" (or "GMT+5:30") for the browser's offset at a moment. */
function zoneName(date) {
  const offset = -date.getTimezoneOffset();
  const hours = Math.trunc(Math.abs(offset) / 60);
  const minutes = Math.abs(offset) % 60;
  if (!offset) return "GMT";
  return `GMT${offset < 0 ? "-" : "+"}${hours}${minutes ? `:${pad(minutes)}` : ""}`;
}

/**
 * "6 Dec 2026, 14:40", "6 дек. 2026 г., 14:40", "06.12.2026, 14:40" for an ISO instant;
 * with `weekday`, "Sun, 6 Dec 2026, 14:40" (Kazakh weekdays from the catalogue); with `zone`,
 * the time zone after the time ("14:40 GMT+5").
 */
export function formatDateTime(iso, { weekday = false, zone = false } = {}) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (current === "kk") {
    let text = `${numericDate(date)}, ${formatTime(iso)}`;
    if (weekday) text = `${t(`common.weekday.${date.getDay()}`)}, ${text}`;
    return zone ? `${text} ${zoneName(date)}` : text;
  }
  const options = { ...(weekday ? { weekday: "short" } : {}), ...DAY, ...TIME };
  if (zone) options.timeZoneName = "short";
  return formatter("date", options).format(date);
}

/** "14:40" for an ISO instant, in the browser's time zone. */
export function formatTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (current === "kk") return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return formatter("date", TIME).format(date);
}

/** "6 Dec 2026" (or "06.12.2026" in Kazakh) for an ISO date (YYYY-MM-DD, a calendar day) or instant. */
export function formatDate(value) {
  if (!value) return "—";
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? new Date(...value.split("-").map((n, i) => Number(n) - (i === 1 ? 1 : 0)))
    : new Date(value);
  if (current === "kk") return numericDate(date);
  return formatter("date", DAY).format(date);
}

/** "December 2026", "декабрь 2026 г.", or "12.2026" in Kazakh, for a month's first day (YYYY-MM-DD). */
export function formatMonth(isoDate) {
  const [y, m] = isoDate.split("-").map(Number);
  if (current === "kk") return `${pad(m)}.${y}`;
  return formatter("date", { month: "long", year: "numeric" }).format(new Date(y, m - 1, 1));
}

/** A number with the language's grouping and decimal signs. */
export const formatNumber = (n, options = {}) => formatter("number", options).format(n);

/**
 * A duration as a person says it: "45 min", "2 h 05 min", "3 days". Under a day shows hours
 * and minutes; from two days up shows whole days (rounded), between shows hours.
 */
export function formatDuration(seconds) {
  if (seconds == null || Number.isNaN(Number(seconds))) return "—";
  const minutes = Math.round(Number(seconds) / 60);
  if (minutes < 60) return t("duration.minutes", { count: minutes, n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest
      ? t("duration.hours_minutes", { h: hours, m: String(rest).padStart(2, "0") })
      : t("duration.hours", { count: hours, n: hours });
  }
  const days = Math.round(hours / 24);
  return t("duration.days", { count: days, n: days });
}

/** "a, b and c" in the chosen language. */
export function formatList(items) {
  const texts = items.map(String);
  if (current !== "kk" || texts.length < 2) return formatter("list", { type: "conjunction" }).format(texts);
  return `${texts.slice(0, -1).join(", ")} ${t("common.and")} ${texts.at(-1)}`;
}

/**
 * The text to show for an ApiError: the catalogue's entry for its code, else one for its
 * status, never the English detail in another language.
 */
export function errorText(error) {
  // A page's own error (not from the API) carries its text, already translated.
  if (error && !("status" in error) && error.detail) return error.detail;
  if (error?.code && has(`error.${error.code}`)) return t(`error.${error.code}`, error.params || {});
  const status = error?.status ?? 0;
  if (has(`error.status.${status}`)) return t(`error.status.${status}`);
  return t(status >= 500 || status === 0 ? "error.status.500" : "error.status.400");
}

/**
 * The text for one field's error: field.<code> with the numbers the server sent (the first
 * of them chooses the plural form). A text whose numbers did not come (a limit that is a
 * date, say) gives way to the general "This value is not valid."
 */
export function fieldErrorText(code, params = {}) {
  if (!has(`field.${code}`)) return t("field.invalid");
  const count = params.count ?? Object.values(params).find((v) => typeof v === "number");
  const text = t(`field.${code}`, { ...params, count });
  return /\{\w+\}/.test(text) ? t("field.invalid") : text;
}
