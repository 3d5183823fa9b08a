// The cashier screen's conductor: logs in, starts the feed, and decides what opens when.
// Screens live in their own modules (login, shift, feed, sale, receipt, report, and the
// modes walk-in, refund and printer); this one wires them together and holds the rules of
// the issue:
//   - an invoice this station holds (status 20) reopens by itself: a reload resumes the sale;
//   - is_auto_open invoices open by themselves when the station is idle;
//   - an is_auto_open non-fiscal slip (mode 3) is completed at once, even mid-sale.

import { call, useLogin } from "./api.js";
import { $, currentView, notice, setText, showView } from "./dom.js";
import { renderFeed, startFeed } from "./feed.js";
import { runLogin } from "./login.js";
import { startCatalogue, stopCatalogue } from "./catalogue.js";
import { resendPending } from "./checkout.js";
import { employeeAtStation, runPinSignIn, signOutEmployee } from "./employee.js";
import { configurePrinter, showPrinter } from "./printer.js";
import { configureReceipt, renderReceipt, renderSaleReceipt } from "./receipt.js";
import { configureRefund, showRefund } from "./refund.js";
import { configureSale, currentInvoice, dropSale, lostMessage, openSale } from "./sale.js";
import { configureShift, refreshShift, shiftIsOpen } from "./shift.js";
import { startSyncBanner } from "./sync.js";
import { configureWalkin, showWalkin } from "./walkin.js";
import { forgetAll, loadLogin, loadSale, saveLogin, saveSale, uuid4 } from "./store.js";

// The API's defaults (decisions §2), for a server without GET /api/payment-methods.
const DEFAULT_METHODS = [
  { id: 1, code: 0, name: "Skaidrā nauda", is_cash: true },
  { id: 2, code: 1, name: "Karte", is_cash: false },
  { id: 3, code: 2, name: "Pārskaitījums", is_cash: false },
];

const app = {
  login: null,
  stopFeed: null,
  stopSync: null,
  items: [], // the feed's last answer, less what we learnt is gone since
  lastAction: 0, // performance.now() of our last claim/complete/release: older answers are stale
  claiming: false,
  declined: new Set(), // auto-open invoices not to open again (released, or failed to open)
  slips: new Set(), // auto-open slips being printed now, or that failed (left to the cashier)
  afterReceipt: "idle-view", // where "Next customer" goes: back to the mode the sale came from
};

async function start() {
  bindOnce();
  await enter(loadLogin() || (await runLogin()));
}

async function enter(login) {
  saveLogin(login);
  useLogin(login);
  login = await withEmployee(login);
  if (!login) return;
  saveLogin(login);
  app.login = login;
  $("login-screen").hidden = true;
  $("pos-screen").hidden = false;
  setText("bar-cashier", login.cashier ? `Cashier: ${login.cashier}` : "");
  const env = { stationId: login.stationId, cashier: login.cashier, onUnauthorized: relogin };
  const methods = await paymentMethods();
  configureSale({ ...env, methods, onClosed });
  configureShift({ ...env, back });
  configureWalkin({ ...env, methods, onReceipt: (r) => showSaleReceipt(r, "walkin-view") });
  configureRefund({ ...env, methods, onReceipt: (r) => showSaleReceipt(r, "idle-view") });
  configurePrinter(env);
  configureReceipt(env);
  showView("idle-view");
  try {
    await refreshShift();
  } catch (error) {
    // 403/404: the stored station is gone or no longer this key's: choose again.
    if ([401, 403, 404].includes(error.status)) return relogin(error.message);
    setText("shift-error", error.message);
  }
  await finishPendingComplete();
  await finishPendingCheckout(login.stationId);
  // The walk-in sale's catalogue loads in the background; a scan before it is there is
  // looked up on the server instead (walkin.js).
  startCatalogue().catch((error) => {
    if (error.status === 401) relogin(error.message);
  });
  app.stopFeed = startFeed(login.stationId, { onItems, onTrouble });
  app.stopSync?.();
  app.stopSync = startSyncBanner();
  $("scan-input").focus();
}

// With employees in the shop, the screen works in the name of the employee signed in at the
// station (asking for a PIN when nobody is); without, as before: the name typed at login.
async function withEmployee(login) {
  let here;
  try {
    here = await employeeAtStation(login.stationId);
  } catch (error) {
    if ([401, 403, 404].includes(error.status)) {
      await relogin(error.message);
      return null;
    }
    here = { employees_configured: false, employee: null }; // offline: as before
  }
  $("employee-signout").hidden = !here.employees_configured;
  if (!here.employees_configured) return login;
  const employee = here.employee || (await runPinSignIn(login.stationId));
  return { ...login, cashier: employee.name };
}

