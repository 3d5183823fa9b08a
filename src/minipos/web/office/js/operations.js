// Operations: print jobs (retry), e-receipts (retry), webhooks and their deliveries (retry),
// and the API keys (list, create — shown once —, revoke). Keys, webhooks and e-receipt
// retries are the admin's; a manager sees print jobs and e-receipts and retries print jobs.
import { dateTime, t } from "/i18n/i18n.js";
import { get, query, request, send } from "./api.js";
import { field, h, showError, table } from "./dom.js";

const SHOWN = 30;

// The newest SHOWN items of a list (the API lists oldest first), newest on top.
async function newest(path, params = {}) {
  const first = await request("GET", `${path}${query({ ...params, limit: 1 })}`);
  const offset = Math.max(0, first.total - SHOWN);
  const items = await get(`${path}${query({ ...params, limit: SHOWN, offset })}`);
  return items.reverse();
}

function action(label, id, run, after) {
  return h("button", { type: "button", id, onclick: async () => {
    showError(null);
    try {
      await run();
      await after();
    } catch (error) {
      showError(error);
    }
  } }, label);
}

export async function render(main, { session }) {
  const admin = session.role === "admin";
  const sections = {
    jobs: h("section", { id: "ops-jobs" }),
    messages: h("section", { id: "ops-messages" }),
    webhooks: h("section", { id: "ops-webhooks" }),
    keys: h("section", { id: "ops-keys" }),
    users: h("section", { id: "ops-users" }),
  };
  main.append(h("h1", {}, t("nav.operations")), ...Object.values(sections));

  async function jobs() {
    const items = await newest("/api/print-jobs");
    sections.jobs.replaceChildren(h("h2", {}, t("ops.jobs")), table([
      { title: "ID", value: (j) => j.id },
      { title: t("sh.station"), value: (j) => j.station_id },
      { title: t("rc.kind"), value: (j) => `${j.kind}${j.is_copy ? " (copy)" : ""}` },
      { title: t("st.status"), value: (j) => h("span", { class: `badge ${j.status === "failed" ? "bad" : j.status === "printed" ? "good" : ""}` }, j.status) },
      { title: t("ops.attempts"), num: true, value: (j) => j.attempts },
      { title: t("st.created"), value: (j) => dateTime(j.created_at) },
      { title: t("ops.error"), value: (j) => j.last_error ?? "" },
      { title: "", value: (j) => (j.status === "printed" ? "" : action(t("ops.retry"), `job-retry-${j.id}`,
        () => send("POST", `/api/print-jobs/${j.id}/retry`), jobs)) },
    ], items));
  }

  async function messages() {
    const items = await newest("/api/messages");
    sections.messages.replaceChildren(h("h2", {}, t("ops.messages")), table([
      { title: "ID", value: (m) => m.id },
      { title: t("ops.channel"), value: (m) => m.channel },
      { title: t("ops.recipient"), value: (m) => m.recipient },
      { title: t("rc.number"), value: (m) => h("a", { href: `#/receipts/${m.receipt_id}` }, String(m.receipt_id)) },
      { title: t("st.status"), value: (m) => m.status },
      { title: t("ops.attempts"), num: true, value: (m) => m.attempts },
      { title: t("ops.error"), value: (m) => m.last_error ?? "" },
      { title: "", value: (m) => (!admin || m.status === "sent" ? "" : action(t("ops.retry"), `message-retry-${m.id}`,
        () => send("POST", `/api/messages/${m.id}/retry`), messages)) },
    ], items));
  }

  async function webhooks() {
    const hooks = await get("/api/webhooks");
    const parts = [h("h2", {}, t("ops.webhooks"))];
    if (!hooks.length) parts.push(h("p", { class: "note" }, t("ops.no_webhooks")));
    for (const hook of hooks) {
      const deliveries = await newest(`/api/webhooks/${hook.id}/deliveries`);
      parts.push(h("h2", {}, `${hook.url} ${hook.active ? "" : `(${t("st.disabled")})`}`), table([
        { title: "ID", value: (d) => d.id },
        { title: t("ops.event"), value: (d) => `${d.event_type} #${d.event_id}` },
        { title: t("st.status"), value: (d) => h("span", { class: `badge ${d.status === "failed" ? "bad" : d.status === "delivered" ? "good" : ""}` }, d.status) },
        { title: t("ops.attempts"), num: true, value: (d) => d.attempts },
        { title: t("ops.error"), value: (d) => d.last_error ?? (d.last_status_code ? `HTTP ${d.last_status_code}` : "") },
        { title: "", value: (d) => (d.status === "delivered" ? "" : action(t("ops.retry"), `delivery-retry-${d.id}`,
          () => send("POST", `/api/webhooks/${hook.id}/deliveries/${d.id}/retry`), webhooks)) },
      ], deliveries));
    }
    sections.webhooks.replaceChildren(...parts);
  }

  async function keys() {
    const items = await newest("/api/keys", { revoked: "false" });
    const role = h("select", { id: "key-role" }, ["integrator", "admin"].map((r) => new Option(r, r)));
    const name = h("input", { id: "key-name", maxlength: "100", required: true });
    const out = h("div", { id: "key-out" });
    const form = h("form", { class: "form card", id: "key-create", onsubmit: async (event) => {
      event.preventDefault();
      showError(null);
      try {
        const made = await send("POST", "/api/keys", { role: role.value, name: name.value.trim() });
        await keys();
        sections.keys.querySelector("#key-out").replaceChildren(h("div", { class: "card" },
          h("p", { class: "note" }, t("ops.key_once")), h("p", { class: "secret", id: "new-key" }, made.key)));
      } catch (error) {
        showError(error);
      }
    } }, h("h2", { class: "wide" }, t("ops.new_key")), field(t("ops.role"), role), field(t("st.name"), name),
    h("div", { class: "wide" }, h("button", { type: "submit", class: "primary" }, t("ops.create"))));
    sections.keys.replaceChildren(h("h2", {}, t("ops.keys")), table([
      { title: t("st.key_id"), value: (k) => k.key_id },
      { title: t("ops.role"), value: (k) => k.role },
      { title: t("st.name"), value: (k) => k.name ?? "" },
      { title: t("sh.station"), value: (k) => k.station_id ?? "" },
      { title: t("st.created"), value: (k) => dateTime(k.created_at) },
      { title: "", value: (k) => h("button", { type: "button", class: "danger", id: `key-revoke-${k.id}`, onclick: async () => {
        if (!confirm(t("st.revoke_confirm"))) return;
        try {
          await send("DELETE", `/api/keys/${k.id}`);
          await keys();
        } catch (error) {
          showError(error);
        }
      } }, t("st.revoke")) },
    ], items, { rowClass: (k) => `key-${k.id}` }), form, out);
  }

  async function users() {
    const items = await get("/office/users");
    const change = async (user, body) => {
      showError(null);
      try {
        await send("PATCH", `/office/users/${user.id}`, body);
        await users();
      } catch (error) {
        showError(error);
      }
    };
    const name = h("input", { id: "user-name", maxlength: "64", required: true, autocomplete: "off" });
    const role = h("select", { id: "user-role" }, ["manager", "admin"].map((r) => new Option(t(`role.${r}`), r)));
    const password = h("input", { id: "user-password", type: "password", minlength: "8", required: true, autocomplete: "new-password" });
    sections.users.replaceChildren(h("h2", {}, t("ops.users")), table([
      { title: t("login.name"), value: (u) => u.name },
      { title: t("ops.role"), value: (u) => {
        const select = h("select", { id: `user-${u.id}-role` }, ["manager", "admin"].map((r) => new Option(t(`role.${r}`), r)));
        select.value = u.role;
        select.addEventListener("change", () => change(u, { role: select.value }));
        return select;
      } },
      { title: t("st.status"), value: (u) => h("span", { class: `badge ${u.disabled ? "bad" : "good"}` }, u.disabled ? t("st.disabled") : t("st.active")) },
      { title: "", value: (u) => h("span", {},
        h("button", { type: "button", id: `user-${u.id}-password`, onclick: () => {
          const value = prompt(t("ops.new_password", { name: u.name }));
          if (value) change(u, { password: value });
        } }, t("ops.set_password")), " ",
        h("button", { type: "button", class: u.disabled ? "" : "danger", id: `user-${u.id}-toggle`,
          onclick: () => change(u, { disabled: !u.disabled }) }, u.disabled ? t("st.enable") : t("st.disable"))) },
    ], items, { rowClass: (u) => `user-${u.name}` }),
    h("form", { class: "form card", id: "user-form", onsubmit: async (event) => {
      event.preventDefault();
      showError(null);
      try {
        await send("POST", "/office/users", { name: name.value.trim(), role: role.value, password: password.value });
        await users();
      } catch (error) {
        showError(error);
      }
    } }, h("h2", { class: "wide" }, t("ops.new_user")), field(t("login.name"), name), field(t("ops.role"), role),
    field(t("login.password"), password),
    h("div", { class: "wide" }, h("button", { type: "submit", class: "primary", id: "user-add" }, t("ops.create")))));
  }

  const loads = [jobs(), messages()];
  if (admin) loads.push(webhooks(), keys(), users());
  const results = await Promise.allSettled(loads);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) showError(failed.reason);
}
