// What survives a reload, in localStorage (docs/cashier-ui.md explains each key):
//   minipos.login  who is logged in: {key, role, stationId, cashier}
//   minipos.sale   the sale in progress: {invoiceId, payments, edits, pending}
//   minipos.walkin the walk-in sale being rung up: {rows, lines}
//   minipos.checkout a walk-in sale or refund sent but not answered: {kind, requestId, body}
// Only the sale's *form* lives here; the claim itself lives on the server, and the feed
// hands it back after a reload.

const LOGIN = "minipos.login";
const SALE = "minipos.sale";
const WALKIN = "minipos.walkin";
const CHECKOUT = "minipos.checkout";

function read(name) {
  try {
    return JSON.parse(localStorage.getItem(name) || "null");
  } catch {
    return null; // a damaged entry is as good as none
  }
}

function write(name, value) {
  if (value === null) localStorage.removeItem(name);
  else localStorage.setItem(name, JSON.stringify(value));
}

export const loadLogin = () => read(LOGIN);
export const saveLogin = (login) => write(LOGIN, login);

export const loadSale = () => read(SALE);
export const saveSale = (sale) => write(SALE, sale);

export const loadWalkin = () => read(WALKIN);
export const saveWalkin = (walkin) => write(WALKIN, walkin);

export const loadCheckout = () => read(CHECKOUT);
export const saveCheckout = (checkout) => write(CHECKOUT, checkout);

// Logging out forgets the key and any half-entered sale. A checkout still waiting for its
// answer is kept: it may have gone through, and the next login must find out.
export function forgetAll() {
  write(LOGIN, null);
  write(SALE, null);
  write(WALKIN, null);
}

// A random UUID v4 for complete's request_id. crypto.randomUUID exists only in secure
// contexts (https or localhost), and a till on the shop LAN is often plain http.
export function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-` +
    `${hex.slice(16, 20)}-${hex.slice(20)}`;
}
