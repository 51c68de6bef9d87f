// 大屏倒计时: the phase, the remaining time readable from the back of the room, the time of day
// (labelled, smaller, another colour: the two are never mistaken), the latest announcement.
import { comingPart, lastEnded, nextLine, showSession, shownPart } from "./day.js";
import { countdown, interpolate } from "./format.js";
import { POLL_MS, ServerClock, TICK_MS } from "./server-clock.js";

const root = document.querySelector("[data-hall]");
const clock = new ServerClock();
const label = (name) => root.dataset[`label${name[0].toUpperCase()}${name.slice(1)}`] || name;
let state = null;

async function poll() {
  try { state = await clock.poll(); } catch { return; }
  showSession(state, root.querySelector("[data-session-name]"));  // the next one's, at the change-over
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

function show(phaseText, countdownLabel, countdownText, nextText = "") {
  root.querySelector("[data-hall-phase]").textContent = phaseText;
  root.querySelector("[data-hall-next]").textContent = nextText;
  root.querySelector("[data-hall-countdown-label]").textContent = countdownLabel;
  root.querySelector("[data-hall-countdown]").textContent = countdownText;
  fit();
}

function tick() {
  if (!clock.synced || !state) return;
  root.querySelector("[data-server-time]").textContent = clock.wallClock();
  const part = shownPart(state);
  const name = part ? part.name : (state.phase ? label(state.phase) : "");
  const now = clock.now();
  const labels = { ended: label("partEnded"), next: label("next"), nextAt: label("nextAt") };
  const wall = (date) => clock.wallTime(date, { seconds: false });
  const next = nextLine(comingPart(state), labels, wall);
  // Before a scheduled part, the line under it says which part ended (the phase line says
  // which comes and when).
  const ended = lastEnded(state);
  const endedLine = ended && ended.key !== state.phase ? interpolate(labels.ended, { part: ended.name }) : "";
  const phaseState = state.phase_state;
  root.classList.toggle("paused", phaseState === "paused");
  root.classList.toggle("idle", !["running", "paused", "scheduled"].includes(phaseState));
  if (phaseState === "running" || phaseState === "paused") {
    const remaining = new Date(state.phase_ends_at) - now;
    show(phaseState === "paused" ? `${name} · ${label("paused")}` : name,
      remaining > 0 ? label("remaining") : label("over"), countdown(remaining), next);
    root.classList.toggle("urgent", remaining < 15 * 60000);
  } else if (phaseState === "scheduled") {
    const startsAt = new Date(state.phase_starts_at);
    show(`${name} · ${interpolate(label("starts"), { t: clock.wallTime(startsAt, { seconds: false }) })}`,
      label("untilStart"), countdown(startsAt - now), endedLine);
    root.classList.remove("urgent");
  } else {
    // After the end the box says so (时间到 · 已结束), as for a phase run past its end.
    // Between parts the line under it says which comes next (and when, once scheduled).
    if (phaseState === "ended") show(`${name} · ${label("ended")}`, label("over"), label("ended"), next);
    else show(label("waiting"), "", "--:--", next);
    root.classList.remove("urgent");
  }
}

poll();
setInterval(poll, POLL_MS);
setInterval(tick, TICK_MS);
document.addEventListener("dblclick", () => document.documentElement.requestFullscreen?.());
