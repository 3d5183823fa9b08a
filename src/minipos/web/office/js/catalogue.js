// Catalogue: products page by page (X-Total-Count), searched on the server (?search=: name,
// code or barcode), a form to edit or create one with its barcodes, and a file import that
// shows its dry run's changes before it is applied.
import { money, t } from "/i18n/i18n.js";
import { getAll, query, request, send } from "./api.js";
import { field, h, showError, table } from "./dom.js";

const PAGE = 50;

export async function render(main, { args, session }) {
  if (args[0]) return edit(main, args[0] === "new" ? null : Number(args[0]), session);
  const search = h("input", { id: "cat-search", type: "search", placeholder: t("cat.search") });
  search.value = sessionStorage.getItem("minipos.cat.search") || "";
  const list = h("div", { id: "cat-list" });
  const pager = h("div", { class: "pager" });
  let offset = Number(sessionStorage.getItem("minipos.cat.offset") || 0);
  main.append(
    h("h1", {}, t("nav.catalogue")),
    h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); offset = 0; load(); } },
      search, h("button", { type: "submit" }, t("cat.find")),
      h("button", { type: "button", id: "cat-new", class: "primary",
        onclick: () => { location.hash = "#/catalogue/new"; } }, t("cat.new"))),
    list, pager, importPanel(() => load()), h("div", { id: "categories" }));
  const taxes = Object.fromEntries((await getAll("/api/taxes")).map((x) => [x.id, x]));
  await categories(main.querySelector("#categories"));

  async function load() {
    const text = search.value.trim();
    sessionStorage.setItem("minipos.cat.search", text);
    sessionStorage.setItem("minipos.cat.offset", String(offset));
    const page = await request("GET", `/api/products${query({ search: text, limit: PAGE, offset })}`);
    const items = page.data;
    const total = page.total;
    list.replaceChildren(table([
      { title: t("cat.code"), value: (p) => p.code ?? "" },
      { title: t("cat.name"), value: (p) => p.name },
      { title: t("cat.barcodes"), value: (p) => p.barcodes.map((b) => b.barcode).join(", ") },
      { title: t("cat.tax"), value: (p) => taxes[p.tax]?.name ?? p.tax },
      { title: t("cat.price"), num: true, value: (p) => money(p.price) },
      { title: t("cat.status"), value: (p) => (p.status ? t("cat.active") : t("cat.inactive")) },
    ], items, {
      onRow: (p) => { location.hash = `#/catalogue/${p.id}`; },
      rowClass: (p) => `product-${p.id}`,
    }));
    const last = Math.min(offset + PAGE, total);
    pager.replaceChildren(
      h("button", { type: "button", id: "cat-prev", disabled: offset === 0,
        onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, "‹"),
      h("span", { id: "cat-range" }, t("cat.range", { first: total ? offset + 1 : 0, last, total })),
      h("button", { type: "button", id: "cat-next", disabled: last >= total,
        onclick: () => { offset += PAGE; load(); } }, "›"),
    );
  }
  await load();
}

