// Refund by receipt number: find the original (GET /api/receipts?document_id=…, at this
// station or at another POS by pos_id), show what each row may still give back
// (max_quantity, max_amount), let the cashier choose quantities up to that, and pay out with
// POST /api/stations/{id}/receipts, mode 3, naming the original (parent_document_id,
// parent_pos_id). The server matches each refund row to an original row by its name and
// price, so each row is sent the way the original sold it: by barcode or code when it was a
// catalogue product, else as free text with its price (stations.md, Refunds).

import { call, fieldErrors } from "./api.js";
import { sendReceipt } from "./checkout.js";
import { byCode } from "./catalogue.js";
import { $, h, localTime, setText, showView } from "./dom.js";
import { discountText, euro, euroUnits, format, parseDecimal, priceInvoice, quantityText }
  from "./money.js";
import { cashLine, paymentForm } from "./payform.js";

let env = null; // {stationId, cashier, methods, onReceipt(receipt), onUnauthorized(message)}
// state = {receipt, quantities: {rowIndex: text}, lines}
let state = null;
let form = null;
let busy = false;

export function configureRefund(options) {
  env = options;
  $("refund-find").onsubmit = find;
  $("refund-pay").onsubmit = submit;
  $("refund-all").onclick = () => {
    state.receipt.rows.forEach((row, index) => { state.quantities[index] = quantityText(row.max_quantity); });
    render();
  };
}

export function showRefund() {
  state = null;
  $("refund-found").hidden = true;
  setText("refund-find-error", "");
  $("refund-number").value = "";
  showView("refund-view");
  $("refund-number").focus();
}

async function find(event) {
  event.preventDefault();
  setText("refund-find-error", "");
  const number = $("refund-number").value.trim();
  const pos = $("refund-pos").value.trim();
  if (!number) {
    setText("refund-find-error", "Type or scan the receipt's number.");
    return;
  }
  if (pos && !/^\d+$/.test(pos)) {
    setText("refund-find-error", "The POS number is digits only.");
    return;
  }
  const where = pos ? `pos_id=${pos}` : `station_id=${env.stationId}`;
  try {
    const found = await call("GET", `/api/receipts?${where}&document_id=${encodeURIComponent(number)}`);
    const receipt = found.find((r) => r.mode !== 3) || found[0];
    if (!receipt) {
      // A station key sees only its own receipts, so another POS's may exist and stay hidden.
      setText("refund-find-error", pos
        ? `No receipt no. ${number} at POS ${pos} that this key may see.`
        : `No receipt no. ${number} at this station.`);
      $("refund-found").hidden = true;
      return;
    }
    if (receipt.mode === 3) {
      setText("refund-find-error", `Receipt no. ${number} is itself a refund.`);
      return;
    }
    state = { receipt, quantities: {}, lines: [cashLine(env.methods)] };
    form = paymentForm({ prefix: "refund", methods: env.methods, state, total, onChange: () => {} });
    render();
    $("refund-found").hidden = false;
    $("refund-qty-0")?.focus();
  } catch (error) {
    if (error.status === 401) env.onUnauthorized(error.message);
    else setText("refund-find-error", error.message);
  }
}

function render() {
  const { receipt } = state;
  setText("refund-original", `Receipt no. ${receipt.document_id} · ${receipt.station_name} · ` +
    `POS ${receipt.station_pos_id} · ${localTime(receipt.print_time)} · total ${euro(receipt.bruto_amount)}`);
  $("refund-rows").replaceChildren(...receipt.rows.map((row, index) => {
    const left = parseDecimal(row.max_quantity, 3) ?? 0n;
    return h("tr", { class: left > 0n ? "" : "spent" },
      h("td", {}, row.product_name, h("small", {}, ` ${row.barcode || row.product_code || ""}`),
        h("div", { class: "field-error", id: `refund-err-${index}` })),
      h("td", { class: "num" }, quantityText(row.quantity)),
      h("td", { class: "num" }, euro(row.price), h("small", {}, ` ${discountText(row.discount, row.discount_type)}`)),
      h("td", { class: "num", id: `refund-left-${index}` },
        `${quantityText(row.max_quantity)} · ${euro(row.max_amount)}`),
      h("td", { class: "num" }, h("input", {
        id: `refund-qty-${index}`,
        type: "text",
        inputmode: "decimal",
        class: "edit",
        placeholder: "0",
        disabled: left <= 0n,
        value: state.quantities[index] ?? "",
        "aria-label": `Quantity of ${row.product_name} to refund`,
        onfocus: (e) => e.target.select(),
        onkeydown: (e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            ($(`refund-qty-${index + 1}`) || $("refund-amount-0"))?.focus();
          }
        },
        oninput: (e) => {
          state.quantities[index] = e.target.value;
          setText(`refund-err-${index}`, ""); // about the number that was there before
          update();
        },
      })),
      h("td", { class: "num", id: `refund-sum-${index}` }));
  }));
  for (const id of ["refund-rows-error", "refund-error"]) setText(id, "");
  form.render();
  update();
}

