// A chain's centre (MINIPOS_MODE=central): its stores and how their sync stands.
import { dateTime, number, t } from "/i18n/i18n.js";
import { getAll } from "./api.js";
import { h, table } from "./dom.js";

export async function render(main) {
  const stores = await getAll("/api/stores");
  main.append(
    h("h1", {}, t("nav.stores")),
    table([
      { title: t("stores.code"), value: (s) => s.code },
      { title: t("st.name"), value: (s) => s.name },
      { title: t("stores.last_contact"), value: (s) => (s.last_contact_at ? dateTime(s.last_contact_at) : t("stores.never")) },
      { title: t("stores.skew"), num: true, value: (s) => (s.last_skew_ms === null ? "" : `${number(s.last_skew_ms)} ms`) },
      { title: t("stores.received"), num: true, value: (s) => number(s.items_received) },
      { title: t("stores.conflicts"), num: true, value: (s) => number(s.conflicts_open) },
      { title: t("stores.flagged"), num: true, value: (s) => number(s.receipts_flagged) },
      { title: t("stores.unreconciled"), num: true, value: (s) => number(s.shifts_unreconciled) },
      { title: t("stores.error"), value: (s) => (s.last_error ? h("span", { class: "badge bad" }, s.last_error) : h("span", { class: "badge good" }, "OK")) },
    ], stores, { rowClass: (s) => `store-${s.code}` }),
  );
}
