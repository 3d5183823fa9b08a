// Walk-in sales and refunds end here: POST /api/stations/{id}/receipts, made safe to retry.
// The request_id is made once per attempt and stored (minipos.checkout) until an answer of
// any kind arrives. Pressing the button again after a network error, or the page loading
// again, repeats the same attempt, and the server answers a repeat with the receipt it
// already made instead of taking the payment twice (stations.md, walk-in sales).

import { call } from "./api.js";
import { loadCheckout, saveCheckout, uuid4 } from "./store.js";

// kind: "walkin" or "refund" (only to say on screen what is being retried).
// Resolves with the receipt (the GET /api/receipts shape); rejects with the ApiError. A
// status 0 error (no answer) leaves the attempt stored for the retry.
export async function sendReceipt(stationId, kind, body) {
  const stored = loadCheckout();
  // Same station, same kind: this is the retry of the unanswered attempt, so same id.
  const again = stored && stored.stationId === stationId && stored.kind === kind;
  const requestId = again ? stored.requestId : uuid4();
  const sent = { ...body, request_id: requestId };
  saveCheckout({ stationId, kind, requestId, body: sent });
  try {
    const receipt = await call("POST", `/api/stations/${stationId}/receipts`, sent);
    saveCheckout(null);
    return receipt;
  } catch (error) {
    if (error.status !== 0) saveCheckout(null); // answered: the next attempt is a new one
    throw error;
  }
}

export function pendingCheckout(stationId) {
  const stored = loadCheckout();
  return stored && stored.stationId === stationId ? stored : null;
}

// On start: an attempt whose answer never came is sent again, exactly as it was. Resolves
// with {kind, receipt}, or null when there was none or it is still unanswered (offline).
// A refusal is returned as {kind, error} so the screen can say why.
export async function resendPending(stationId) {
  const stored = pendingCheckout(stationId);
  if (!stored) return null;
  try {
    const receipt = await call("POST", `/api/stations/${stationId}/receipts`, stored.body);
    saveCheckout(null);
    return { kind: stored.kind, receipt };
  } catch (error) {
    if (error.status === 0) return null;
    saveCheckout(null);
    return { kind: stored.kind, error };
  }
}
