// The open invoice: its rows (weights and free prices editable), the payment form, and
// complete / release / cancel. The claim is a lease on the server, renewed here by claiming
// again every 30 s. The form is copied to localStorage on every keystroke, so a reload (or a
// crash) brings the sale back as it was.

import { call, fieldErrors } from "./api.js";
import { $, h, setText, showView } from "./dom.js";
import { modeName } from "./feed.js";
import { discountText, euro, euroUnits, format, parseDecimal, priceInvoice, quantityText }
  from "./money.js";
import { saveSale, uuid4 } from "./store.js";

const RENEW_MS = 30_000; // the lease is 120 s by default: three renewals may fail in a row

let env = null; // {methods, cashier, onClosed(result), onUnauthorized()}
// sale = {invoice, edits: {rowId: {quantity, price}}, lines: [{methodId, amount}], pending}
// A payment line's amount is the text as typed; "" means "the rest" (amount null in the API).
// pending = {requestId, body} from sending complete until an answer arrives.
let sale = null;
let renewTimer = 0;
let busy = false;

export function configureSale(options) {
  env = options;
  $("rows-form").onsubmit = nextField;
  $("pay-form").onsubmit = submit;
  $("sale-release").onclick = release;
  $("sale-cancel").onclick = cancel;
}

export const currentInvoice = () => sale?.invoice ?? null;

// Shows a claimed invoice. `saved` is the stored form; it is used when it is this invoice's.
export function openSale(invoice, saved) {
  const same = saved && saved.invoiceId === invoice.id;
  sale = {
    invoice,
    edits: (same && saved.edits) || {},
    lines: (same && saved.lines) || defaultLines(invoice),
    pending: (same && saved.pending) || null,
  };
  persist();
  render();
  clearInterval(renewTimer);
  renewTimer = setInterval(renew, RENEW_MS);
  showView("sale-view");
  focusStart();
  if (sale.pending) {
    setText("pay-error", "The last Complete got no answer. Press Complete to send it again: " +
      "a repeat cannot take the payment twice.");
  }
}

// The integrator's planned payments if it sent any, else cash for the whole amount.
function defaultLines(invoice) {
  if (invoice.mode === 3) return [];
  if (invoice.payments.length) {
    return invoice.payments.map((p) => ({
      methodId: p.method_id,
      amount: p.amount === null ? "" : format(parseDecimal(p.amount, 2)),
    }));
  }
  const cash = env.methods.find((m) => m.is_cash) || env.methods[0];
  return [{ methodId: cash.id, amount: "" }];
}

function persist() {
  const { invoice, edits, lines, pending } = sale;
  saveSale({ invoiceId: invoice.id, edits, lines, pending });
}

// --- drawing ----------------------------------------------------------------------------

function render() {
  const { invoice } = sale;
  const slip = invoice.mode === 3;
  setText("sale-title", `Invoice ${invoice.invoice_no}`);
  setText("sale-mode", modeName(invoice.mode));
  $("sale-mode").className = `badge mode-${invoice.mode}`;
  setText("sale-comment", invoice.comment);
  for (const id of ["rows-form", "sale-totals", "pay-methods", "pay-lines", "pay-summary"]) {
    $(id).hidden = slip;
  }
  $("pay-submit").textContent = slip ? "Print slip" : invoice.mode === 2 ? "Pay out" : "Complete";
  $("sale-cancel").textContent = "Cancel invoice";
  for (const id of ["rows-error", "pay-error", "sale-error"]) setText(id, "");
  if (slip) return;

  $("sale-rows").replaceChildren(...invoice.rows.map((row) => h("tr", {},
    h("td", {}, row.text, row.code && row.code !== "0" ? h("small", {}, ` ${row.code}`) : null),
    h("td", { class: "num" }, row.is_weight ? editor(row, "quantity") : quantityText(row.quantity)),
    h("td", { class: "num" }, row.is_free_price ? editor(row, "price") : euro(row.price)),
    h("td", { class: "num" }, discountText(row.discount, row.discount_type)),
    h("td", { class: "num", id: `amount-${row.id}` }))));

  $("pay-methods").replaceChildren(...env.methods.map((m) => h("button", {
    type: "button",
    class: "method",
    dataset: { methodId: m.id },
    onclick: () => addLine(m.id),
  }, `+ ${m.name}`)));
  renderLines();
  updateTotals();
}

