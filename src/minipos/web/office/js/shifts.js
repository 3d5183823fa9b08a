// Shifts and Z-reports: the list (newest first), and one shift's report: its figures and
// the Z-report as it was printed (the electronic journal's text), to print or save.
import { dateTime, money, number, t } from "/i18n/i18n.js";
import { get, getAll, query, request } from "./api.js";
import { h, showError, table } from "./dom.js";

const PAGE = 50;

export async function render(main, { args }) {
  if (args[0]) return open(main, Number(args[0]));
  const stations = await getAll("/api/stations").catch(() => []);
  const station = h("select", { id: "sh-station" }, new Option(t("common.all_stations"), ""),
    stations.map((s) => new Option(`${s.name} (POS ${s.pos_id})`, s.id)));
  const from = h("input", { type: "date", id: "sh-from" });
  const to = h("input", { type: "date", id: "sh-to" });
  const list = h("div", { id: "shift-list" });
  main.append(
    h("h1", {}, t("nav.shifts")),
    h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); load(); } },
      station, h("label", { for: "sh-from" }, t("common.from")), from,
      h("label", { for: "sh-to" }, t("common.to")), to,
      h("button", { type: "submit" }, t("common.show"))),
    list);

  async function load() {
    const filters = { station_id: station.value, from: from.value, to: to.value };
    const first = await request("GET", `/api/shifts${query({ ...filters, limit: 1 })}`);
    const offset = Math.max(0, first.total - PAGE);
    const page = await get(`/api/shifts${query({ ...filters, limit: PAGE, offset })}`);
    page.reverse();
    list.replaceChildren(table([
      { title: "Z", value: (s) => s.z_number },
      { title: t("sh.station"), value: (s) => `${s.station_name} (POS ${s.station_pos_id})` },
      { title: t("sh.opened"), value: (s) => dateTime(s.start_date) },
      { title: t("sh.closed"), value: (s) => (s.close_date ? dateTime(s.close_date) : t("sh.open_now")) },
      { title: t("sh.cashier"), value: (s) => s.close_employee_name || s.start_employee_name || "" },
      { title: t("sh.total"), num: true, value: (s) => (s.grand_total === null ? "" : money(s.grand_total)) },
    ], page, {
      onRow: (s) => { location.hash = `#/shifts/${s.id}`; },
      rowClass: (s) => `shift-${s.id}`,
    }), h("p", { class: "note" }, t("sh.count", { shown: page.length, total: first.total })));
  }
  await load();
}

// The report as the printer printed it: the journal's entry for this shift's Z.
async function printed(shift) {
  if (!shift.close_date) return null;
  const day = shift.close_date.slice(0, 10);
  try {
    const entries = await get(`/api/journal${query({ station_id: shift.station, from: day, to: day })}`);
    const entry = entries.find((e) => e.kind === "z_report" && e.shift_id === shift.id);
    return entry ? entry.text : null;
  } catch {
    return null;
  }
}

// Without a journal entry (an open shift's X, or an older server): the same figures as text.
function asText(shift) {
  const r = shift.report;
  const line = (left, right) => `${left}${" ".repeat(Math.max(1, 42 - left.length - right.length))}${right}`;
  const out = [
    `${shift.report_type}-${t("sh.report")} #${shift.z_number}`,
    `${shift.station_name} (POS ${shift.station_pos_id})`,
    `${t("sh.opened")}: ${dateTime(shift.start_date)}`,
    shift.close_date ? `${t("sh.closed")}: ${dateTime(shift.close_date)}` : "",
    "-".repeat(42),
    line(t("sh.receipts"), String(r.receipts)),
    line(t("sh.sales"), money(r.sales)),
    line(t("sh.refunds"), money(r.refunds)),
    line(t("sh.turnover"), money(r.turnover)),
    "-".repeat(42),
    ...r.vat.map((v) => line(`${t("dash.vat")} ${number(v.rate, 2)} %`, `${money(v.net)} + ${money(v.tax)}`)),
    line(t("dash.vat"), money(r.tax)),
    "-".repeat(42),
    ...r.payments.map((p) => line(p.method_name, money(p.amount))),
  ];
  return out.filter((x) => x !== "").join("\n");
}

async function open(main, id) {
  const shift = await get(`/api/shifts/${id}`);
  const text = (await printed(shift)) ?? asText(shift);
  const r = shift.report;
  const save = () => {
    const link = h("a", {
      href: URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" })),
      download: `z-${shift.station_pos_id}-${shift.z_number}.txt`,
    });
    link.click();
    URL.revokeObjectURL(link.href);
  };
  main.append(
    h("h1", { id: "shift-title" }, t(shift.report_type === "Z" ? "sh.z_title" : "sh.x_title",
      { z: shift.z_number, station: shift.station_name })),
    h("div", { class: "toolbar" },
      h("button", { type: "button", onclick: () => { location.hash = "#/shifts"; } }, t("common.back")),
      h("button", { type: "button", id: "sh-print", onclick: () => window.print() }, t("common.print")),
      h("button", { type: "button", id: "sh-export", onclick: save }, t("sh.export")),
      h("a", { href: `#/receipts?station_id=${shift.station}&z_number=${shift.z_number}` }, t("sh.its_receipts"))),
    h("div", { class: "columns" },
      h("div", {},
        table([
          { title: "", value: (x) => x[0] },
          { title: "", num: true, value: (x) => x[1] },
        ], [
          [t("sh.opened"), dateTime(shift.start_date)],
          [t("sh.closed"), shift.close_date ? dateTime(shift.close_date) : t("sh.open_now")],
          [t("sh.receipts"), number(r.receipts)],
          [t("sh.sales"), money(r.sales)],
          [t("sh.refunds"), money(r.refunds)],
          [t("sh.turnover"), money(r.turnover)],
          [t("dash.vat"), money(r.tax)],
          [t("sh.total"), shift.grand_total === null ? "" : money(shift.grand_total)],
        ]),
        h("h2", {}, t("dash.per_vat")),
        table([
          { title: t("sh.rate"), value: (v) => `${number(v.rate, 2)} %` },
          { title: t("dash.gross"), num: true, value: (v) => money(v.gross) },
          { title: t("dash.net"), num: true, value: (v) => money(v.net) },
          { title: t("dash.vat"), num: true, value: (v) => money(v.tax) },
        ], r.vat),
        h("h2", {}, t("dash.per_method")),
        table([
          { title: t("dash.method"), value: (p) => p.method_name },
          { title: t("sh.amount"), num: true, value: (p) => money(p.amount) },
        ], r.payments)),
      h("div", {}, h("h2", {}, t("sh.as_printed")), h("pre", { class: "printout", id: "shift-printout" }, text))),
  );
  showError(null);
}
