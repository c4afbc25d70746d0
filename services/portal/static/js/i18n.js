// Labels in French, Dutch and German, English as the fallback for any missing key.
// The language: the one chosen last (localStorage), else the browser's (navigator.languages),
// else English. Dates, times and amounts are formatted for that language (Intl).

export const LANGUAGES = ["fr", "nl", "de", "en"];
const STORE = "carrefour.lang";
let current = "en";
let dictionary = {};
let fallback = {};
const listeners = [];

async function fetchJson(path) {
  const response = await fetch(path, { cache: "no-cache" });
  if (!response.ok) throw new Error(`cannot load ${path}`);
  return response.json();
}

export function preferredLanguage() {
  let stored = null;
  try { stored = localStorage.getItem(STORE); } catch { /* storage disabled */ }
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export function language() {
  return current;
}

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = "en";
  if (!Object.keys(fallback).length) fallback = await fetchJson("/i18n/en.json");
  dictionary = lang === "en" ? fallback : await fetchJson(`/i18n/${lang}.json`);
  current = lang;
  document.documentElement.lang = lang;
  try { localStorage.setItem(STORE, lang); } catch { /* storage disabled */ }
  applyStatic();
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function has(key) {
  return key in dictionary || key in fallback;
}

// The text for a key in the current language, English when it has none; `{name}` replaced.
export function t(key, params = {}) {
  let text = dictionary[key] ?? fallback[key] ?? key;
  for (const [name, value] of Object.entries(params)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

// The translation of `${prefix}.${code}` when there is one, else `otherwise` (or the code).
export function tOr(prefix, code, otherwise) {
  const key = `${prefix}.${code}`;
  if (has(key)) return t(key);
  return otherwise === undefined || otherwise === null ? String(code ?? "") : otherwise;
}

// Every element with data-i18n gets its text; data-i18n-aria-label its aria-label; the
// document's title from <body data-title>.
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  if (document.body && document.body.dataset.title) {
    document.title = `${t(document.body.dataset.title)} — Carrefour`;
  }
}

// The language switch: a labelled <select> whose change reloads the labels.
export function bindLanguageSwitch(select) {
  select.replaceChildren();
  const names = { fr: "Français", nl: "Nederlands", de: "Deutsch", en: "English" };
  for (const lang of LANGUAGES) {
    const option = document.createElement("option");
    option.value = lang;
    option.lang = lang;
    option.textContent = names[lang];
    select.append(option);
  }
  select.value = current;
  select.addEventListener("change", () => setLanguage(select.value));
  onLanguageChange((lang) => { select.value = lang; });
}

// --- formats --------------------------------------------------------------------------------

const LOCALES = { fr: "fr-BE", nl: "nl-BE", de: "de-BE", en: "en-GB" };
function locale() {
  return LOCALES[current] || "en-GB";
}

// A google.type.Date ({year, month, day}; month or day 0 when unknown).
export function formatDate(date) {
  if (!date || !date.year) return "—";
  const { year, month, day } = date;
  if (!month) return String(year);
  const when = new Date(Date.UTC(year, month - 1, day || 1));
  const options = day
    ? { dateStyle: "long", timeZone: "UTC" }
    : { year: "numeric", month: "long", timeZone: "UTC" };
  return new Intl.DateTimeFormat(locale(), options).format(when);
}

// An RFC 3339 timestamp, in Belgian time.
export function formatTimestamp(text) {
  if (!text) return "—";
  const when = new Date(text);
  if (Number.isNaN(when.getTime())) return "—";
  return new Intl.DateTimeFormat(locale(), {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "Europe/Brussels",
  }).format(when);
}

// Euro cents (a JSON number or, for int64, a string).
export function formatMoney(cents) {
  const value = Number(cents || 0) / 100;
  return new Intl.NumberFormat(locale(), { style: "currency", currency: "EUR" }).format(value);
}

// Euro cents in a short form for a chart's axis ("€1.2M", "1,2 M€").
export function formatMoneyCompact(cents) {
  const value = Number(cents || 0) / 100;
  return new Intl.NumberFormat(locale(), {
    style: "currency",
    currency: "EUR",
    notation: "compact",
    maximumFractionDigits: 1,
  }).format(value);
}

export function formatNumber(value, fractionDigits = 0) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(Number(value || 0));
}

// 85071412330 -> 85.07.14-123.30 (the way the number is printed on an eID).
export function formatInsz(insz) {
  const s = String(insz || "");
  if (!/^[0-9]{11}$/.test(s)) return s;
  return `${s.slice(0, 2)}.${s.slice(2, 4)}.${s.slice(4, 6)}-${s.slice(6, 9)}.${s.slice(9)}`;
}

// 000100006 -> 0001000-06.
export function formatOnss(onss) {
  const s = String(onss || "");
  if (/^[0-9]{9}$/.test(s)) return `${s.slice(0, 7)}-${s.slice(7)}`;
  return s;
}
