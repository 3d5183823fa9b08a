// X- and Z-reports: the totals of a shift, as shift/x-report and shift/close answer them
// (receipts, sales, refunds, VAT per rate, payments per method).

import { $, h, localTime } from "./dom.js";
import { euro } from "./money.js";

// kind: "X" (open shift, read-only) or "Z" (the shift was just closed).
export function renderReport(shift, kind) {
  const r = shift.report;
  const row = (label, value, id) => h("tr", { id }, h("th", {}, label), h("td", { class: "num" }, value));
  const title = kind === "Z" ? `Z-report no. ${shift.z_number}` : `X-report (shift ${shift.z_number}, still open)`;
  $("report-body").replaceChildren(
    h("h2", { id: "report-title" }, title),
    h("p", { class: "note" },
      `${shift.station_name} · POS ${shift.station_pos_id} · chassis ${shift.station_chassis_id}`, h("br"),
      `Opened ${localTime(shift.start_date)}`, shift.start_employee_name ? ` by ${shift.start_employee_name}` : "",
      shift.close_date ? [h("br"), `Closed ${localTime(shift.close_date)}`] : "",
      shift.close_employee_name ? ` by ${shift.close_employee_name}` : ""),
    h("table", { class: "sums" },
      row("Receipts", String(r.receipts), "report-receipts"),
      row("Sales", euro(r.sales), "report-sales"),
      row("Refunds", euro(r.refunds), "report-refunds"),
      row("Turnover", euro(r.turnover), "report-turnover"),
      row("VAT", euro(r.tax), "report-tax"),
      kind === "Z" ? row("Grand total", euro(shift.grand_total), "report-grand") : null),
    h("h3", {}, "VAT by rate"),
    r.vat.length ? h("table", { class: "rows", id: "report-vat" },
      h("thead", {}, h("tr", {}, ["Rate", "Gross", "Net", "VAT"].map((t, i) => h("th", { class: i ? "num" : "" }, t)))),
      h("tbody", {}, r.vat.map((v) => h("tr", {},
        h("td", {}, `${v.rate} %`), h("td", { class: "num" }, euro(v.gross)),
        h("td", { class: "num" }, euro(v.net)), h("td", { class: "num" }, euro(v.tax))))))
      : h("p", { class: "note" }, "No sales in this shift."),
    h("h3", {}, "Payments"),
    r.payments.length ? h("table", { class: "rows", id: "report-payments" },
      h("tbody", {}, r.payments.map((p) => h("tr", {},
        h("td", {}, p.method_name), h("td", { class: "num" }, euro(p.amount))))))
      : h("p", { class: "note" }, "No payments."));
}