// An input for a weighed row's quantity or a free-price row's price.
function editor(row, field) {
  const original = field === "quantity" ? quantityText(row.quantity) : format(parseDecimal(row.price, 2));
  const input = h("input", {
    type: "text",
    inputmode: "decimal",
    class: "edit",
    value: sale.edits[row.id]?.[field] ?? original,
    dataset: { rowId: row.id, field },
    "aria-label": `${field === "quantity" ? "Weight" : "Price"} of ${row.text}`,
    onfocus: (e) => e.target.select(),
    // Enter (a scale or the cashier) moves on; a form with two fields would not submit.
    onkeydown: (e) => { if (e.key === "Enter") nextField(e); },
    oninput: (e) => {
      sale.edits[row.id] = { ...sale.edits[row.id], [field]: e.target.value };
      persist();
      updateTotals();
    },
  });
  return [input, h("div", { class: "field-error", id: `err-${row.id}-${field}` })];
}

function renderLines() {
  $("pay-lines").replaceChildren(...sale.lines.map((line, index) => {
    const method = env.methods.find((m) => m.id === line.methodId);
    return h("li", { dataset: { methodId: line.methodId } },
      h("label", { for: `pay-amount-${index}` }, method ? method.name : `Method ${line.methodId}`),
      h("input", {
        id: `pay-amount-${index}`,
        class: "amount",
        type: "text",
        inputmode: "decimal",
        value: line.amount,
        onfocus: (e) => e.target.select(),
        oninput: (e) => {
          line.amount = e.target.value;
          persist();
          renderSummary();
        },
      }),
      h("button", {
        type: "button",
        class: "remove",
        "aria-label": "Remove this payment",
        onclick: () => {
          sale.lines.splice(index, 1);
          persist();
          renderLines();
          renderSummary();
        },
      }, "×"),
      h("div", { class: "field-error", id: `err-pay-${index}` }));
  }));
  renderSummary();
}

function addLine(methodId) {
  sale.lines.push({ methodId, amount: "" });
  persist();
  renderLines();
  $(`pay-amount-${sale.lines.length - 1}`).focus();
}

// What is due: the server's total, or the preview when the cashier edited weights or prices.
function due() {
  const priced = priceInvoice(sale.invoice, sale.edits);
  const edited = Object.keys(sale.edits).length > 0;
  return { priced, total: edited ? priced.total : parseDecimal(sale.invoice.total_sum, 2) };
}

function updateTotals() {
  const { priced, total } = due();
  sale.invoice.rows.forEach((row, i) => setText(`amount-${row.id}`, euroUnits(priced.amounts[i])));
  const items = [];
  if (priced.documentDiscount) {
    items.push(["Invoice discount", `${discountText(sale.invoice.discount, sale.invoice.discount_type)}` +
      ` (−${euroUnits(priced.documentDiscount)})`, ""]);
  }
  items.push([sale.invoice.mode === 2 ? "To pay out" : "Total due", euroUnits(total), "sale-total"]);
  $("sale-totals").replaceChildren(...items.flatMap(([label, value, id]) =>
    [h("dt", {}, label), h("dd", { id: id || null }, value)]));
  renderSummary();
}

