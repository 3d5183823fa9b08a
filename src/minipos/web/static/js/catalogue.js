// The catalogue, kept in memory for the walk-in sale: look-ups by barcode and code, and the
// name search the API does not have. It is loaded once through the station sync feed
// (docs/catalogue.md): GET /api/products?updated_since=0 following Link rel="next", then
// every 60 s GET /api/products?updated_since=<last revision> brings only what changed.

import { callPage } from "./api.js";

const REFRESH_MS = 60_000;

const products = new Map(); // id → product (live ones only; tombstones are removed)
let lastRevision = 0;
let loaded = false;
let timer = 0;
let running = null; // the sync in progress, so two never run at once

export const catalogueLoaded = () => loaded;

// Starts loading, and refreshing every minute. Resolves after the first load (or its error).
export function startCatalogue() {
  clearInterval(timer);
  timer = setInterval(() => sync().catch(() => {}), REFRESH_MS);
  return sync();
}

export function stopCatalogue() {
  clearInterval(timer);
  products.clear();
  lastRevision = 0;
  loaded = false;
}

export function sync() {
  running ??= (async () => {
    try {
      let path = `/api/products?updated_since=${lastRevision}`;
      while (path) {
        const page = await callPage(path, { timeoutMs: 60_000 });
        for (const product of page.items) {
          if (product.deleted) products.delete(product.id);
          else products.set(product.id, product);
          lastRevision = Math.max(lastRevision, product.revision);
        }
        path = page.next;
      }
      loaded = true;
    } finally {
      running = null;
    }
  })();
  return running;
}

// Status 0 (inactive) products are kept and sent to stations, but not offered for sale.
const forSale = (product) => product.status !== 0;

// {product, barcode} for a scanned barcode, or null.
export function byBarcode(text) {
  for (const product of products.values()) {
    const barcode = product.barcodes.find((b) => b.barcode === text);
    if (barcode && forSale(product)) return { product, barcode };
  }
  return null;
}

export function byCode(text) {
  if (!/^\d+$/.test(text)) return null;
  for (const product of products.values()) {
    if (product.code !== null && String(product.code) === String(Number(text)) && forSale(product)) {
      return product;
    }
  }
  return null;
}

// Case- and accent-insensitive: "rupjm" and "RUPJM" find "Rupjmaize", and so does
// "kimenes" find "ķimenēm" (a till keyboard may lack the Latvian letters). Every word typed
// must occur in the name. Names starting with the text come first.
const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

export function searchByName(text, limit = 8) {
  const words = fold(text).split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const found = [];
  for (const product of products.values()) {
    if (!forSale(product)) continue;
    const name = fold(product.name);
    if (words.every((w) => name.includes(w))) found.push({ product, starts: name.startsWith(words[0]) });
  }
  found.sort((a, b) => (b.starts - a.starts) || a.product.name.localeCompare(b.product.name));
  return found.slice(0, limit).map((f) => f.product);
}
