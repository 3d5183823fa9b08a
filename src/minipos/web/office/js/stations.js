// Stations: the list with open shift and last receipt; register one (its key shown once);
// rename, regroup, disable or enable; rotate its key (the new one shown once, the old ones
// revoked) or revoke one of its keys. Only an admin changes stations; a manager reads.
import { dateTime, t } from "/i18n/i18n.js";
import { get, getAll, query, send } from "./api.js";
import { field, h, showError, table } from "./dom.js";

function secret(title, key) {
  return h("div", { class: "card", id: "station-secret" },
    h("h2", {}, title),
    h("p", { class: "note" }, t("st.key_once")),
    h("p", { class: "secret", id: "station-key" }, key));
}

export async function render(main, { args, session }) {
  const admin = session.role === "admin";
  const stations = await getAll("/api/stations");
  const detail = h("div", { id: "station-detail" });
  main.append(
    h("h1", {}, t("nav.stations")),
    table([
      { title: "ID", value: (s) => s.id },
      { title: t("st.name"), value: (s) => s.name },
      { title: t("st.pos"), value: (s) => s.pos_id },
      { title: t("st.group"), value: (s) => s.station_group },
      { title: t("st.shift"), value: (s) => (s.open_shift ? t("st.shift_open", { z: s.z_number }) : t("st.no_shift")) },
      { title: t("st.last_receipt"), value: (s) => (s.last_receipt_at ? dateTime(s.last_receipt_at) : "—") },
      { title: t("st.status"), value: (s) => h("span", { class: `badge ${s.disabled ? "bad" : "good"}` },
        s.disabled ? t("st.disabled") : t("st.active")) },
    ], stations, {
      onRow: (s) => { location.hash = `#/stations/${s.id}`; },
      rowClass: (s) => `station-${s.id}${s.disabled ? " disabled" : ""}`,
    }),
    detail,
  );
  if (!admin) {
    detail.append(h("p", { class: "note" }, t("st.admin_only")));
    return;
  }
  const chosen = stations.find((s) => String(s.id) === args[0]);
  if (chosen) await editor(detail, chosen);
  else detail.append(register());
}

function register() {
  const name = h("input", { id: "st-new-name", required: true, maxlength: "100" });
  const pos = h("input", { id: "st-new-pos", required: true, inputmode: "numeric", pattern: "[0-9]+" });
  const chassis = h("input", { id: "st-new-chassis", required: true, maxlength: "64" });
  const group = h("input", { id: "st-new-group", maxlength: "64", placeholder: t("st.group_default") });
  const out = h("div");
  const form = h("form", { id: "station-register", class: "form card", onsubmit: async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const made = await send("POST", "/api/stations", {
        name: name.value.trim(), pos_id: pos.value.trim(), chassis_id: chassis.value.trim(),
        ...(group.value.trim() ? { station_group: group.value.trim() } : {}),
      });
      out.replaceChildren(secret(t("st.registered", { name: made.name }), made.key));
      form.reset();
    } catch (error) {
      showError(error);
    }
  } },
  h("h2", { class: "wide" }, t("st.register")),
  field(t("st.name"), name), field(t("st.pos"), pos), field(t("st.chassis"), chassis),
  field(t("st.group"), group),
  h("div", { class: "wide" }, h("button", { type: "submit", class: "primary", id: "st-register" }, t("st.register"))));
  return h("div", {}, form, out);
}

