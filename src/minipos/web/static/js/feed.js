// The live invoice feed: GET /api/stations/{id}/feed in a loop.
// The server's long-poll (?wait=25) answers as soon as the list is not empty, so it is used
// while we show nothing: a new invoice then appears at once. While we show invoices we ask
// with wait=0 every 0.7 s instead, because a long-poll would sit on an emptied list for 25 s
// and an invoice taken by another station would linger on screen that long.

import { call } from "./api.js";
import { $, h, setText } from "./dom.js";
import { euro } from "./money.js";

const WAIT_SECONDS = 25;
const PAUSE_WHEN_LISTED_MS = 700; // new or vanished invoices show within a second
const RETRY_MS = 2000;

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

// Runs until stop() is called. onItems(items, startedAt) gets every answer with the time
// its request was sent, so the caller can ignore answers older than its own last action.
export function startFeed(stationId, { onItems, onTrouble }) {
  const stop = new AbortController();
  (async () => {
    let listed = false;
    while (!stop.signal.aborted) {
      const startedAt = performance.now();
      try {
        const wait = listed ? 0 : WAIT_SECONDS;
        const items = await call(
          "GET", `/api/stations/${stationId}/feed?wait=${wait}`, undefined,
          { signal: stop.signal, timeoutMs: (wait + 10) * 1000 },
        );
        setText("feed-state", "");
        onItems(items, startedAt);
        listed = items.length > 0;
        if (listed) await sleep(PAUSE_WHEN_LISTED_MS, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) break;
        setText("feed-state", "· offline, retrying");
        if (onTrouble(error) === "stop") break;
        await sleep(RETRY_MS, stop.signal);
      }
    }
  })();
  return () => stop.abort();
}

const MODES = { 1: "Sale", 2: "Refund", 3: "Slip" };
export const modeName = (mode) => MODES[mode] || `Mode ${mode}`;

// Draws the list: one big button per invoice. `currentId` is the one open on screen.
// Redrawn only when something shown changed: the feed answers every second or so, and a
// button replaced under the cashier's finger would swallow the tap.
let drawn = "";
export function renderFeed(items, { stationId, currentId, onOpen }) {
  const shown = JSON.stringify([currentId, items.map((i) =>
    [i.id, i.invoice_no, i.status, i.station, i.total_sum, i.is_auto_open, i.rows.length])]);
  if (shown === drawn) return;
  drawn = shown;
  $("feed-empty").hidden = items.length > 0;
  $("feed-list").replaceChildren(...items.map((invoice) => {
    const heldHere = invoice.status === 20 && invoice.station === stationId;
    const rows = invoice.rows.length;
    return h("li", {},
      h("button", {
        type: "button",
        class: `feed-item${invoice.id === currentId ? " current" : ""}`,
        dataset: { invoiceId: invoice.id, invoiceNo: invoice.invoice_no },
        onclick: () => onOpen(invoice),
      },
      h("span", { class: "feed-no" }, invoice.invoice_no),
      h("span", { class: "feed-sum" }, invoice.mode === 3 ? "" : euro(invoice.total_sum)),
      h("span", { class: "feed-meta" },
        h("span", { class: `badge mode-${invoice.mode}` }, modeName(invoice.mode)),
        invoice.mode === 3 ? null : h("span", {}, `${rows} ${rows === 1 ? "row" : "rows"}`),
        invoice.is_auto_open ? h("span", { class: "badge auto" }, "auto") : null,
        heldHere ? h("span", { class: "badge here" }, "open here") : null)));
  }));
}