// Paid, and change or what is still due. An empty amount takes the rest, as in the API.
function renderSummary() {
  const { total } = due();
  let fixed = 0n;
  let restIndex = -1;
  sale.lines.forEach((line, index) => {
    if (line.amount.trim() === "") {
      if (restIndex < 0) restIndex = index;
    } else {
      fixed += parseDecimal(line.amount, 2) ?? 0n;
    }
  });
  const rest = total > fixed ? total - fixed : 0n;
  sale.lines.forEach((line, index) => {
    const input = $(`pay-amount-${index}`);
    if (input) input.placeholder = index === restIndex ? `${format(rest)} (rest)` : "";
  });
  const paid = fixed + (restIndex >= 0 ? rest : 0n);
  const cash = sale.lines.some((line) => env.methods.find((m) => m.id === line.methodId)?.is_cash);
  const items = [["Paid", euroUnits(paid), "pay-paid"]];
  if (paid < total) items.push(["Still due", euroUnits(total - paid), "pay-due"]);
  else if (paid > total && !cash) items.push(["Over the total", euroUnits(paid - total), "pay-due"]);
  else items.push(["Change", euroUnits(paid - total), "pay-change"]);
  $("pay-summary").replaceChildren(...items.flatMap(([label, value, id]) =>
    [h("dt", {}, label), h("dd", { id }, value)]));
}

// Where the cashier starts: a weight or price to enter, else the first payment's amount.
function focusStart() {
  const slip = sale.invoice.mode === 3;
  const start = slip ? null : $("sale-rows").querySelector("input.edit") || $("pay-amount-0");
  (start || $("pay-submit")).focus();
}

// Enter in a weight or price field moves on to the next one, then to the payment.
function nextField(event) {
  event.preventDefault();
  const inputs = [...$("sale-rows").querySelectorAll("input.edit")];
  const next = inputs[inputs.indexOf(document.activeElement) + 1] || $("pay-amount-0");
  (next || $("pay-submit")).focus();
}

// --- talking to the server -------------------------------------------------------------------

function clearErrors() {
  for (const el of document.querySelectorAll("#sale-view .field-error")) el.textContent = "";
  for (const id of ["rows-error", "pay-error", "sale-error"]) setText(id, "");
}

// The complete body from the form; null (with the faults shown) when something is not a number.
function buildBody() {
  const body = {};
  if (env.cashier) body.cashier_name = env.cashier;
  if (sale.invoice.mode === 3) return body; // a slip takes no payments or edits
  let ok = true;
  body.rows = [];
  for (const row of sale.invoice.rows) {
    const edit = sale.edits[row.id];
    if (!edit) continue;
    const sent = { id: row.id };
    if (row.is_weight && edit.quantity !== undefined) {
      const units = parseDecimal(edit.quantity, 3);
      if (units === null || units <= 0n) {
        setText(`err-${row.id}-quantity`, "Enter a weight like 0.455");
        ok = false;
      } else sent.quantity = format(units, 3);
    }
    if (row.is_free_price && edit.price !== undefined) {
      const units = parseDecimal(edit.price, 2);
      if (units === null || units < 0n) {
        setText(`err-${row.id}-price`, "Enter a price like 2.50");
        ok = false;
      } else sent.price = format(units);
    }
    body.rows.push(sent);
  }
  body.payments = sale.lines.map((line, index) => {
    if (line.amount.trim() === "") return { method_id: line.methodId, amount: null };
    const units = parseDecimal(line.amount, 2);
    if (units === null) {
      setText(`err-pay-${index}`, "Enter an amount like 5 or 5.50");
      ok = false;
    }
    return { method_id: line.methodId, amount: units === null ? line.amount : format(units) };
  });
  return ok ? body : null;
}

