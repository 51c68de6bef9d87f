// The workstation's sign-in page. (Signed in, station-screen.js runs the station's screen.)
import { POLL_MS, ServerClock, TICK_MS } from "./server-clock.js";
import { betweenLine, shownPart } from "./day.js";
import { messages } from "./format.js";
import { jsonBody, sendJSON } from "./requests.js";

const form = document.querySelector("[data-login-form]");
if (form) {
  const clock = new ServerClock();
  const timeEl = document.querySelector("[data-server-time]");
  // Before signing in, the contestant sees where the day is: the part under way, or which
  // ended and which comes next (day.js, as the signed-in screen says it).
  const dayLine = document.querySelector("[data-login-day]");
  const msg = messages(dayLine);
  const showDay = (body) => {
    const labels = { ended: msg("msgPartEnded", { part: "%(part)s" }), next: msg("msgNext", { part: "%(part)s" }),
      nextAt: msg("msgNextAt", { part: "%(part)s", t: "%(t)s" }) };
    const wall = (date) => clock.wallTime(date, { seconds: false });
    const part = shownPart(body);
    const text = part && ["running", "paused"].includes(body.phase_state)
      ? msg("msgRunning", { part: part.name }) : (body.phase ? betweenLine(body, labels, wall) : "");
    dayLine.textContent = text;
    dayLine.hidden = !text;
  };
  const poll = async () => {
    try { showDay(await clock.poll()); } catch { /* keep the last offset */ }
  };
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
