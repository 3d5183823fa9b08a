// The employee's PIN sign-in (docs/employees.md). When the shop has employees, a station
// works in the name of the employee signed in there: after the key's login, nobody signed
// in means this screen, and the employee's name becomes the screen's cashier.

import { call } from "./api.js";
import { $, setText } from "./dom.js";

// {employees_configured, employee} for the station; a server without employees answers
// 404/405, which is "no employees" (the screen works as before).
export async function employeeAtStation(stationId) {
  try {
    return await call("GET", `/api/stations/${stationId}/employee`);
  } catch (error) {
    if ([404, 405].includes(error.status)) return { employees_configured: false, employee: null };
    throw error;
  }
}

// Shows the PIN screen until an employee signs in; resolves with the employee.
export function runPinSignIn(stationId) {
  $("login-screen").hidden = true;
  $("pos-screen").hidden = true;
  $("pin-screen").hidden = false;
  $("pin-code").value = "";
  $("pin-pin").value = "";
  setText("pin-error", "");
  $("pin-code").focus();
  return new Promise((resolve) => {
    $("pin-form").onsubmit = async (event) => {
      event.preventDefault();
      const code = $("pin-code").value.trim();
      const pin = $("pin-pin").value.trim();
      setText("pin-error", "");
      if (!code || !/^\d{4,8}$/.test(pin)) {
        setText("pin-error", "Type your code and your PIN (4 to 8 digits).");
        return;
      }
      try {
        const here = await call("POST", `/api/stations/${stationId}/employee/sign-in`, { code, pin });
        $("pin-screen").hidden = true;
        resolve(here.employee);
      } catch (error) {
        const words = {
          403: "Wrong code or PIN.",
          429: "Too many wrong PINs at this station; wait a little and try again.",
        };
        setText("pin-error", words[error.status] || error.message);
        $("pin-pin").value = "";
        $("pin-pin").focus();
      }
    };
  });
}

export async function signOutEmployee(stationId) {
  await call("POST", `/api/stations/${stationId}/employee/sign-out`);
}
