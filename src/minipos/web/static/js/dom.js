// Small DOM helpers. Everything the server sends is put into the page as text (never as
// HTML), so an invoice row called "<b>" shows as typed and cannot inject markup.

export const $ = (id) => document.getElementById(id);

// h("td", {class: "num"}, "3.00") → <td class="num">3.00</td>; children may be strings,
// nodes, arrays or null (skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function setText(id, text) {
  $(id).textContent = text || "";
}

// Shows exactly one of the work area's views.
const VIEWS = [
  "idle-view", "sale-view", "walkin-view", "refund-view", "printer-view", "receipt-view", "report-view",
];
export function showView(id) {
  for (const view of VIEWS) $(view).hidden = view !== id;
}

export function currentView() {
  return VIEWS.find((view) => !$(view).hidden);
}

// A short message over the work area that fades by itself (e.g. "slip printed").
let noticeTimer = 0;
export function notice(text, kind = "info") {
  const el = $("notice");
  el.textContent = text;
  el.className = `notice ${kind}`;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

// "2026-02-17 16:50" from the API's date-times, which are in shop time already (some with
// an offset, some without). Reading the text as it is keeps every screen in shop time,
// whatever time zone the till's browser is set to.
export function localTime(iso) {
  if (!iso) return "";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}
