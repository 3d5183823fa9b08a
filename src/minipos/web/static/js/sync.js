// The link to the chain's centre, for a till at a store (MINIPOS_MODE=store): while the
// store's server has had no contact with the centre for 15 s, a banner says so and how many
// sales and changes wait to be sent. Selling goes on: the store is the fiscal authority and
// sends everything when the link is back. A standalone server answers {"mode": "standalone"}
// and the banner never shows (nor is it asked again).

import { call } from "./api.js";
import { $ } from "./dom.js";

const POLL_MS = 5000;

export function startSyncBanner() {
  let timer = 0;
  let stopped = false;
  const banner = $("sync-banner");

  async function poll() {
    if (stopped) return;
    try {
      const status = await call("GET", "/api/sync/status");
      if (status.mode !== "store") {
        banner.hidden = true;
        return; // nothing to sync in this mode: stop asking
      }
      show(banner, status);
    } catch {
      // The till cannot reach its own server: the feed already says so. Keep what we show.
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
    banner.hidden = true;
  };
}

function show(banner, status) {
  if (!status.offline) {
    banner.hidden = true;
    return;
  }
  const waiting = status.waiting || 0;
  banner.textContent = `offline — ${waiting} not yet sent`;
  banner.title = status.last_error ? `Centre not reachable: ${status.last_error}` : "";
  banner.hidden = false;
}