// Another cashier takes over the till: the employee signs out, the PIN screen comes back.
async function changeCashier() {
  await signOutEmployee(app.login.stationId).catch(() => {});
  location.reload();
}

async function paymentMethods() {
  try {
    const methods = await call("GET", "/api/payment-methods");
    return methods.length ? methods : DEFAULT_METHODS;
  } catch {
    return DEFAULT_METHODS; // an older server without the endpoint: the documented defaults
  }
}

// A Complete that got no answer before the page went away: send the very same request
// again (same request_id), so a sale that did go through is shown, not taken twice.
async function finishPendingComplete() {
  const saved = loadSale();
  if (!saved?.pending) return;
  try {
    const done = await call("POST", `/api/invoice/${saved.invoiceId}/complete`, saved.pending.body);
    saveSale(null);
    app.lastAction = performance.now();
    showDone(done);
  } catch (error) {
    if (error.status === 0) return; // still offline: the sale screen offers the retry
    saveSale({ ...saved, pending: null }); // answered: that attempt is over
  }
}

// The same for a walk-in sale or refund (checkout.js keeps the attempt).
async function finishPendingCheckout(stationId) {
  const result = await resendPending(stationId);
  if (!result) return;
  if (result.receipt) {
    showSaleReceipt(result.receipt, result.kind === "walkin" ? "walkin-view" : "idle-view");
  } else {
    notice(`The last ${result.kind === "walkin" ? "sale" : "refund"} was refused: ` +
      `${result.error.message}`, "error");
  }
}

// --- the feed -----------------------------------------------------------------------------

function onItems(items, startedAt) {
  if (startedAt < app.lastAction) return; // asked before our own last change: out of date
  app.items = items;
  drawFeed();
  autoActions();
}

function onTrouble(error) {
  if (error.status === 401) {
    relogin(error.message);
    return "stop";
  }
  return "retry"; // feed.js shows "offline" and asks again shortly
}

function drawFeed() {
  setText("idle-title", app.items.length ? "Choose an invoice on the left." : "Waiting for invoices…");
  renderFeed(app.items, {
    stationId: app.login.stationId,
    currentId: currentInvoice()?.id,
    onOpen: (invoice) => openInvoice(invoice),
  });
}

function autoActions() {
  const stationId = app.login.stationId;
  const heldHere = (i) => i.status === 20 && i.station === stationId;
  for (const invoice of app.items) {
    if (invoice.mode === 3 && invoice.is_auto_open && !app.slips.has(invoice.id) &&
        (invoice.status === 10 || heldHere(invoice))) {
      printSlip(invoice);
    }
  }
  if (app.claiming || currentInvoice()) return;
  const held = app.items.find((i) => heldHere(i) && !app.slips.has(i.id));
  if (held && currentView() !== "report-view") {
    openInvoice(held); // ours already: a reload or a crash mid-sale; claiming renews it
    return;
  }
  if (currentView() !== "idle-view" || !shiftIsOpen()) return;
  const auto = app.items.find((i) => i.is_auto_open && i.status === 10 && i.mode !== 3 &&
    !app.declined.has(i.id));
  if (auto) {
    app.declined.add(auto.id); // one try: if it fails or is released, it waits for a click
    openInvoice(auto);
  }
}

// Claims an invoice and shows it. A 409 means another station was quicker.
async function openInvoice(invoice) {
  const open = currentInvoice();
  if (open) {
    if (open.id === invoice.id) showView("sale-view");
    else setText("feed-error", "Finish or release the open invoice first.");
    return;
  }
  if (app.claiming) return;
  app.claiming = true;
  setText("feed-error", "");
  try {
    const claimed = await call("POST", `/api/invoice/${invoice.id}/claim`);
    app.lastAction = performance.now();
    openSale(claimed, loadSale());
    drawFeed();
  } catch (error) {
    app.lastAction = performance.now();
    if (error.status === 401) return relogin(error.message);
    if (error.status === 409 || error.status === 404) {
      forget(invoice.id);
      setText("feed-error", `${invoice.invoice_no}: ${error.status === 404
        ? "no longer available." : lostMessage(error)}`);
    } else setText("feed-error", error.message);
  } finally {
    app.claiming = false;
  }
}

