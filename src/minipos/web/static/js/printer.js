// The printer panel: what the station's printer says now (GET …/printer/status; 404 means no
// printer is configured, and then the queue marks every job printed at once, printing.md)
// and the station's latest print jobs, newest first, with Retry on the ones still waiting
// or failed. It refreshes itself every few seconds while it is on screen.

import { call, callPage } from "./api.js";
import { $, h, localTime, notice, setText, showView } from "./dom.js";

const SHOWN = 15;
const REFRESH_MS = 3000;

let env = null; // {stationId, onUnauthorized(message)}
let timer = 0;

export function configurePrinter(options) {
  env = options;
  $("printer-refresh").onclick = () => refresh();
}

export function showPrinter() {
  showView("printer-view");
  clearInterval(timer);
  // Only while the panel is visible: a till should not poll the printer all day.
  timer = setInterval(() => {
    if ($("printer-view").hidden) clearInterval(timer);
    else refresh();
  }, REFRESH_MS);
  return refresh();
}

export async function refresh() {
  setText("printer-error", "");
  await Promise.all([showStatus(), showJobs()]).catch((error) => {
    if (error.status === 401) env.onUnauthorized(error.message);
    else setText("printer-error", error.message);
  });
}

async function showStatus() {
  let status;
  try {
    status = await call("GET", `/api/stations/${env.stationId}/printer/status`);
  } catch (error) {
    if (error.status !== 404) throw error;
    $("printer-status").replaceChildren(h("strong", { id: "printer-state" }, "No printer configured"),
      h("p", { class: "note" }, "Receipts are recorded and marked printed; nothing comes out on paper."));
    return;
  }
  const problems = [
    status.paper_out && "out of paper",
    status.paper_low && "paper low",
    status.cover_open && "cover open",
    status.error && "printer error",
    status.online === false && "offline",
  ].filter(Boolean);
  const state = !status.reachable ? "Not reachable" : status.ready ? "Ready" : "Not ready";
  $("printer-status").replaceChildren(
    h("strong", { id: "printer-state", class: status.ready ? "ok" : "bad" }, state),
    h("span", {}, ` · ${status.kind}${status.address ? ` ${status.address}` : ""}`),
    problems.length ? h("p", {}, problems.join(", ")) : null,
    status.detail ? h("p", { class: "note" }, status.detail) : null,
    h("p", { class: "note" }, `Waiting jobs: ${status.queued_jobs} · failed: ${status.failed_jobs} · ` +
      `checked ${localTime(status.checked_at)}`));
}

// The list is oldest first: ask how many there are, then fetch the last page.
async function showJobs() {
  const base = `/api/print-jobs?station_id=${env.stationId}`;
  const { total } = await callPage(`${base}&limit=1`);
  const { items } = await callPage(`${base}&limit=${SHOWN}&offset=${Math.max(0, total - SHOWN)}`);
  const jobs = items.reverse();
  $("jobs-empty").hidden = jobs.length > 0;
  $("jobs-rows").replaceChildren(...jobs.map((job) => h("tr", { dataset: { jobId: job.id } },
    h("td", {}, String(job.id)),
    h("td", {}, jobWhat(job)),
    h("td", {}, h("span", { class: `badge job-${job.status}`, id: `job-status-${job.id}` }, job.status)),
    h("td", {}, localTime(job.printed_at || job.created_at)),
    h("td", { class: "note" }, job.last_error || (job.attempts > 1 ? `${job.attempts} attempts` : "")),
    h("td", {}, job.status === "failed" || job.status === "queued"
      ? h("button", { type: "button", id: `job-retry-${job.id}`, onclick: () => retry(job) }, "Retry")
      : null))));
}

function jobWhat(job) {
  const what = { receipt: `Receipt (id ${job.receipt_id})`, slip: "Slip", z_report: "Z-report" }[job.kind] || job.kind;
  return job.is_copy ? `${what} (copy)` : what;
}

async function retry(job) {
  try {
    const again = await call("POST", `/api/print-jobs/${job.id}/retry`);
    notice(again.is_copy ? `Job ${job.id} will print as a copy.` : `Job ${job.id} sent again.`);
  } catch (error) {
    if (error.status === 401) return env.onUnauthorized(error.message);
    setText("printer-error", `Job ${job.id}: ${error.message}`);
  }
  await refresh();
}
