// The back office talks to the server with its session cookie (HttpOnly: this script never
// sees it) and sends the session's CSRF token with every change (docs/office.md).
import { t } from "/i18n/i18n.js";

let csrf = null;
let onSignedOut = () => {};

export function useSession(session, signedOut) {
  csrf = session ? session.csrf_token : null;
  if (signedOut) onSignedOut = signedOut;
}

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function messageOf(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = Object.entries(body).map(([field, value]) =>
      `${field}: ${Array.isArray(value) ? value.join(" ") : JSON.stringify(value)}`);
    if (parts.length) return parts.join("; ");
  }
  if (status === 0) return t("error.network");
  return t("error.status", { status });
}

// {data, total, response}: JSON (or text with {text: true}); errors become ApiError.
// {contentType}: the body is sent as it is (a file's text), with that type, not as JSON.
export async function request(method, path, body, { text = false, contentType = null } = {}) {
  const headers = { Accept: text ? "text/plain" : "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf || "";
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    init.body = contentType ? body : JSON.stringify(body);
  }
  let response;
  let raw;
  try {
    response = await fetch(path, init);
    raw = await response.text();
  } catch {
    throw new ApiError(0, null, t("error.network"));
  }
  let data = null;
  if (!text && raw) {
    try {
      data = JSON.parse(raw);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const parsed = data ?? (() => { try { return JSON.parse(raw); } catch { return null; } })();
    if (response.status === 401 && path.startsWith("/api/")) onSignedOut();
    throw new ApiError(response.status, parsed, messageOf(response.status, parsed));
  }
  const total = Number(response.headers.get("X-Total-Count") ?? (Array.isArray(data) ? data.length : 0));
  return { data: text ? raw : data, total, response };
}

export const get = async (path) => (await request("GET", path)).data;
export const send = async (method, path, body) => (await request(method, path, body)).data;
export const getText = async (path) => (await request("GET", path, undefined, { text: true })).data;

// Every item of a list, following its pages (for the short lists: stations, taxes, methods).
export async function getAll(path, most = 5000) {
  const items = [];
  let offset = 0;
  for (;;) {
    const join = path.includes("?") ? "&" : "?";
    const page = await request("GET", `${path}${join}limit=1000&offset=${offset}`);
    items.push(...page.data);
    offset += page.data.length;
    if (!page.data.length || offset >= page.total || offset >= most) return items;
  }
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
