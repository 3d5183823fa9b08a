// The payment lines of a walk-in sale or a refund: one line per payment, added with a button
// per method; an empty amount means "the rest" (amount null in the API). Paid, and change or
// what is still due, update as the cashier types. (The invoice screen, sale.js, has its own
// copy wired to the invoice's state; this one is shared by walk-in.js and refund.js.)

import { $, h } from "./dom.js";
import { euroUnits, format, parseDecimal } from "./money.js";

// prefix: the ids of the form's parts (`${prefix}-methods`, `-lines`, `-summary`, and
// `${prefix}-amount-${i}` / `${prefix}-err-pay-${i}` per line).
// state.lines: [{methodId, amount}] (kept by the caller, stored on every change).
export function paymentForm({ prefix, methods, state, total, onChange }) {
  const methodName = (id) => methods.find((m) => m.id === id)?.name || `Method ${id}`;

  function render() {
    $(`${prefix}-methods`).replaceChildren(...methods.map((m) => h("button", {
      type: "button",
      class: "method",
      dataset: { methodId: m.id },
      onclick: () => {
        state.lines.push({ methodId: m.id, amount: "" });
        onChange();
        render();
        $(`${prefix}-amount-${state.lines.length - 1}`).focus();
      },
    }, `+ ${m.name}`)));
    $(`${prefix}-lines`).replaceChildren(...state.lines.map((line, index) =>
      h("li", { dataset: { methodId: line.methodId } },
        h("label", { for: `${prefix}-amount-${index}` }, methodName(line.methodId)),
        h("input", {
          id: `${prefix}-amount-${index}`,
          class: "amount",
          type: "text",
          inputmode: "decimal",
          value: line.amount,
          onfocus: (e) => e.target.select(),
          oninput: (e) => {
            line.amount = e.target.value;
            onChange();
            summary();
          },
        }),
        h("button", {
          type: "button",
          class: "remove",
          "aria-label": "Remove this payment",
          onclick: () => {
            state.lines.splice(index, 1);
            onChange();
            render();
          },
        }, "×"),
        h("div", { class: "field-error", id: `${prefix}-err-pay-${index}` }))));
    summary();
  }

  function summary() {
    const due = total();
    let fixed = 0n;
    let restIndex = -1;
    state.lines.forEach((line, index) => {
      if (line.amount.trim() === "") {
        if (restIndex < 0) restIndex = index;
      } else fixed += parseDecimal(line.amount, 2) ?? 0n;
    });
    const rest = due > fixed ? due - fixed : 0n;
    state.lines.forEach((_, index) => {
      const input = $(`${prefix}-amount-${index}`);
      if (input) input.placeholder = index === restIndex ? `${format(rest)} (rest)` : "";
    });
    const paid = fixed + (restIndex >= 0 ? rest : 0n);
    const items = [["Paid", euroUnits(paid), `${prefix}-paid`]];
    if (paid < due) items.push(["Still due", euroUnits(due - paid), `${prefix}-due`]);
    else items.push(["Change", euroUnits(paid - due), `${prefix}-change`]);
    $(`${prefix}-summary`).replaceChildren(...items.flatMap(([label, value, id]) =>
      [h("dt", {}, label), h("dd", { id }, value)]));
  }

  // The API's payments, or null with the faulty amounts marked.
  function payments() {
    let ok = true;
    const list = state.lines.map((line, index) => {
      if (line.amount.trim() === "") return { method_id: line.methodId, amount: null };
      const units = parseDecimal(line.amount, 2);
      if (units === null || units < 0n) {
        $(`${prefix}-err-pay-${index}`).textContent = "Enter an amount like 5 or 5.50";
        ok = false;
        return null;
      }
      return { method_id: line.methodId, amount: format(units) };
    });
    return ok ? list : null;
  }

  return { render, summary, payments };
}

// The first payment line a new sale starts with: cash for the rest, so Enter takes exact cash.
export function cashLine(methods) {
  const cash = methods.find((m) => m.is_cash) || methods[0];
  return { methodId: cash.id, amount: "" };
}
