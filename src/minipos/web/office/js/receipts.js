// Receipts: search by number, station, Z, period, amount, payment method or kind; open one
// as printed (the server's text preview) with its rows and payments; reprint it (a
// supporting document in the Latvian profile, a copy otherwise).
import { dateTime, money, number, t } from "/i18n/i18n.js";
import { get, getAll, getText, query, request, send } from "./api.js";
import { field, h, showError, table } from "./dom.js";

const PAGE = 50;
const MODES = { 1: "rc.mode.walkin", 2: "rc.mode.invoice", 3: "rc.mode.refund" };

export async function render(main, { args, params }) {
  if (args[0]) return open(main, Number(args[0]));
  const [stations, methods] = await Promise.all([
    getAll("/api/stations").catch(() => []),
    getAll("/api/payment-methods").catch(() => []),
  ]);
  const inputs = {
    document_id: h("input", { id: "rc-number", size: "10" }),
    station_id: h("select", { id: "rc-station" }, new Option(t("common.all_stations"), ""),
      stations.map((s) => new Option(`${s.name} (POS ${s.pos_id})`, s.id))),
    z_number: h("input", { id: "rc-z", size: "5", inputmode: "numeric" }),
    from: h("input", { id: "rc-from", type: "date" }),
    to: h("input", { id: "rc-to", type: "date" }),
    amount_min: h("input", { id: "rc-min", size: "7", inputmode: "decimal" }),
    amount_max: h("input", { id: "rc-max", size: "7", inputmode: "decimal" }),
    payment_method: h("select", { id: "rc-method" }, new Option(t("rc.any_method"), ""),
      methods.map((m) => new Option(m.name, m.id))),
    mode: h("select", { id: "rc-mode" }, new Option(t("rc.any_kind"), ""),
      Object.entries(MODES).map(([value, key]) => new Option(t(key), value))),
  };
  for (const [name, input] of Object.entries(inputs)) input.value = params.get(name) ?? "";
  const list = h("div", { id: "receipt-list" });
  main.append(
    h("h1", {}, t("nav.receipts")),
    h("form", { class: "form card", id: "receipt-search", onsubmit: (e) => { e.preventDefault(); load(); } },
      field(t("rc.number"), inputs.document_id), field(t("sh.station"), inputs.station_id),
      field("Z", inputs.z_number), field(t("common.from"), inputs.from), field(t("common.to"), inputs.to),
      field(t("rc.amount_min"), inputs.amount_min), field(t("rc.amount_max"), inputs.amount_max),
      field(t("dash.method"), inputs.payment_method), field(t("rc.kind"), inputs.mode),
      h("div", { class: "wide" }, h("button", { type: "submit", class: "primary", id: "rc-find" }, t("cat.find")))),
    list);

  async function load() {
    showError(null);
    const filters = Object.fromEntries(Object.entries(inputs).map(([name, input]) =>
      [name, name.startsWith("amount") ? input.value.trim().replace(",", ".") : input.value.trim()]));
    const first = await request("GET", `/api/receipts${query({ ...filters, limit: 1 })}`);
    const offset = Math.max(0, first.total - PAGE);
    const page = await get(`/api/receipts${query({ ...filters, limit: PAGE, offset })}`);
    page.reverse();
    list.replaceChildren(table([
      { title: t("rc.number"), value: (r) => r.document_id },
      { title: t("rc.time"), value: (r) => dateTime(r.print_time) },
      { title: t("sh.station"), value: (r) => r.station_name },
      { title: "Z", value: (r) => r.z_number },
      { title: t("rc.kind"), value: (r) => t(MODES[r.mode] ?? "rc.mode.walkin") },
      { title: t("sh.cashier"), value: (r) => r.cashier_name ?? "" },
      { title: t("sh.total"), num: true, value: (r) => money(r.bruto_amount) },
    ], page, {
      onRow: (r) => { location.hash = `#/receipts/${r.id}`; },
      rowClass: (r) => `receipt-${r.id}`,
    }), h("p", { class: "note" }, t("sh.count", { shown: page.length, total: first.total })));
  }
  await load();
}

async function open(main, id) {
  const receipt = await get(`/api/receipts/${id}`);
  const preview = h("pre", { class: "printout", id: "receipt-printout" }, "…");
  const notice = h("p", { class: "ok", id: "rc-notice", role: "status" });
  main.append(
    h("h1", {}, t("rc.title", { number: receipt.document_id, station: receipt.station_name })),
    h("div", { class: "toolbar" },
      h("button", { type: "button", onclick: () => history.back() }, t("common.back")),
      h("button", { type: "button", id: "rc-reprint", onclick: async () => {
        showError(null);
        try {
          const job = await send("POST", `/api/receipts/${id}/reprint`);
          notice.textContent = job.supporting_number
            ? t("rc.supporting", { n: job.supporting_number, job: job.id })
            : t("rc.copy", { job: job.id });
        } catch (error) {
          showError(error);
        }
      } }, t("rc.reprint")),
      h("button", { type: "button", onclick: () => window.print() }, t("common.print"))),
    notice,
    h("div", { class: "columns" },
      h("div", {},
        table([
          { title: "", value: (x) => x[0] },
          { title: "", num: true, value: (x) => x[1] },
        ], [
          [t("rc.time"), dateTime(receipt.print_time)],
          [t("rc.kind"), t(MODES[receipt.mode] ?? "rc.mode.walkin")],
          ["Z", receipt.z_number],
          [t("sh.cashier"), receipt.cashier_name ?? ""],
          [t("dash.net"), money(receipt.neto_amount)],
          [t("dash.vat"), money(receipt.tax_amount)],
          [t("sh.total"), money(receipt.bruto_amount)],
        ]),
        h("h2", {}, t("rc.rows")),
        table([
          { title: t("cat.name"), value: (r) => r.product_name },
          { title: t("dash.quantity"), num: true, value: (r) => number(r.quantity, 3) },
          { title: t("cat.price"), num: true, value: (r) => money(r.price) },
          { title: t("sh.total"), num: true, value: (r) => money(r.amount) },
        ], receipt.rows),
        h("h2", {}, t("dash.per_method")),
        table([
          { title: t("dash.method"), value: (p) => p.method_name },
          { title: t("sh.amount"), num: true, value: (p) => money(p.amount) },
        ], receipt.payments)),
      h("div", {}, h("h2", {}, t("sh.as_printed")), preview)),
  );
  try {
    preview.textContent = await getText(`/api/receipts/${id}/preview?format=txt`);
  } catch (error) {
    preview.textContent = error.message;
  }
}