// Non-fiscal slips that ask to open by themselves print at once: claim, complete, done.
async function printSlip(invoice) {
  app.slips.add(invoice.id);
  try {
    if (invoice.status === 10) await call("POST", `/api/invoice/${invoice.id}/claim`);
    await call("POST", `/api/invoice/${invoice.id}/complete`, { request_id: uuid4() });
    app.slips.delete(invoice.id);
    forget(invoice.id);
    notice(`Slip ${invoice.invoice_no} sent to the printer.`);
  } catch (error) {
    // Left in the list (app.slips keeps it from looping): the cashier can open it by hand.
    if (error.status === 409) forget(invoice.id);
    setText("feed-error", `Slip ${invoice.invoice_no}: ${lostMessage(error)}`);
  } finally {
    app.lastAction = performance.now();
  }
}

function forget(invoiceId) {
  app.items = app.items.filter((i) => i.id !== invoiceId);
  drawFeed();
}

// --- after a sale ---------------------------------------------------------------------------

function onClosed(result) {
  app.lastAction = performance.now();
  const { invoice } = result;
  if (result.kind === "done") showDone(invoice);
  else {
    showView("idle-view");
    if (result.kind === "released") {
      app.declined.add(invoice.id); // given back on purpose: do not auto-open it again
      notice(`Invoice ${invoice.invoice_no} released.`);
    } else if (result.kind === "cancelled") {
      notice(`Invoice ${invoice.invoice_no} cancelled.`);
    } else {
      setText("feed-error", result.message);
      notice(result.message, "error");
    }
    $("scan-input").focus();
  }
  if (invoice) forget(invoice.id);
  drawFeed();
}

function showDone(invoice) {
  if (invoice.mode === 3) {
    notice(`Slip ${invoice.invoice_no} sent to the printer.`);
    showView("idle-view");
    return;
  }
  renderReceipt(invoice);
  app.afterReceipt = "idle-view";
  showView("receipt-view");
  $("receipt-next").focus();
}

function showSaleReceipt(receipt, afterwards) {
  renderSaleReceipt(receipt);
  app.afterReceipt = afterwards;
  showView("receipt-view");
  $("receipt-next").focus();
}

// The modes beside the feed. An open invoice comes first: it holds a claim on the server.
function switchMode(show) {
  if (currentInvoice()) {
    setText("feed-error", "Finish or release the open invoice first.");
    showView("sale-view");
    return;
  }
  setText("feed-error", "");
  show();
}

// Back from a receipt or a report: to the open sale if there is one, else idle (or, after
// a walk-in sale, a new walk-in sale).
function back() {
  const next = app.afterReceipt;
  app.afterReceipt = "idle-view";
  if (currentInvoice()) showView("sale-view");
  else if (next === "walkin-view" && currentView() === "receipt-view") showWalkin();
  else {
    showView("idle-view");
    $("scan-input").focus();
    autoActions();
  }
}

// --- session ----------------------------------------------------------------------------------

async function logout() {
  app.stopFeed?.();
  app.stopSync?.();
  app.stopSync = null;
  const open = currentInvoice();
  dropSale();
  if (open) {
    // Give the invoice back rather than leave it locked for the lease's two minutes.
    await call("POST", `/api/invoice/${open.id}/release`).catch(() => {});
  }
  forgetAll();
  location.reload();
}

// The key stopped working (revoked, or the server's keys changed): log in again. The sale
// form stays stored, so the sale comes back once a valid key is given.
async function relogin(message) {
  app.stopFeed?.();
  app.stopFeed = null;
  app.stopSync?.();
  app.stopSync = null;
  stopCatalogue();
  dropSale();
  saveLogin(null);
  await enter(await runLogin(message));
}

function bindOnce() {
  $("logout").onclick = logout;
  $("employee-signout").onclick = changeCashier;
  $("mode-walkin").onclick = () => switchMode(showWalkin);
  $("mode-refund").onclick = () => switchMode(showRefund);
  $("mode-printer").onclick = () => switchMode(showPrinter);
  $("receipt-next").onclick = back;
  $("receipt-print").onclick = () => window.print();
  $("scan-form").onsubmit = (event) => {
    event.preventDefault();
    const typed = $("scan-input").value.trim();
    $("scan-input").value = "";
    if (!typed) return;
    const found = app.items.find((i) => i.invoice_no === typed || String(i.id) === typed);
    if (found) openInvoice(found);
    else setText("feed-error", `No waiting invoice "${typed}".`);
  };
  // A barcode scanner "types" into whatever has focus. On the idle screen nothing does, so
  // the first key sends focus to the invoice-number field and the scan lands there.
  // In a walk-in sale the scan belongs in the product field instead.
  document.addEventListener("keydown", (event) => {
    const view = !$("pos-screen").hidden && currentView();
    if (event.target === document.body && event.key.length === 1 &&
        !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (view === "idle-view") $("scan-input").focus();
      if (view === "walkin-view") $("walkin-input").focus();
    }
  });
}

start();
