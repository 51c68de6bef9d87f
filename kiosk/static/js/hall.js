// 大屏倒计时: the phase, a countdown readable from the back of the room, the latest announcement.
import { ServerClock } from "./server-clock.js";

const root = document.querySelector("[data-hall]");
const clock = new ServerClock();
const label = (name) => root.dataset[`label${name[0].toUpperCase()}${name.slice(1)}`] || name;
let state = null;

function format(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

async function poll() {
  try { state = await clock.poll(); } catch { return; }
  const last = (state.announcements || []).slice(-1)[0];
  root.querySelector("[data-hall-note]").textContent = last ? last.text : "";
  tick();
}

function tick() {
  if (!clock.synced || !state) return;
  root.querySelector("[data-server-time]").textContent = clock.wallClock();
  const phaseEl = root.querySelector("[data-hall-phase]");
  const countdown = root.querySelector("[data-hall-countdown]");
  const name = state.phase ? label(state.phase) : "";
  const now = clock.now();
  root.classList.toggle("paused", state.phase_state === "paused");
  if (state.phase_state === "running" || state.phase_state === "paused") {
    phaseEl.textContent = state.phase_state === "paused" ? `${name} · ${label("paused")}` : name;
    const remaining = new Date(state.phase_ends_at) - now;
    countdown.textContent = format(remaining);
    root.classList.toggle("urgent", remaining < 15 * 60000);
  } else if (state.phase_state === "scheduled") {
    phaseEl.textContent = `${name} · ${root.dataset.labelStarts.replace("%(t)s", format(new Date(state.phase_starts_at) - now))}`;
    countdown.textContent = format(new Date(state.phase_ends_at) - new Date(state.phase_starts_at));
  } else {
    phaseEl.textContent = state.phase_state === "ended" ? `${name} · ${label("ended")}` : label("waiting");
    countdown.textContent = "--:--";
  }
}

poll();
setInterval(poll, 5000);
setInterval(tick, 250);
document.addEventListener("dblclick", () => document.documentElement.requestFullscreen?.());
