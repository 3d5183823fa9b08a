// The cashier screen in the chosen language (docs/cashier-ui.md, "Language"): its English
// wording is the key of the "pos" part of the message catalogue (/i18n/lv.json), so the
// screen's own modules stay as they are. Every text the screen shows, now or later, is
// translated as it appears; amounts get the decimal comma in Latvian ("1,50 €"). The printer
// preview (<pre>) is left as printed. A language switch sits beside "Log out" and on the
// login screen.
import { catalogue, language, languageSwitch, loadLanguage } from "./i18n.js";

const SKIP = new Set(["SCRIPT", "STYLE", "PRE", "TEXTAREA", "OPTION"]);
const ATTRIBUTES = ["placeholder", "title", "aria-label"];

function translator() {
  const words = catalogue().pos || {};
  const patterns = (catalogue().pos_patterns || []).map(([from, to]) => [new RegExp(from), to]);
  return (text) => {
    const trimmed = text.trim();
    if (!trimmed) return text;
    let out = words[trimmed];
    if (out === undefined) {
      const found = patterns.find(([re]) => re.test(trimmed));
      out = found ? trimmed.replace(found[0], found[1]) : trimmed;
    }
    // amounts with the decimal comma, dates day first: 1,50 € and 30.11.2026
    out = out.replace(/(\d)\.(\d{2,3})(?= €)/g, "$1,$2")
      .replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, "$3.$2.$1");
    return out === trimmed ? text : text.replace(trimmed, out);
  };
}

function compactSwitch(id) {
  const select = languageSwitch(id);
  select.style.width = "auto";
  select.style.alignSelf = "center";
  return select;
}

function install() {
  const slot = document.getElementById("logout");
  if (slot) slot.before(compactSwitch("pos-lang"));
  const login = document.querySelector("#login-screen h1");
  if (login) login.after(compactSwitch("pos-login-lang"));
  if (language() === "en") return;
  const translate = translator();
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const value = translate(node.nodeValue);
      if (value !== node.nodeValue) node.nodeValue = value;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || SKIP.has(node.tagName)) return;
    for (const name of ATTRIBUTES) {
      const value = node.getAttribute(name);
      if (value && translate(value) !== value) node.setAttribute(name, translate(value));
    }
    for (const child of node.childNodes) walk(child);
  };
  document.title = translate(document.title);
  walk(document.body);
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "characterData") walk(record.target);
      else if (record.type === "attributes") walk(record.target);
      else record.addedNodes.forEach(walk);
    }
  }).observe(document.body, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ATTRIBUTES,
  });
}

loadLanguage().then(() => {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", install);
  else install();
});
