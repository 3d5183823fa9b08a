// Dashboard: today and a period (default the last 30 days) from GET /api/reports/sales, drawn
// with Chart.js (vendored, window.Chart).
import { date, locale, money, number, t } from "/i18n/i18n.js";
import { get, query } from "./api.js";
import { h, table } from "./dom.js";

const COLOURS = ["#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#1b7c83", "#e16f24",
  "#6e7781", "#0969da", "#a40e26"];

export function isoDay(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// The shop's today (its time zone, not the browser's): set from the server's default period,
// which ends at the start of the shop's tomorrow.
let shopToday = isoDay(new Date());

function daysAgo(n) {
  const [y, m, d] = shopToday.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - n)).toISOString().slice(0, 10);
}

async function learnToday() {
  const probe = await get(`/api/reports/sales${query({ group_by: "day", limit: 1 })}`);
  const [y, m, d] = probe.to.slice(0, 10).split("-").map(Number);
  const exclusive = /T00:00(:00)?/.test(probe.to);
  shopToday = new Date(Date.UTC(y, m - 1, exclusive ? d - 1 : d)).toISOString().slice(0, 10);
}

const PERIODS = {
  today: () => [daysAgo(0), daysAgo(0)],
  yesterday: () => [daysAgo(1), daysAgo(1)],
  week: () => [daysAgo(6), daysAgo(0)],
  month: () => [daysAgo(29), daysAgo(0)],
};

function report(groupBy, from, to, extra = {}) {
  return get(`/api/reports/sales${query({ from, to, group_by: groupBy, ...extra })}`);
}

function figure(id, label, value) {
  return h("div", { class: "figure" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value));
}

function chartBox(id, title) {
  return h("div", { class: "chart" }, h("h2", {}, title), h("canvas", { id }));
}

function draw(canvas, type, labels, datasets, extra = {}) {
  if (!window.Chart) return null;
  return new window.Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      locale: locale(),
      plugins: { legend: { display: datasets.length > 1 || type === "doughnut" } },
      ...extra,
    },
  });
}

const amount = (value) => Number(value ?? 0);

function hourLabel(key) {
  const m = /T(\d{2}:\d{2})/.exec(key);
  return m ? m[1] : key;
}

