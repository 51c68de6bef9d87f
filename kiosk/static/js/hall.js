// 大屏倒计时: the phase, the remaining time readable from the back of the room, the time of day
// (labelled, smaller, another colour: the two are never mistaken), the latest announcement.
import { ServerClock, formatUTC } from "./server-clock.js";

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

// A moment as the hall's wall clock shows it (the server's zone), hours and minutes.
function wallTime(iso) {
  const zoneMinutes = (clock.last && clock.last.server_utc_offset_minutes) || 0;
  return formatUTC(new Date(Date.parse(iso) + zoneMinutes * 60000)).slice(0, 5);
}

async function poll() {
  try { state = await clock.poll(); } catch { return; }
  const last = (state.announcements || []).slice(-1)[0];
  const note = root.querySelector("[data-hall-note]");
  const text = last ? last.text : "";
  if (note.textContent !== text) { note.textContent = text; fitted = ""; }
  tick();
}

// One projected screen, nothing falls off: a long announcement shrinks the countdown and the
// note together (the remaining time stays the biggest thing), never the page longer.
let fitted = "";
function fit() {
  const key = `${innerWidth}x${innerHeight}|${root.querySelector("[data-hall-countdown]").textContent.length}`;
  if (key === fitted) return;
  fitted = key;
  let scale = 1;
  root.style.setProperty("--hall-scale", scale);
  const page = document.documentElement;
  while ((page.scrollHeight > innerHeight || page.scrollWidth > innerWidth) && scale > 0.3) {
    scale = Math.round((scale - 0.05) * 100) / 100;
    root.style.setProperty("--hall-scale", scale);
  }
}
addEventListener("resize", () => { fitted = ""; fit(); });

function show(phaseText, countdownLabel, countdownText) {
  root.querySelector("[data-hall-phase]").textContent = phaseText;
  root.querySelector("[data-hall-countdown-label]").textContent = countdownLabel;
  root.querySelector("[data-hall-countdown]").textContent = countdownText;
  fit();
}

function tick() {
  if (!clock.synced || !state) return;
  root.querySelector("[data-server-time]").textContent = clock.wallClock();
  const name = state.phase ? label(state.phase) : "";
  const now = clock.now();
  const phaseState = state.phase_state;
  root.classList.toggle("paused", phaseState === "paused");
  root.classList.toggle("idle", !["running", "paused", "scheduled"].includes(phaseState));
  if (phaseState === "running" || phaseState === "paused") {
    const remaining = new Date(state.phase_ends_at) - now;
    show(phaseState === "paused" ? `${name} · ${label("paused")}` : name,
      remaining > 0 ? label("remaining") : label("over"), format(remaining));
    root.classList.toggle("urgent", remaining < 15 * 60000);
  } else if (phaseState === "scheduled") {
    show(`${name} · ${label("starts").replace("%(t)s", wallTime(state.phase_starts_at))}`,
      label("untilStart"), format(new Date(state.phase_starts_at) - now));
    root.classList.remove("urgent");
  } else {
    // After the end the box says so (时间到 · 已结束), as for a phase run past its end.
    if (phaseState === "ended") show(`${name} · ${label("ended")}`, label("over"), label("ended"));
    else show(label("waiting"), "", "--:--");
    root.classList.remove("urgent");
  }
}

poll();
setInterval(poll, 5000);
setInterval(tick, 250);
document.addEventListener("dblclick", () => document.documentElement.requestFullscreen?.());
