// The one way this UI talks to the server: the public API, with the logged-in key.
// Errors become ApiError with the server's words (DRF style: {"detail": "…"} or
// {"field": ["…"]}) and a plain sentence for the cases the server leaves terse.

let login = null;

export function useLogin(value) {
  login = value;
}

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status; // 0 = no answer (network down, server gone)
    this.body = body;
  }
}

// An admin key acts for the station it picked: /api/invoice/{id}/… calls name it with
// ?station_id= (see acting_station in auth/access.py). A station key needs nothing.
function withStation(path) {
  if (login?.role !== "admin" || !path.startsWith("/api/invoice/")) return path;
  return `${path}${path.includes("?") ? "&" : "?"}station_id=${login.stationId}`;
}

export async function call(method, path, body, options = {}) {
  return (await request(method, path, body, options)).data;
}

// A page of a list: the items, the next page's path (Link rel="next", made relative so it
// goes to the server this page came from) and X-Total-Count.
export async function callPage(path, options = {}) {
  const { data, response } = await request("GET", path, undefined, options);
  const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") || "");
  const next = link ? new URL(link[1], location.href) : null;
  const total = Number(response.headers.get("X-Total-Count") ?? data.length);
  return { items: data, next: next ? next.pathname + next.search : null, total };
}

// A text answer (the receipt's print preview), with the same errors as call().
export async function callText(path, options = {}) {
  return (await request("GET", path, undefined, { ...options, text: true })).text;
}

async function request(method, path, body, { signal, key, timeoutMs = 15000, text: asText } = {}) {
  const headers = { Authorization: `Token ${key || login.key}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // A dead connection can hang a fetch for minutes; give up and let the caller retry.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  init.signal = signal ? anySignal(signal, timeout.signal) : timeout.signal;
  let response;
  let text;
  try {
    response = await fetch(withStation(path), init);
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error; // the caller stopped it on purpose
    throw new ApiError(0, null, "No answer from the server. Check the network connection.");
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = text && !(asText && response.ok) ? JSON.parse(text) : null;
  } catch {
    data = null; // a proxy's HTML error page, say
  }
  if (!response.ok) throw new ApiError(response.status, data, plainMessage(response.status, data));
  return { data, text, response };
}

function anySignal(...signals) {
  const both = new AbortController();
  for (const s of signals) {
    if (s.aborted) both.abort();
    else s.addEventListener("abort", () => both.abort(), { once: true });
  }
  return both.signal;
}

function plainMessage(status, data) {
  if (status === 401) return "The key was not accepted (wrong or revoked). Log in again.";
  if (status === 503) return "The database is not reachable just now. Try again in a moment.";
  if (status >= 500) return `The server had a problem (error ${status}). Try again.`;
  const messages = fieldErrors(data).map((e) => e.message);
  if (messages.length) return messages.join(" ");
  if (status === 403) return "This key may not do that.";
  if (status === 404) return "Not found: it was removed, or this station may not see it.";
  return `The server refused this (error ${status}).`;
}

// Flattens a DRF error body into [{path: ["payments", 0, "amount"], message}].
// Lists of {} pad up to the failing item, so the index in the path is the item's index.
export function fieldErrors(data, path = []) {
  if (data === null || data === undefined) return [];
  if (typeof data === "string") return [{ path, message: data }];
  if (Array.isArray(data)) {
    return data.flatMap((item, index) =>
      typeof item === "string" ? [{ path, message: item }] : fieldErrors(item, [...path, index]));
  }
  if (typeof data === "object") {
    return Object.entries(data).flatMap(([name, value]) =>
      fieldErrors(value, name === "detail" || name === "non_field_errors" ? path : [...path, name]));
  }
  return [];
}
