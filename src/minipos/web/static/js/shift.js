// The shift bar: open shift, X-report, close shift. Closing first shows the X-report as a
// preview with a "Close shift now" button, so the cashier sees the totals before the Z-report
// is final (a Z-report cannot be undone).

import { call } from "./api.js";
import { $, notice, setText, showView } from "./dom.js";
import { renderReport } from "./report.js";

let env = null; // {stationId, cashier, back(), onUnauthorized(message)}
let station = null; // the last GET /api/stations/{id}

export function configureShift(options) {
  env = options;
  $("shift-open").onclick = () => guarded(openShift);
  $("shift-x").onclick = () => guarded(() => showX(false));
  $("shift-close").onclick = () => guarded(() => showX(true));
  $("report-confirm").onclick = () => guarded(closeShift, "report-error");
  $("report-back").onclick = () => env.back();
  $("report-print").onclick = () => window.print();
}

export const shiftIsOpen = () => Boolean(station?.open_shift);
export const stationName = () => station?.name || "";

export async function refreshShift() {
  station = await call("GET", `/api/stations/${env.stationId}`);
  setText("bar-station", `${station.name} · POS ${station.pos_id}`);
  const open = Boolean(station.open_shift);
  setText("shift-status", open ? `Shift ${station.z_number} open` : "No open shift");
  $("shift-status").className = `status ${open ? "open" : "closed"}`;
  $("shift-open").hidden = open;
  $("shift-x").hidden = !open;
  $("shift-close").hidden = !open;
  return station;
}

// Runs a shift action with its error shown next to the bar (or the report's buttons).
async function guarded(action, errorId = "shift-error") {
  setText("shift-error", "");
  setText("report-error", "");
  try {
    await action();
  } catch (error) {
    if (error.status === 401) env.onUnauthorized(error.message);
    else setText(errorId, error.message);
  }
}

async function openShift() {
  const shift = await call("POST", `/api/stations/${env.stationId}/shift/open`,
    env.cashier ? { cashier_name: env.cashier } : {});
  await refreshShift();
  notice(`Shift ${shift.z_number} is open.`);
}

async function showX(forClosing) {
  const shift = await call("GET", `/api/stations/${env.stationId}/shift/x-report`);
  renderReport(shift, "X");
  $("report-confirm").hidden = !forClosing;
  showView("report-view");
  (forClosing ? $("report-confirm") : $("report-back")).focus();
}

async function closeShift() {
  const z = await call("POST", `/api/stations/${env.stationId}/shift/close`,
    env.cashier ? { cashier_name: env.cashier } : {});
  renderReport(z, "Z");
  notice(`Shift ${z.z_number} closed.`);
  $("report-confirm").hidden = true;
  $("report-back").focus();
  await refreshShift();
}
