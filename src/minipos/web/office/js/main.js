// The back office: sign in, then one page at a time by the address's #/ path.
import { languageSwitch, loadLanguage, t, translateMarked } from "/i18n/i18n.js";
import { ApiError, request, useSession } from "./api.js";
import { $, showError } from "./dom.js";
import * as catalogue from "./catalogue.js";
import * as dashboard from "./dashboard.js";
import * as operations from "./operations.js";
import * as receipts from "./receipts.js";
import * as shifts from "./shifts.js";
import * as stations from "./stations.js";
import * as stores from "./stores.js";

const PAGES = { dashboard, catalogue, stations, shifts, receipts, operations, stores };
let session = null;
let drawing = 0;

function signedOut() {
  session = null;
  useSession(null);
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("page").replaceChildren();
  $("login").hidden = false;
  $("login-name").focus();
}

function signedIn(value) {
  session = value;
  useSession(session, signedOut);
  $("login").hidden = true;
  $("nav").hidden = false;
  $("logout").hidden = false;
  $("nav-stores").hidden = session.mode !== "central";
  $("nav-stations").hidden = false;
  $("who").textContent = `${session.name} · ${t(`role.${session.role}`)}`;
  if (!location.hash || location.hash === "#/") location.hash = "#/dashboard";
  else draw();
}

async function draw() {
  if (!session) return;
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...rest] = path.split("/");
  const params = new URLSearchParams(search || "");
  const page = PAGES[name] ? name : "dashboard";
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.id === `nav-${page}`);
  }
  const main = $("page");
  main.replaceChildren();
  main.dataset.page = page;
  showError(null);
  const mine = ++drawing;
  document.title = `${t(`nav.${page}`)} · MiniPOS`;
  try {
    await PAGES[page].render(main, { session, args: rest, params, current: () => mine === drawing });
  } catch (error) {
    if (mine === drawing) showError(error);
  }
}

async function signIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  $("login-submit").disabled = true;
  try {
    const { data } = await request("POST", "/office/login", {
      name: $("login-name").value.trim(),
      password: $("login-password").value,
    });
    $("login-password").value = "";
    signedIn(data);
  } catch (error) {
    const key = error instanceof ApiError && error.status === 429 ? "login.slowed"
      : error instanceof ApiError && error.status === 401 ? "login.wrong" : null;
    const retry = error?.body?.detail?.match(/(\d+) s/)?.[1];
    $("login-error").textContent = key ? t(key, { seconds: retry ?? "" }) : error.message;
  } finally {
    $("login-submit").disabled = false;
  }
}

async function signOut() {
  try {
    await request("POST", "/office/logout");
  } catch (error) {
    showError(error);
  }
  signedOut();
}

async function start() {
  await loadLanguage();
  translateMarked();
  $("lang-slot").append(languageSwitch("lang"));
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", signOut);
  window.addEventListener("hashchange", draw);
  try {
    const { data } = await request("GET", "/office/session");
    signedIn(data);
  } catch {
    signedOut();
  }
}

start();
