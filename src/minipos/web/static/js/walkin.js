// The walk-in sale ("New sale"): products rung up at the till with no invoice. A scanner
// types a barcode and presses Enter; the cashier may type a product code or part of a name
// instead. Rows have an editable quantity (and price, for is_free_price products) and can be
// removed; the total is re-priced by the same rules as invoices (money.js). Complete sends
// POST /api/stations/{id}/receipts through checkout.js, which makes a retry safe.
// The form is stored on every change (minipos.walkin), so a reload keeps the basket.

import { call, fieldErrors } from "./api.js";
import { byBarcode, byCode, searchByName } from "./catalogue.js";
import { sendReceipt } from "./checkout.js";
import { $, h, setText, showView } from "./dom.js";
import { discountText, euro, euroUnits, format, parseDecimal, priceInvoice } from "./money.js";
import { cashLine, paymentForm } from "./payform.js";
import { loadWalkin, saveWalkin } from "./store.js";

let env = null; // {stationId, cashier, methods, onReceipt(receipt), onUnauthorized(message)}
// state = {rows: [row], lines: [{methodId, amount}]}; a row is what was added and how:
// {via: "barcode" | "code" | "text", barcode, code, name, price, quantity, discount,
//  discount_type, tax, isFreePrice}, with quantity and price as the cashier typed them.
let state = null;
let form = null;
let busy = false;

export function configureWalkin(options) {
  env = options;
  $("walkin-add").onsubmit = (event) => {
    event.preventDefault();
    addTyped();
  };
  $("walkin-input").oninput = showResults;
  $("walkin-pay").onsubmit = submit;
  $("walkin-clear").onclick = () => {
    state = fresh();
    persist();
    render();
    $("walkin-input").focus();
  };
}

const fresh = () => ({ rows: [], lines: [cashLine(env.methods)] });

export function showWalkin() {
  if (!state) state = loadWalkin() || fresh();
  form = paymentForm({ prefix: "walkin", methods: env.methods, state, total, onChange: persist });
  render();
  showView("walkin-view");
  $("walkin-input").focus();
}

function persist() {
  saveWalkin(state);
}

// --- adding products ---------------------------------------------------------------------

async function addTyped() {
  const text = $("walkin-input").value.trim();
  setText("walkin-add-error", "");
  if (!text) {
    // Enter on an empty field: the basket is done, on to the payment.
    if (state.rows.length) $("walkin-amount-0")?.focus();
    return;
  }
  const found = byBarcode(text) || (byCode(text) ? { product: byCode(text) } : null) ||
    (await askServer(text));
  if (found) {
    add(found.product, found.barcode, found.barcode ? "barcode" : "code");
    return;
  }
  const matches = searchByName(text);
  if (matches.length === 1) add(matches[0], null, "name");
  else if (!matches.length) {
    setText("walkin-add-error", `Nothing found for "${text}".`);
    $("walkin-input").select(); // the next scan replaces it
  }
  else setText("walkin-add-error", "Several products match: choose one below.");
}

// The in-memory catalogue is up to a minute old: a product added since is asked for by
// barcode, then by code, before the cashier is told it does not exist.
async function askServer(text) {
  try {
    const [hit] = await call("GET", `/api/products?barcode=${encodeURIComponent(text)}`);
    if (hit && hit.status !== 0) return { product: hit, barcode: hit.barcodes.find((b) => b.barcode === text) };
    if (/^\d{1,18}$/.test(text)) {
      const [coded] = await call("GET", `/api/products?code=${text}`);
      if (coded && coded.status !== 0) return { product: coded };
    }
  } catch (error) {
    if (error.status === 401) env.onUnauthorized(error.message);
  }
  return null;
}

function showResults() {
  const text = $("walkin-input").value.trim();
  const matches = text.length >= 2 && !/^\d+$/.test(text) ? searchByName(text) : [];
  $("walkin-results").replaceChildren(...matches.map((product) => h("li", {},
    h("button", {
      type: "button",
      class: "result",
      dataset: { productId: product.id },
      onclick: () => add(product, null, "name"),
    }, h("span", {}, product.name), h("span", { class: "num" }, euro(product.price))))));
}

// How a row names its product to the server: as scanned (a barcode carries its own discount
// and quantity), else by code. A product found by name goes by code, else by a barcode of
// its own, else (no code, no barcode) as free text at its price.
function add(product, barcode, how) {
  let via = how === "barcode" ? "barcode" : "code";
  if (how === "name" && product.code === null) via = product.barcodes.length ? "barcode" : "text";
  const chosen = barcode || (via === "barcode" ? product.barcodes[0] : null);
  const quantity = parseDecimal(chosen?.default_quantity ?? product.default_quantity, 3) || 1000n;
  const same = !product.is_weight && state.rows.find((r) => r.productId === product.id &&
    r.via === via && r.barcode === (chosen?.barcode ?? null));
  if (same) {
    // Scanning the same thing again adds to its row, as tills do.
    same.quantity = format((parseDecimal(same.quantity, 3) ?? 0n) + quantity, 3).replace(/\.?0+$/, "");
  } else {
    state.rows.push({
      via,
      productId: product.id,
      barcode: chosen?.barcode ?? null,
      code: product.code,
      name: product.name,
      price: format(parseDecimal(product.price, 2) ?? 0n),
      quantity: format(quantity, 3).replace(/\.?0+$/, ""),
      discount: chosen && Number(chosen.discount) ? chosen.discount : 0,
      discount_type: chosen && Number(chosen.discount) ? chosen.discount_type : null,
      tax: product.tax,
      isFreePrice: product.is_free_price,
    });
  }
  persist();
  $("walkin-input").value = "";
  $("walkin-results").replaceChildren();
  setText("walkin-add-error", "");
  render();
  // A weighed or free-price product needs the cashier's number; anything else: scan on.
  const index = same ? state.rows.indexOf(same) : state.rows.length - 1;
  if (product.is_weight) $(`walkin-qty-${index}`).focus();
  else if (product.is_free_price) $(`walkin-price-${index}`).focus();
  else $("walkin-input").focus();
}