// Each chosen row priced as the original was (its price and line discount).
function priced() {
  const rows = state.receipt.rows.map((row, id) => ({
    id,
    quantity: format(chosen(id) ?? 0n, 3),
    price: row.price,
    discount: row.discount,
    discount_type: row.discount_type,
  }));
  return priceInvoice({ rows, discount: 0, discount_type: null }, {});
}

function chosen(index) {
  const text = (state.quantities[index] ?? "").trim();
  return text === "" ? 0n : parseDecimal(text, 3);
}

function total() {
  return priced().total;
}

function update() {
  const { amounts, total: sum } = priced();
  amounts.forEach((cents, index) => setText(`refund-sum-${index}`, cents ? euroUnits(cents) : ""));
  setText("refund-total", euroUnits(sum));
  form.summary();
}

// How the original sold the row: a catalogue product by its barcode or code (with the
// original's line discount, not the barcode's current one), anything else as free text.
function refundRow(row) {
  const sent = {};
  if (row.product_id !== null && row.barcode) sent.barcode = row.barcode;
  else if (row.product_id !== null && row.product_code && /^\d+$/.test(row.product_code)) {
    sent.code = Number(row.product_code);
    if (byCode(row.product_code)?.is_free_price) sent.price = format(parseDecimal(row.price, 2));
  } else Object.assign(sent, { text: row.product_name, price: format(parseDecimal(row.price, 2)), tax: row.tax });
  sent.discount = row.discount;
  if (row.discount_type) sent.discount_type = row.discount_type;
  return sent;
}

async function submit(event) {
  event.preventDefault();
  if (busy || !state) return;
  for (const el of document.querySelectorAll("#refund-view .field-error")) el.textContent = "";
  for (const id of ["refund-rows-error", "refund-error"]) setText(id, "");
  let ok = true;
  const rows = [];
  const sentIndex = []; // the body's row i is the original's row sentIndex[i]
  state.receipt.rows.forEach((row, index) => {
    const units = chosen(index);
    const max = parseDecimal(row.max_quantity, 3) ?? 0n;
    if (units === null || units < 0n) {
      setText(`refund-err-${index}`, "Enter a quantity like 1 or 0.455");
      ok = false;
    } else if (units > max) {
      setText(`refund-err-${index}`, `At most ${quantityText(row.max_quantity)} can be refunded.`);
      ok = false;
    } else if (units > 0n) {
      rows.push({ ...refundRow(row), quantity: format(units, 3) });
      sentIndex.push(index);
    }
  });
  const payments = form.payments();
  if (ok && !rows.length) {
    setText("refund-rows-error", "Choose what to refund: type a quantity on a row.");
    ok = false;
  }
  if (!ok || !payments) return;
  const { receipt } = state;
  const body = {
    mode: 3,
    rows,
    payments,
    parent_document_id: receipt.document_id,
    parent_pos_id: receipt.station_pos_id,
  };
  if (env.cashier) body.cashier_name = env.cashier;
  busy = true;
  $("refund-submit").disabled = true;
  try {
    const done = await sendReceipt(env.stationId, "refund", body);
    state = null;
    env.onReceipt(done);
  } catch (error) {
    if (error.status === 0) {
      setText("refund-error", "No answer from the server. Press Pay out again when the " +
        "connection is back: a repeat cannot pay out twice.");
    } else if (error.status === 401) env.onUnauthorized(error.message);
    else showErrors(error, sentIndex);
  } finally {
    busy = false;
    $("refund-submit").disabled = false;
  }
}

function showErrors(error, sentIndex) {
  const found = fieldErrors(error.body);
  if (!found.length) found.push({ path: [], message: error.message });
  const general = [];
  for (const { path, message } of found) {
    const [name, index] = path;
    let target = null;
    if (name === "rows" && Number.isInteger(index)) target = $(`refund-err-${sentIndex[index]}`);
    if (name === "payments" && Number.isInteger(index)) target = $(`refund-err-pay-${index}`);
    if (target) target.textContent = [target.textContent, message].filter(Boolean).join(" ");
    else if (name === "rows") setText("refund-rows-error", message);
    else general.push(name && name !== "payments" ? `${name}: ${message}` : message);
  }
  setText("refund-error", general.join(" "));
}