async function editor(detail, station) {
  const name = h("input", { id: "st-name", value: station.name, maxlength: "100" });
  const group = h("input", { id: "st-group", value: station.station_group, maxlength: "64" });
  const out = h("div", { id: "station-out" });
  const keysBox = h("div", { id: "station-keys" });
  const printerBox = h("div", { id: "station-printer" });
  async function patch(body, message) {
    showError(null);
    try {
      await send("PATCH", `/api/stations/${station.id}`, body);
      sessionStorage.setItem("minipos.notice", message);
      window.dispatchEvent(new HashChangeEvent("hashchange")); // drawn again with the change
    } catch (error) {
      showError(error);
    }
  }
  async function keys() {
    const live = await get(`/api/keys${query({ station_id: station.id, revoked: "false" })}`);
    keysBox.replaceChildren(h("h2", {}, t("st.keys")), table([
      { title: t("st.key_id"), value: (k) => k.key_id },
      { title: t("st.created"), value: (k) => dateTime(k.created_at) },
      { title: "", value: (k) => h("button", { type: "button", class: "danger", id: `revoke-${k.id}`,
        onclick: async () => {
          if (!confirm(t("st.revoke_confirm"))) return;
          try {
            await send("DELETE", `/api/keys/${k.id}`);
            out.replaceChildren(h("p", { class: "ok", id: "st-notice" }, t("st.revoked")));
            await keys();
          } catch (error) {
            showError(error);
          }
        } }, t("st.revoke")) },
    ], live));
  }
  detail.append(h("form", { id: "station-edit", class: "form card", onsubmit: (event) => {
    event.preventDefault();
    patch({ name: name.value.trim(), station_group: group.value.trim() }, t("st.saved"));
  } },
  h("h2", { class: "wide" }, t("st.edit", { name: station.name })),
  field(t("st.name"), name), field(t("st.group"), group),
  h("div", { class: "wide toolbar" },
    h("button", { type: "submit", class: "primary", id: "st-save" }, t("common.save")),
    station.disabled
      ? h("button", { type: "button", id: "st-enable", onclick: () => patch({ disabled: false }, t("st.enabled")) }, t("st.enable"))
      : h("button", { type: "button", class: "danger", id: "st-disable", onclick: () => {
        if (confirm(t("st.disable_confirm"))) patch({ disabled: true }, t("st.disabled_now"));
      } }, t("st.disable")),
    h("button", { type: "button", class: "danger", id: "st-rotate", onclick: async () => {
      if (!confirm(t("st.rotate_confirm"))) return;
      showError(null);
      try {
        const made = await send("POST", `/api/stations/${station.id}/key`);
        out.replaceChildren(secret(t("st.rotated"), made.key));
        await keys();
      } catch (error) {
        showError(error);
      }
    } }, t("st.rotate")),
    h("button", { type: "button", onclick: () => { location.hash = "#/stations"; } }, t("st.register")))),
  out, printerBox, keysBox);
  const notice = sessionStorage.getItem("minipos.notice");
  if (notice) {
    sessionStorage.removeItem("minipos.notice");
    out.replaceChildren(h("p", { class: "ok", id: "st-notice" }, notice));
  }
  await Promise.all([keys().catch(showError), printer(printerBox, station.id)]);
}

// The station's printer now: reachable, ready, paper, cover, and its queue (404: none).
async function printer(box, stationId) {
  let text;
  let good = false;
  try {
    const s = await get(`/api/stations/${stationId}/printer/status`);
    good = s.ready;
    const facts = [
      `${s.kind}${s.address ? ` ${s.address}` : ""}`,
      s.reachable ? (s.ready ? t("st.printer_ready") : t("st.printer_not_ready")) : `${t("st.printer_unreachable")}${s.detail ? `: ${s.detail}` : ""}`,
      s.paper_out ? t("st.paper_out") : s.paper_low ? t("st.paper_low") : "",
      s.cover_open ? t("st.cover_open") : "",
      t("st.jobs", { queued: s.queued_jobs ?? 0, failed: s.failed_jobs ?? 0 }),
    ];
    text = facts.filter(Boolean).join(" · ");
  } catch (error) {
    text = error.status === 404 ? t("st.no_printer") : error.message;
  }
  box.replaceChildren(h("h2", {}, t("st.printer")),
    h("p", { id: "printer-status", class: good ? "ok" : "note" }, text));
}