async function edit(main, id, session) {
  const [taxes, categories, product] = await Promise.all([
    getAll("/api/taxes"),
    getAll("/api/categories"),
    id ? request("GET", `/api/products/${id}`).then((r) => r.data) : null,
  ]);
  const p = product || { name: "", code: null, price: "0.00", tax: taxes[0]?.id ?? 0, barcodes: [],
    category: null, status: 1, is_weight: false, is_free_price: false };
  const name = h("input", { id: "p-name", required: true, maxlength: "200", value: p.name });
  const code = h("input", { id: "p-code", inputmode: "numeric", value: p.code ?? "" });
  const price = h("input", { id: "p-price", inputmode: "decimal", value: p.price });
  const tax = h("select", { id: "p-tax" }, taxes.map((x) => new Option(`${x.name} (${x.rate} %)`, x.id)));
  tax.value = String(p.tax);
  const category = h("select", { id: "p-category" }, new Option("—", ""),
    categories.map((c) => new Option(c.name, c.id)));
  category.value = p.category === null ? "" : String(p.category);
  const active = h("input", { id: "p-active", type: "checkbox", checked: p.status === 1 });
  const weight = h("input", { id: "p-weight", type: "checkbox", checked: p.is_weight });
  const free = h("input", { id: "p-free", type: "checkbox", checked: p.is_free_price });
  const addons = h("input", { id: "p-addons", value: (p.addons || []).join(", "),
    placeholder: t("cat.addons_hint") });
  const barcodes = h("textarea", { id: "p-barcodes", rows: "3", cols: "30" });
  barcodes.value = p.barcodes.map((b) => b.barcode).join("\n");
  const status = h("p", { id: "p-status", class: "note", role: "status" });

  async function save(event) {
    event.preventDefault();
    showError(null);
    status.textContent = "";
    const codes = barcodes.value.split(/[\s,;]+/).filter(Boolean);
    const keep = Object.fromEntries(p.barcodes.map((b) => [b.barcode, b]));
    const body = {
      name: name.value.trim(),
      code: code.value.trim() === "" ? null : Number(code.value.trim()),
      // a comma is a decimal point too (1,50); sent as a string, so never a float
      price: price.value.trim().replace(",", "."),
      tax: Number(tax.value),
      category: category.value === "" ? null : Number(category.value),
      status: active.checked ? 1 : 0,
      is_weight: weight.checked,
      is_free_price: free.checked,
      addons: addons.value.split(/[\s,;]+/).filter(Boolean).map(Number),
      barcodes: codes.map((c) => (keep[c] ? { barcode: c, discount: keep[c].discount,
        discount_type: keep[c].discount_type, default_quantity: keep[c].default_quantity }
        : { barcode: c })),
    };
    try {
      const saved = id ? await send("PATCH", `/api/products/${id}`, body)
        : await send("POST", "/api/products", body);
      status.textContent = t("cat.saved", { name: saved.name, price: money(saved.price) });
      if (!id) location.hash = `#/catalogue/${saved.id}`;
    } catch (error) {
      showError(error);
    }
  }

  main.append(
    h("h1", {}, id ? t("cat.edit", { name: p.name }) : t("cat.new")),
    h("form", { id: "product-form", class: "form card", onsubmit: save },
      field(t("cat.name"), name), field(t("cat.code"), code), field(t("cat.price"), price),
      field(t("cat.tax"), tax), field(t("cat.category"), category),
      field(t("cat.barcodes_one_per_line"), barcodes),
      field(t("cat.addons"), addons),
      field(t("cat.active"), active), field(t("cat.weight"), weight), field(t("cat.free_price"), free),
      h("div", { class: "wide toolbar" },
        h("button", { type: "submit", class: "primary", id: "p-save" }, t("common.save")),
        h("button", { type: "button", onclick: () => { location.hash = "#/catalogue"; } }, t("common.back"))),
      h("div", { class: "wide" }, status)),
  );
  if (session.role !== "admin" && session.role !== "manager") name.disabled = true;
}

// Categories: the list with their parents; add one, or rename one in place.
async function categories(box) {
  const all = await getAll("/api/categories");
  const names = Object.fromEntries(all.map((c) => [c.id, c.name]));
  const parentSelect = (id, value) => {
    const select = h("select", { id }, new Option("—", ""), all.map((c) => new Option(c.name, c.id)));
    select.value = value === null || value === undefined ? "" : String(value);
    return select;
  };
  const name = h("input", { id: "cat-new-name", maxlength: "200", required: true });
  const parent = parentSelect("cat-new-parent", null);
  const save = async (method, path, body) => {
    showError(null);
    try {
      await send(method, path, body);
      await categories(box);
    } catch (error) {
      showError(error);
    }
  };
  box.replaceChildren(
    h("h2", {}, t("cat.categories")),
    table([
      { title: "ID", value: (c) => c.id },
      { title: t("cat.name"), value: (c) => {
        const input = h("input", { value: c.name, id: `category-${c.id}-name`, maxlength: "200" });
        input.addEventListener("change", () => save("PUT", `/api/categories/${c.id}`,
          { name: input.value.trim(), parent: c.parent }));
        return input;
      } },
      { title: t("cat.parent"), value: (c) => (c.parent === null ? "" : names[c.parent] ?? c.parent) },
    ], all),
    h("form", { class: "toolbar", id: "category-form", onsubmit: (event) => {
      event.preventDefault();
      save("POST", "/api/categories", { name: name.value.trim(),
        parent: parent.value === "" ? null : Number(parent.value) });
    } }, name, parent, h("button", { type: "submit", id: "category-add" }, t("cat.add_category"))),
  );
}