async function submit(event) {
  event.preventDefault();
  if (busy || !sale) return;
  clearErrors();
  const body = buildBody();
  if (!body) return;
  // The request_id is made once per attempt and kept until an answer arrives: pressing
  // Complete again after a network error repeats the same attempt, which the server
  // answers without taking the payment twice.
  const requestId = sale.pending?.requestId || uuid4();
  body.request_id = requestId;
  sale.pending = { requestId, body };
  persist();
  busy = true;
  $("pay-submit").disabled = true;
  const invoiceId = sale.invoice.id;
  try {
    const done = await call("POST", `/api/invoice/${invoiceId}/complete`, body);
    finish({ kind: "done", invoice: done });
  } catch (error) {
    if (!sale || sale.invoice.id !== invoiceId) return;
    if (error.status === 0) {
      setText("pay-error", "No answer from the server. Press Complete again when the " +
        "connection is back: a repeat cannot take the payment twice.");
      return;
    }
    sale.pending = null; // answered: the next attempt is a new one
    persist();
    if (error.status === 401) env.onUnauthorized(error.message);
    else if (error.status === 409 && /not open at this station/.test(error.message)) {
      finish({ kind: "lost", message: "Taken by another station: this sale was not completed." });
    } else showErrors(error, body);
  } finally {
    busy = false;
    $("pay-submit").disabled = false;
  }
}

// Puts each of the server's messages next to the field it is about.
function showErrors(error, body) {
  const found = fieldErrors(error.body);
  if (!found.length) found.push({ path: [], message: error.message });
  const general = [];
  for (const { path, message } of found) {
    const [name, index, field] = path;
    let target = null;
    if (name === "payments" && Number.isInteger(index)) target = $(`err-pay-${index}`);
    if (name === "rows" && Number.isInteger(index) && body.rows?.[index]) {
      target = $(`err-${body.rows[index].id}-${field}`);
    }
    if (target) target.textContent = message;
    else if (name === "rows") setText("rows-error", message);
    else general.push(name && name !== "payments" ? `${name}: ${message}` : message);
  }
  setText("pay-error", general.join(" "));
}

async function renew() {
  if (!sale) return;
  const invoiceId = sale.invoice.id;
  try {
    await call("POST", `/api/invoice/${invoiceId}/claim`);
    if ($("sale-error").dataset.connection) {
      setText("sale-error", "");
      delete $("sale-error").dataset.connection;
    }
  } catch (error) {
    if (!sale || sale.invoice.id !== invoiceId) return;
    if (error.status === 0) {
      setText("sale-error", "Connection lost: the invoice is kept for you for two minutes.");
      $("sale-error").dataset.connection = "1";
    } else if (error.status === 401) env.onUnauthorized(error.message);
    else finish({ kind: "lost", message: lostMessage(error) });
  }
}

export function lostMessage(error) {
  return /is open at station/.test(error.message) ? "Taken by another station." : error.message;
}

async function release() {
  await act("release", { kind: "released" });
}

// Cancelling ends the invoice for good, so the button asks once more before it acts.
let cancelArmed = 0;
async function cancel() {
  if (!cancelArmed) {
    $("sale-cancel").textContent = "Really cancel? Press again";
    cancelArmed = setTimeout(() => {
      cancelArmed = 0;
      $("sale-cancel").textContent = "Cancel invoice";
    }, 4000);
    return;
  }
  clearTimeout(cancelArmed);
  cancelArmed = 0;
  await act("cancel", { kind: "cancelled" });
}

async function act(action, result) {
  if (busy || !sale) return;
  busy = true;
  setText("sale-error", "");
  try {
    const invoice = await call("POST", `/api/invoice/${sale.invoice.id}/${action}`);
    finish({ ...result, invoice });
  } catch (error) {
    if (error.status === 401) env.onUnauthorized(error.message);
    else if (error.status === 409 && /not open at this station/.test(error.message)) {
      finish({ kind: "lost", message: "Taken by another station." });
    } else setText("sale-error", error.message);
  } finally {
    busy = false;
  }
}

function finish(result) {
  clearInterval(renewTimer);
  sale = null;
  saveSale(null);
  env.onClosed(result);
}

// Logging out or losing the key: stop renewing; the stored form stays for the next login.
export function dropSale() {
  clearInterval(renewTimer);
  sale = null;
}
