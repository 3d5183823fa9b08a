// The login screen. Step one: a key. Step two depends on what the key turned out to be:
// an admin key picks a station from GET /api/stations and must name the cashier; a station
// key learns its own station from GET /api/stations/me, so only the cashier's name is left.
// (A server without /me: the cashier types the station's number, as before.)

import { call } from "./api.js";
import { $, h, setText } from "./dom.js";

// Shows the login screen until someone logs in; resolves with
// {key, role: "station" | "admin", stationId, cashier}.
export function runLogin(message = "") {
  $("pos-screen").hidden = true;
  $("login-screen").hidden = false;
  $("login-key-form").hidden = false;
  $("login-station-form").hidden = true;
  $("login-key").value = "";
  setText("login-key-error", message);
  $("login-key").focus();

  return new Promise((resolve) => {
    let key = "";
    let role = "";
    let own = null; // a station key's own station, from /api/stations/me

    $("login-key-form").onsubmit = async (event) => {
      event.preventDefault();
      key = $("login-key").value.trim();
      setText("login-key-error", "");
      try {
        ({ role, own } = await stepTwo(key));
      } catch (error) {
        setText("login-key-error", error.message);
        $("login-key").select();
      }
    };

    $("login-back").onclick = () => {
      $("login-station-form").hidden = true;
      $("login-key-form").hidden = false;
      $("login-key").focus();
    };

    $("login-station-form").onsubmit = async (event) => {
      event.preventDefault();
      setText("login-station-error", "");
      const stationId = role === "admin"
        ? $("login-station-select").value
        : own ? String(own.id) : $("login-station-id").value.trim();
      const cashier = $("login-cashier").value.trim();
      if (!/^\d+$/.test(stationId)) {
        setText("login-station-error", "Type the station's number (digits only).");
        return;
      }
      if (role === "admin" && !cashier) {
        setText("login-station-error", "Type the cashier's name: receipts and shifts carry it.");
        $("login-cashier").focus();
        return;
      }
      try {
        const station = await call("GET", `/api/stations/${stationId}`, undefined, { key });
        resolve({ key, role, stationId: station.id, cashier });
      } catch (error) {
        const words = {
          403: "This key is not this station's key (nor an admin key).",
          404: `There is no station number ${stationId}.`,
        };
        setText("login-station-error", words[error.status] || error.message);
      }
    };
  });
}

// Finds out what the key may do and fills in step two; throws with a plain message.
async function stepTwo(key) {
  if (!key) throw new Error("Paste or type the key you were given.");
  let stations = null;
  try {
    stations = await call("GET", "/api/stations", undefined, { key });
  } catch (error) {
    if (error.status === 401) throw new Error("This key was not accepted (wrong or revoked).");
    if (error.status !== 403) throw error;
  }
  const admin = stations !== null;
  let own = null;
  $("login-pick-station").hidden = !admin;
  if (admin) {
    if (!stations.length) throw new Error("No stations are registered yet (POST /api/stations).");
    setText("login-role-note", "Admin key: choose the station to work at.");
    $("login-station-select").replaceChildren(...stations.map((s) =>
      h("option", { value: s.id }, `${s.name} (POS ${s.pos_id})${s.open_shift ? " · shift open" : ""}`)));
  } else {
    own = await myStation(key);
  }
  $("login-type-station").hidden = admin || own !== null;
  $("login-station-name").hidden = own === null;
  if (own) {
    setText("login-role-note", "Station key for:");
    setText("login-station-name", `${own.name} (POS ${own.pos_id})`);
  }
  $("login-key-form").hidden = true;
  $("login-station-form").hidden = false;
  (admin ? $("login-station-select") : own ? $("login-cashier") : $("login-station-id")).focus();
  return { role: admin ? "admin" : "station", own };
}

// A station key's own station. A server older than GET /api/stations/me answers 404 or 405:
// then the cashier types the number, and a till that has had a shift finds it in its shifts.
async function myStation(key) {
  try {
    return await call("GET", "/api/stations/me", undefined, { key });
  } catch (error) {
    if (![400, 404, 405].includes(error.status)) throw error;
  }
  setText("login-role-note", "Station key: which station is this?");
  try {
    const shifts = await call("GET", "/api/shifts?limit=1", undefined, { key });
    if (shifts.length) $("login-station-id").value = shifts[0].station;
  } catch (error) {
    if (error.status !== 403) throw error;
  }
  return null;
}
