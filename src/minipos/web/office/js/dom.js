// A few DOM helpers: h("tag", {attrs}, children) builds elements; text is always text.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

export function table(columns, rows, { onRow, rowClass } = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "" }, c.title)));
  const body = rows.map((row) => {
    const tr = h(
      "tr",
      { class: [onRow ? "clickable" : "", rowClass ? rowClass(row) : ""].join(" ").trim() },
      columns.map((c) => h("td", { class: c.num ? "num" : "" }, c.value(row))),
    );
    if (onRow) tr.addEventListener("click", () => onRow(row));
    return tr;
  });
  const titled = columns.some((c) => c.title);
  return h("table", {}, titled ? h("thead", {}, head) : null, h("tbody", {}, body));
}

export function field(label, input) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return [h("label", { for: id }, label), input];
}

export function showError(error) {
  const el = $("page-error");
  el.textContent = error ? error.message || String(error) : "";
}
