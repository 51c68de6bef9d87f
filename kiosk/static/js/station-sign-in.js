// The workstation's sign-in page. (Signed in, station-screen.js runs the station's screen.)
import { POLL_MS, ServerClock, TICK_MS } from "./server-clock.js";
import { jsonBody, sendJSON } from "./requests.js";

const form = document.querySelector("[data-login-form]");
if (form) {
  const clock = new ServerClock();
  const timeEl = document.querySelector("[data-server-time]");
  const poll = async () => { try { await clock.poll(); } catch { /* keep the last offset */ } };
  poll();
  setInterval(poll, POLL_MS);
  setInterval(() => { if (clock.synced) timeEl.textContent = clock.wallClock(); }, TICK_MS);

  const input = form.querySelector("input[name=token]");
  const message = document.querySelector("[data-login-message]");
  // The field keeps focus, so a scanner's keystrokes always land in it (autofocus alone is
  // applied a frame late).
  input.focus();
  document.addEventListener("click", () => input.focus());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    message.textContent = "";
    try {
      const response = await sendJSON("POST", "/api/v1/station/login", { token });
      if (response.ok) { window.location.reload(); return; }
      const body = await jsonBody(response);
      message.textContent = body.message || String(response.status);
    } catch (error) {
      message.textContent = form.dataset.offline;
    }
    input.value = "";
    input.focus();
  });
}
