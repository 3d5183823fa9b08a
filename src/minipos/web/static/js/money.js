// Money and quantities as exact decimals: BigInt counts of cents (2 places) or of
// thousandths (3 places). Floats would make 0.1 + 0.2 = 0.30000000000000004 at the till.
// The server prices every sale itself; the totals here are the preview the cashier sees
// while editing weights and prices, worked out by the same rules (docs/decisions.md §3).

const TEN = 10n;

// "5", "5.5", "5,50" (a Latvian keyboard types a comma), 3 (a JSON number) → BigInt units.
// Null when it is not a plain number or has more places than allowed.
export function parseDecimal(value, places) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim().replace(",", ".");
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (!match[2] && !match[3])) return null;
  const fraction = (match[3] || "").replace(/0+$/, "");
  if (fraction.length > places) return null;
  const units = BigInt(match[2] || "0") * TEN ** BigInt(places) +
    BigInt((fraction || "0").padEnd(places, "0"));
  return match[1] ? -units : units;
}

// 300n → "3.00"; format(1455n, 3) → "1.455".
export function format(units, places = 2) {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const fraction = places ? `.${digits.slice(-places)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

// An API money number (3, 6.55) → "3.00 €".
export const euro = (value) => `${format(parseDecimal(value, 2) ?? 0n)} €`;
export const euroUnits = (cents) => `${format(cents)} €`;

// A quantity for display: 2 → "2", 0.455 → "0.455".
export function quantityText(value) {
  const units = parseDecimal(value, 3);
  return units === null ? String(value) : format(units, 3).replace(/\.?0+$/, "");
}

// n / d rounded half away from zero (Python's ROUND_HALF_UP), both BigInt, d > 0.
function roundDiv(n, d) {
  const sign = n < 0n ? -1n : 1n;
  const m = n < 0n ? -n : n;
  return sign * ((m * 2n + d) / (2n * d));
}

// The discount a row or document has, in cents, off an exact gross given in 1e-5 € units.
function discountCents(gross5, discount, type) {
  if (type === "percent") {
    const percent = parseDecimal(discount, 2) ?? 0n; // hundredths of a percent
    return roundDiv(gross5 * percent, 10n ** 7n);
  }
  if (type === "amount") return parseDecimal(discount, 2) ?? 0n;
  return 0n;
}

// Prices an invoice with the cashier's edits ({rowId: {quantity, price}} as typed).
// Returns {amounts: [cents per row], documentDiscount, total} as BigInt cents; an edit that
// is not a valid number falls back to the invoice's own value.
export function priceInvoice(invoice, edits) {
  const amounts = invoice.rows.map((row) => {
    const edit = edits[row.id] || {};
    const quantity = (row.is_weight && parseDecimal(edit.quantity, 3)) ||
      parseDecimal(row.quantity, 3);
    const priceEdit = row.is_free_price ? parseDecimal(edit.price, 2) : null;
    const price = priceEdit ?? parseDecimal(row.price, 2);
    const gross5 = quantity * price; // thousandths × cents = 1e-5 €
    const off = discountCents(gross5, row.discount, row.discount_type);
    return roundDiv(gross5 - off * 1000n, 1000n);
  });
  const base = amounts.reduce((a, b) => a + b, 0n);
  const documentDiscount = discountCents(base * 1000n, invoice.discount, invoice.discount_type);
  return { amounts, documentDiscount, total: base - documentDiscount };
}

// "−10 %" or "−1.50 €" for a row's or invoice's own discount; "" when there is none.
export function discountText(discount, type) {
  const units = parseDecimal(discount, 2);
  if (!type || !units) return "";
  return type === "percent" ? `−${format(units).replace(/\.?0+$/, "")} %` : `−${euroUnits(units)}`;
}
