// The one translation module of the back office (/office/) and the cashier screen (/pos/).
// One message catalogue per language (/i18n/lv.json, /i18n/en.json); the language is the
// browser's choice (localStorage "minipos.lang"), else the server's MINIPOS_LANGUAGE, else lv.
// Numbers, money and dates follow the language: 1,50 € and 30.11.2026 in Latvian.

export const LANGUAGES = { lv: "Latviešu", en: "English" };
const STORED = "minipos.lang";

let lang = "lv";
let messages = {};

export async function loadLanguage() {
  let chosen = localStorage.getItem(STORED);
  if (!(chosen in LANGUAGES)) {
    try {
      const answer = await fetch("/i18n/default");
      chosen = (await answer.json()).language;
    } catch {
      chosen = "lv";
    }
  }
  lang = chosen in LANGUAGES ? chosen : "lv";
  try {
    messages = await (await fetch(`/i18n/${lang}.json`)).json();
  } catch {
    messages = {};
  }
  document.documentElement.lang = lang;
  return lang;
}

export const language = () => lang;
export const catalogue = () => messages;

// Pick another language: remembered in this browser, and the page is drawn again in it.
export function setLanguage(value) {
  if (!(value in LANGUAGES) || value === lang) return;
  localStorage.setItem(STORED, value);
  location.reload();
}

// t("dash.title") or t("cat.count", {n: 3}): the message, or the key if it has none.
export function t(key, params = {}) {
  const text = typeof messages[key] === "string" ? messages[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export const locale = () => (lang === "lv" ? "lv-LV" : "en-GB");

// Money from the API (a decimal string) for reading: "1,50 €" (lv) or "€1.50" (en).
export function money(value) {
  if (value === null || value === undefined || value === "") return "";
  return new Intl.NumberFormat(locale(), { style: "currency", currency: "EUR" })
    .format(Number(value))
    .replace(/\u00a0/g, " ");
}

export function number(value, digits = 0) {
  if (value === null || value === undefined || value === "") return "";
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: 0,
    maximumFractionDigits: digits,
  })
    .format(Number(value))
    .replace(/\u00a0/g, " ");
}

// "2026-11-30…" (the shop's own date, as the server wrote it) → "30.11.2026" or "30/11/2026".
export function date(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
  if (!m) return iso || "";
  return lang === "lv" ? `${m[3]}.${m[2]}.${m[1]}` : `${m[3]}/${m[2]}/${m[1]}`;
}

// "2026-11-30T14:05:09+02:00" → "30.11.2026 14:05".
export function dateTime(iso) {
  const m = /T(\d{2}):(\d{2})/.exec(iso || "");
  return m ? `${date(iso)} ${m[1]}:${m[2]}` : date(iso);
}

// A <select> that switches the language.
export function languageSwitch(id = "lang") {
  const select = document.createElement("select");
  select.id = id;
  select.setAttribute("aria-label", "Language / Valoda");
  for (const [value, name] of Object.entries(LANGUAGES)) {
    const option = new Option(name, value, false, value === lang);
    select.append(option);
  }
  select.addEventListener("change", () => setLanguage(select.value));
  return select;
}

// Every element with data-i18n="key" gets its text; data-i18n-placeholder its placeholder.
export function translateMarked(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
