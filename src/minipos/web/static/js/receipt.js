// The receipt on screen after complete: what the server recorded (document number, rows,
// totals, payments, change), read from the Done invoice's embedded receipt (or, for a walk-in
// sale or refund, the receipt the server answered), never from the form. The paper is the
// server's print job; "Print copy" queues another one: in the Latvian fiscal profile a
// supporting document (attaisnojuma dokuments, counted per receipt; past the limit the server
// answers 409, shown as the error), elsewhere a KOPIJA copy (docs/fiscal.md). The server's own
// text preview shows what the paper says. "Print" is only the browser's print.

import { call, callText } from "./api.js";
import { $, h, localTime, notice, setText } from "./dom.js";
import { euro, quantityText } from "./money.js";

let shownId = null; // the receipt on screen, for Print copy

export function configureReceipt({ onUnauthorized }) {
  $("receipt-copy").onclick = async () => {
    setText("receipt-error", "");
    try {
      const job = await call("POST", `/api/receipts/${shownId}/reprint`);
      notice(
        job.supporting_number
          ? `Supporting document No. ${job.supporting_number} queued (job ${job.id}).`
          : `Copy queued (job ${job.id}).`,
      );
    } catch (error) {
      if (error.status === 401) onUnauthorized(error.message);
      else setText("receipt-error", error.message);
    }
  };
}

// The server's text preview: exactly the lines the printer gets (printing.md, Previews).
async function showPreview(receiptId) {
  shownId = receiptId;
  setText("receipt-error", "");
  $("receipt-preview").textContent = "";
  try {
    const text = await callText(`/api/receipts/${receiptId}/preview?format=txt`);
    if (shownId === receiptId) $("receipt-preview").textContent = text;
  } catch {
    if (shownId === receiptId) $("receipt-preview").textContent = "(no preview)";
  }
}

// A walk-in sale's or refund's receipt: the GET /api/receipts shape.
export function renderSaleReceipt(receipt) {
  const invoice = {
    check_num: receipt.document_id,
    print_pos_id: receipt.station_pos_id,
    invoice_no: null,
    changed_sum: receipt.changed_amount,
    print_paper_receipt: true,
  };
  renderReceipt(invoice, { ...receipt, cashier_name: null });
}

export function renderReceipt(invoice, given = null) {
  const receipt = given || invoice.receipts[0];
  const refund = receipt.mode === 3;
  const line = (label, value, attrs = {}) => h("tr", attrs, h("th", {}, label), h("td", { class: "num" }, value));
  $("receipt-body").replaceChildren(
    h("h2", {}, refund ? "Refund receipt " : "Receipt ", h("span", { id: "receipt-number" }, `no. ${invoice.check_num}`)),
    h("p", { class: "note" },
      `${receipt.station_name} · POS ${invoice.print_pos_id} · ${localTime(receipt.print_time)}`,
      receipt.cashier_name ? ` · ${receipt.cashier_name}` : "",
      invoice.invoice_no ? [h("br"), `Invoice ${invoice.invoice_no}`] : null),
    h("table", { class: "rows" },
      h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", { class: "num" }, "Qty"),
        h("th", { class: "num" }, "Price"), h("th", { class: "num" }, "Amount"))),
      h("tbody", {}, receipt.rows.map((row) => h("tr", {},
        h("td", {}, row.product_name,
          Number(row.discount_amount) ? h("small", {}, ` (discount −${euro(row.discount_amount)})`) : null),
        h("td", { class: "num" }, quantityText(row.quantity)),
        h("td", { class: "num" }, euro(row.price)),
        h("td", { class: "num" }, euro(row.amount)))))),
    h("table", { class: "sums" },
      line(refund ? "Paid out" : "Total", euro(receipt.bruto_amount), { id: "receipt-total", class: "big" }),
      line("of which VAT", euro(receipt.tax_amount)),
      Number(receipt.discount_amount) ? line("Discount", `−${euro(receipt.discount_amount)}`) : null,
      receipt.payments.map((p) => line(p.method_name, euro(p.amount), { class: "payment" })),
      line("Change", euro(invoice.changed_sum), { id: "receipt-change", class: "big" })),
    h("p", { class: "note" }, invoice.print_paper_receipt === false
      ? "No paper receipt was asked for."
      : "The paper receipt is queued for the printer."));
  showPreview(receipt.id);
}
