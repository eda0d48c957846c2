// Every string a person reads comes from one catalogue per language: web/i18n/{kk,ru,en}.json.
// A catalogue is a flat object of dotted keys ("gp.book.title") to a text with {name}
// placeholders, or, for counted text, to plural forms {"one": "…", "few": "…", "many": "…",
// "other": "…"} chosen with Intl.PluralRules for the `count` parameter.
// Dates, times, numbers and durations are formatted with Intl in the chosen language.

export const LANGUAGES = { kk: "Қазақша", ru: "Русский", en: "English" };
const FALLBACK = "en";
const STORED = "tc_lang";

const catalogues = {};
let current = FALLBACK;
let plurals = new Intl.PluralRules(FALLBACK);
const changed = new Set();

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
  plurals = new Intl.PluralRules(code);
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
export const tCode = (table, code) => (code == null ? "" : has(`${table}.${code}`) ? t(`${table}.${code}`) : String(code));

// ---- Formatting in the chosen language and the browser's time zone ----

const cache = new Map();
function formatter(kind, options) {
  const key = `${current}|${kind}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    const make = { date: Intl.DateTimeFormat, number: Intl.NumberFormat, list: Intl.ListFormat }[kind];
    cache.set(key, new make(current, options));
  }
  return cache.get(key);
}

const DATE_TIME = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };

/** "6 Dec 2026, 14:40" (or its Kazakh and Russian forms) for an ISO instant. */
export const formatDateTime = (iso) => (iso ? formatter("date", DATE_TIME).format(new Date(iso)) : "—");

/** "14:40" for an ISO instant, in the browser's time zone. */
export const formatTime = (iso) =>
  iso ? formatter("date", { hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "—";

/** "6 Dec 2026" for an ISO date (YYYY-MM-DD, read as a calendar day) or instant. */
export function formatDate(value) {
  if (!value) return "—";
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? new Date(...value.split("-").map((n, i) => Number(n) - (i === 1 ? 1 : 0)))
    : new Date(value);
  return formatter("date", { day: "numeric", month: "short", year: "numeric" }).format(date);
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
export const formatList = (items) => formatter("list", { type: "conjunction" }).format(items.map(String));

/**
 * The text to show for an ApiError: the catalogue's entry for its code, else one for its
 * status, never the English detail in another language.
 */
export function errorText(error) {
  if (error?.code && has(`error.${error.code}`)) return t(`error.${error.code}`, error.params || {});
  const status = error?.status ?? 0;
  if (has(`error.status.${status}`)) return t(`error.status.${status}`);
  return t(status >= 500 || status === 0 ? "error.status.500" : "error.status.400");
}

/** The text for one field's error: field.<code> with the numbers the server sent. */
export function fieldErrorText(code, params = {}) {
  return has(`field.${code}`) ? t(`field.${code}`, params) : t("field.invalid");
}
