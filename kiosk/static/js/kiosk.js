// The workstation's sign-in page. (Signed in, exam.js runs the station's screen.)
import { ServerClock } from "./server-clock.js";

const form = document.querySelector("[data-login-form]");
if (form) {
  const clock = new ServerClock();
  const timeEl = document.querySelector("[data-server-time]");
  const poll = async () => { try { await clock.poll(); } catch { /* keep the last offset */ } };
  poll();
  setInterval(poll, 5000);
  setInterval(() => { if (clock.synced) timeEl.textContent = clock.wallClock(); }, 250);

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
      const response = await fetch("/api/v1/station/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ token }),
      });
      if (response.ok) { window.location.reload(); return; }
      const body = await response.json().catch(() => ({}));
      message.textContent = body.message || String(response.status);
    } catch (error) {
      message.textContent = form.dataset.offline;
    }
    input.value = "";
    input.focus();
  });
}