// --- drawing and pricing ----------------------------------------------------------------------

function render() {
  $("walkin-rows").replaceChildren(...state.rows.map((row, index) => h("tr", {},
    h("td", {}, row.name, h("small", {}, ` ${row.barcode || (row.code ?? "")}`),
      h("div", { class: "field-error", id: `walkin-err-${index}` })),
    h("td", { class: "num" }, editor(row, index, "quantity")),
    h("td", { class: "num" }, row.isFreePrice ? editor(row, index, "price") : euro(row.price)),
    h("td", { class: "num" }, discountText(row.discount, row.discount_type)),
    h("td", { class: "num", id: `walkin-sum-${index}` }),
    h("td", {}, h("button", {
      type: "button",
      class: "remove",
      id: `walkin-remove-${index}`,
      "aria-label": `Remove ${row.name}`,
      onclick: () => {
        state.rows.splice(index, 1);
        persist();
        render();
        $("walkin-input").focus();
      },
    }, "×")))));
  $("walkin-empty").hidden = state.rows.length > 0;
  for (const id of ["walkin-rows-error", "walkin-error"]) setText(id, "");
  form.render();
  update();
}

function editor(row, index, field) {
  return h("input", {
    id: `walkin-${field === "quantity" ? "qty" : "price"}-${index}`,
    type: "text",
    inputmode: "decimal",
    class: "edit",
    value: row[field],
    "aria-label": `${field === "quantity" ? "Quantity" : "Price"} of ${row.name}`,
    onfocus: (e) => e.target.select(),
    // Enter goes back to the scan field: the next product.
    onkeydown: (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        $("walkin-input").focus();
      }
    },
    oninput: (e) => {
      row[field] = e.target.value;
      persist();
      update();
    },
  });
}

// The rows as money.js prices an invoice; a number still being typed counts as 0.
function priced() {
  const rows = state.rows.map((row, id) => ({
    id,
    quantity: format(parseDecimal(row.quantity, 3) ?? 0n, 3),
    price: format(parseDecimal(row.price, 2) ?? 0n),
    discount: row.discount,
    discount_type: row.discount_type,
  }));
  return priceInvoice({ rows, discount: 0, discount_type: null }, {});
}

function total() {
  return priced().total;
}

function update() {
  const { amounts, total: sum } = priced();
  amounts.forEach((cents, index) => setText(`walkin-sum-${index}`, euroUnits(cents)));
  setText("walkin-total", euroUnits(sum));
  form.summary();
}

// --- completing -----------------------------------------------------------------------------

function buildBody() {
  let ok = true;
  const rows = state.rows.map((row, index) => {
    const sent = {};
    if (row.via === "barcode") sent.barcode = row.barcode;
    else if (row.via === "code") sent.code = row.code;
    else Object.assign(sent, { text: row.name, price: row.price, tax: row.tax });
    const quantity = parseDecimal(row.quantity, 3);
    if (quantity === null || quantity <= 0n) {
      setText(`walkin-err-${index}`, "Enter a quantity like 2 or 0.455");
      ok = false;
    } else sent.quantity = format(quantity, 3);
    if (row.isFreePrice) {
      const price = parseDecimal(row.price, 2);
      if (price === null || price < 0n) {
        setText(`walkin-err-${index}`, "Enter a price like 2.50");
        ok = false;
      } else sent.price = format(price);
    }
    return sent;
  });
  const payments = form.payments();
  if (!state.rows.length) {
    setText("walkin-error", "Scan or add a product first.");
    ok = false;
  }
  if (!ok || !payments) return null;
  const body = { mode: 1, rows, payments };
  if (env.cashier) body.cashier_name = env.cashier;
  return body;
}

async function submit(event) {
  event.preventDefault();
  if (busy) return;
  for (const el of document.querySelectorAll("#walkin-view .field-error")) el.textContent = "";
  for (const id of ["walkin-rows-error", "walkin-error"]) setText(id, "");
  const body = buildBody();
  if (!body) return;
  busy = true;
  $("walkin-submit").disabled = true;
  try {
    const receipt = await sendReceipt(env.stationId, "walkin", body);
    state = fresh();
    persist();
    env.onReceipt(receipt);
  } catch (error) {
    if (error.status === 0) {
      setText("walkin-error", "No answer from the server. Press Complete again when the " +
        "connection is back: a repeat cannot take the payment twice.");
    } else if (error.status === 401) env.onUnauthorized(error.message);
    else showErrors(error);
  } finally {
    busy = false;
    $("walkin-submit").disabled = false;
  }
}

// Each of the server's messages goes next to what it names: rows[i].barcode under row i,
// payments[i] under that payment, the rest under the form.
function showErrors(error) {
  const found = fieldErrors(error.body);
  if (!found.length) found.push({ path: [], message: error.message });
  const general = [];
  for (const { path, message } of found) {
    const [name, index] = path;
    const target = Number.isInteger(index) &&
      $(name === "rows" ? `walkin-err-${index}` : name === "payments" ? `walkin-err-pay-${index}` : "");
    if (target) target.textContent = [target.textContent, message].filter(Boolean).join(" ");
    else if (name === "rows") setText("walkin-rows-error", message);
    else general.push(name && name !== "payments" ? `${name}: ${message}` : message);
  }
  setText("walkin-error", general.join(" "));
}