// Import: choose a CSV or JSON file, check it (a dry run: what would be created and changed,
// or the bad rows), then apply the same file in one go.
function importPanel(reload) {
  const file = h("input", { id: "imp-file", type: "file", accept: ".csv,.json,text/csv,application/json" });
  const result = h("div", { id: "imp-result" });
  const apply = h("button", { type: "button", id: "imp-apply", class: "primary", disabled: true,
    onclick: () => run(false) }, t("cat.import_apply"));
  let checked = null; // the file's text the dry run checked: exactly that is applied

  async function run(dryRun) {
    showError(null);
    apply.disabled = true;
    const chosen = file.files[0];
    if (!chosen) return;
    const body = dryRun ? await chosen.text() : checked;
    const type = /\.json$/i.test(chosen.name) ? "application/json" : "text/csv";
    result.replaceChildren(h("p", { class: "note" }, t("cat.import_working")));
    let answer;
    try {
      answer = (await request("POST", `/api/catalogue/import${dryRun ? "?dry_run=1&show=200" : ""}`,
        body, { contentType: type })).data;
    } catch (error) {
      // A file with bad rows is refused with the rows listed, like the dry run's.
      if (error.body && Array.isArray(error.body.errors)) answer = error.body;
      else { result.replaceChildren(); showError(error); return; }
    }
    show(answer);
    checked = dryRun && !answer.errors.length && (answer.created || answer.updated) ? body : null;
    apply.disabled = checked === null;
    if (!dryRun && !answer.errors.length) reload();
  }

  function show(answer) {
    const counts = t(answer.dry_run ? "cat.import_would" : "cat.import_done", answer);
    const parts = [h("p", { id: "imp-counts", role: "status" }, counts)];
    if (answer.errors.length) {
      parts.push(h("p", { class: "error" }, t("cat.import_bad", { count: answer.errors.length })),
        table([
          { title: t(answer.unit === "index" ? "cat.import_index" : "cat.import_line"), value: (e) => e.line },
          { title: t("cat.import_field"), value: (e) => e.field },
          { title: t("cat.import_message"), value: (e) => e.message },
        ], answer.errors));
    }
    if (answer.changes.length) {
      const shown = (value) => (value === null || value === undefined ? "—"
        : typeof value === "object" ? JSON.stringify(value) : String(value));
      parts.push(table([
        { title: t(answer.unit === "index" ? "cat.import_index" : "cat.import_line"), value: (c) => c.line },
        { title: t("cat.code"), value: (c) => c.code ?? "" },
        { title: t("cat.name"), value: (c) => c.name },
        { title: t("cat.import_what"), value: (c) => (c.action === "create" ? t("cat.import_new")
          : c.changes.map((f) => `${f.field}: ${shown(f.before)} → ${shown(f.after)}`).join("; ")) },
      ], answer.changes, { rowClass: (c) => `imp-${c.action}` }));
      const more = answer.created + answer.updated - answer.changes.length;
      if (more > 0) parts.push(h("p", { class: "note" }, t("cat.import_more", { count: more })));
    }
    result.replaceChildren(...parts);
  }

  file.addEventListener("change", () => { checked = null; apply.disabled = true; result.replaceChildren(); });
  return h("details", { id: "cat-import", class: "card" },
    h("summary", {}, t("cat.import")),
    h("p", { class: "note" }, t("cat.import_hint")),
    h("div", { class: "toolbar" }, file,
      h("button", { type: "button", id: "imp-check", onclick: () => run(true) }, t("cat.import_check")),
      apply),
    result);
}