export async function render(main, { current }) {
  await learnToday();
  const today = daysAgo(0);
  const periodSelect = h("select", { id: "dash-period" },
    Object.keys(PERIODS).map((name) => new Option(t(`dash.period.${name}`), name)),
    new Option(t("dash.period.custom"), "custom"));
  periodSelect.value = sessionStorage.getItem("minipos.dash.period") || "month";
  const fromInput = h("input", { type: "date", id: "dash-from" });
  const toInput = h("input", { type: "date", id: "dash-to" });
  const csvGroup = h("select", { id: "dash-csv-group" },
    ["day", "hour", "station", "payment_method", "tax_group", "product", "category", "employee"]
      .map((g) => new Option(t(`dash.group.${g}`), g)));
  const csvLink = h("a", { id: "dash-csv", href: "#", download: "" }, t("dash.csv"));
  const body = h("div", { id: "dash-body" });
  main.append(
    h("h1", {}, t("dash.title")),
    h("div", { class: "toolbar" },
      h("label", { for: "dash-period" }, t("dash.period")), periodSelect, fromInput, toInput,
      h("span", { class: "spacer" }), csvGroup, csvLink),
    body,
  );

  const charts = [];
  async function refresh() {
    const period = periodSelect.value;
    sessionStorage.setItem("minipos.dash.period", period);
    let [from, to] = period === "custom" ? [fromInput.value, toInput.value] : PERIODS[period]();
    if (!from || !to) [from, to] = PERIODS.month();
    fromInput.value = from;
    toInput.value = to;
    fromInput.disabled = toInput.disabled = period !== "custom";
    csvLink.href = `/api/reports/sales${query({ from, to, group_by: csvGroup.value, format: "csv" })}`;
    const single = from === to;
    const [todayHours, days, hours, stations, methods, vat, products] = await Promise.all([
      report("hour", today, today),
      report("day", from, to),
      report("hour", from, to),
      report("station", from, to),
      report("payment_method", from, to),
      report("tax_group", from, to),
      report("product", from, to, { limit: 10 }),
    ]);
    if (!current()) return;
    charts.splice(0).forEach((c) => c.destroy());
    const total = days.total;
    const periodText = single ? date(from) : `${date(from)} – ${date(to)}`;
    body.replaceChildren(
      h("h2", {}, t("dash.today", { date: date(today) })),
      h("div", { class: "figures" },
        figure("fig-today-gross", t("dash.gross"), money(todayHours.total.gross)),
        figure("fig-today-count", t("dash.receipts"), number(todayHours.total.count)),
        figure("fig-today-refunds", t("dash.refunds"), money(todayHours.total.refunds)),
        figure("fig-today-vat", t("dash.vat"), money(todayHours.total.vat))),
      h("h2", { id: "dash-period-title" }, periodText),
      h("div", { class: "figures" },
        figure("fig-period-gross", t("dash.gross"), money(total.gross)),
        figure("fig-period-count", t("dash.receipts"), number(total.count)),
        figure("fig-period-refunds", t("dash.refunds"),
          `${money(total.refunds)} (${number(total.refund_count)})`),
        figure("fig-period-vat", t("dash.vat"), money(total.vat))),
      h("div", { class: "charts" },
        chartBox("chart-days", t(single ? "dash.per_hour" : "dash.per_day")),
        chartBox("chart-today", t("dash.today_per_hour")),
        chartBox("chart-methods", t("dash.per_method")),
        chartBox("chart-stations", t("dash.per_station")),
        chartBox("chart-vat", t("dash.per_vat")),
        chartBox("chart-products", t("dash.top_products"))),
      h("div", { class: "columns" },
        h("div", {}, h("h2", {}, t("dash.per_method")), table([
          { title: t("dash.method"), value: (g) => g.label },
          { title: t("dash.receipts"), num: true, value: (g) => number(g.count) },
          { title: t("dash.gross"), num: true, value: (g) => money(g.gross) },
        ], methods.groups)),
        h("div", {}, h("h2", {}, t("dash.per_vat")), table([
          { title: t("dash.vat_group"), value: (g) => g.label },
          { title: t("dash.gross"), num: true, value: (g) => money(g.gross) },
          { title: t("dash.net"), num: true, value: (g) => money(g.net) },
          { title: t("dash.vat"), num: true, value: (g) => money(g.vat) },
        ], vat.groups))),
      h("h2", {}, t("dash.top_products")),
      table([
        { title: t("dash.product"), value: (g) => g.label },
        { title: t("dash.quantity"), num: true, value: (g) => number(g.quantity, 3) },
        { title: t("dash.gross"), num: true, value: (g) => money(g.gross) },
      ], products.groups),
    );
    const timeline = single ? hours : days;
    const labelOf = single ? (g) => hourLabel(g.key) : (g) => date(g.key);
    charts.push(
      draw(body.querySelector("#chart-days"), "bar", timeline.groups.map(labelOf), [
        { label: t("dash.gross"), data: timeline.groups.map((g) => amount(g.gross)), backgroundColor: COLOURS[0] },
        { label: t("dash.refunds"), data: timeline.groups.map((g) => amount(g.refunds)), backgroundColor: COLOURS[3] },
      ]),
      draw(body.querySelector("#chart-today"), "bar", todayHours.groups.map((g) => hourLabel(g.key)), [
        { label: t("dash.gross"), data: todayHours.groups.map((g) => amount(g.gross)), backgroundColor: COLOURS[1] },
      ]),
      draw(body.querySelector("#chart-methods"), "doughnut", methods.groups.map((g) => g.label), [
        { data: methods.groups.map((g) => amount(g.gross)), backgroundColor: COLOURS },
      ]),
      draw(body.querySelector("#chart-stations"), "bar", stations.groups.map((g) => g.label), [
        { label: t("dash.gross"), data: stations.groups.map((g) => amount(g.gross)), backgroundColor: COLOURS[4] },
      ]),
      draw(body.querySelector("#chart-vat"), "bar", vat.groups.map((g) => g.label), [
        { label: t("dash.net"), data: vat.groups.map((g) => amount(g.net)), backgroundColor: COLOURS[0] },
        { label: t("dash.vat"), data: vat.groups.map((g) => amount(g.vat)), backgroundColor: COLOURS[2] },
      ], { scales: { x: { stacked: true }, y: { stacked: true } } }),
      draw(body.querySelector("#chart-products"), "bar", products.groups.map((g) => g.label), [
        { label: t("dash.gross"), data: products.groups.map((g) => amount(g.gross)), backgroundColor: COLOURS[5] },
      ], { indexAxis: "y" }),
    );
    body.dataset.loaded = "true";
  }
  periodSelect.addEventListener("change", refresh);
  fromInput.addEventListener("change", refresh);
  toInput.addEventListener("change", refresh);
  csvGroup.addEventListener("change", () => {
    const url = new URL(csvLink.href, location.href);
    url.searchParams.set("group_by", csvGroup.value);
    csvLink.href = url.pathname + url.search;
  });
  await refresh();
}
