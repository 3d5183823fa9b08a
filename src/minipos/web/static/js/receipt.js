// The receipt on screen after complete: what the server recorded (document number, rows,
// totals, payments, change), read from the Done invoice's embedded receipt, never from the
// form. The paper copy is the server's print job; "Print" here is only the browser's print.

import { $, h, localTime } from "./dom.js";
import { euro, quantityText } from "./money.js";

export function renderReceipt(invoice) {
  const receipt = invoice.receipts[0];
  const refund = receipt.mode === 3;
  const line = (label, value, attrs = {}) => h("tr", attrs, h("th", {}, label), h("td", { class: "num" }, value));
  $("receipt-body").replaceChildren(
    h("h2", {}, refund ? "Refund receipt " : "Receipt ", h("span", { id: "receipt-number" }, `no. ${invoice.check_num}`)),
    h("p", { class: "note" },
      `${receipt.station_name} · POS ${invoice.print_pos_id} · ${localTime(receipt.print_time)}`,
      receipt.cashier_name ? ` · ${receipt.cashier_name}` : "",
      h("br"), `Invoice ${invoice.invoice_no}`),
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
}
