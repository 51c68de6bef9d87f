// The signed-in station's screen: waiting, the theory exam, handed in, the practical countdown.
// Every time shown comes from the server: deadline minus the server's "now" (ServerClock), so a
// workstation whose clock is wrong by hours still counts down correctly.
import { ServerClock } from "./server-clock.js";
import { SaveQueue, sendAnswer } from "./save-queue.js";
import { watch } from "./telemetry.js";

const app = document.querySelector("[data-exam-app]");
const station = app.dataset.station;
const msg = (name, values = {}) => Object.entries(values).reduce(
  (text, [key, value]) => text.replace(`%(${key})s`, value), app.dataset[name] || "");
const $ = (selector) => app.querySelector(selector);
const clock = new ServerClock();
const wallEl = document.querySelector("[data-server-time]");
const countdownEl = document.querySelector("[data-countdown]");

let paper = null;          // {questions, answers, deadline, ...} from the server
let answers = {};          // qid -> option key, as shown (acknowledged + waiting)
let current = 0;           // index of the question on screen
let deadline = null;       // Date: this station's own deadline
let locked = false;
let warned = new Set();
const flags = new Set(JSON.parse(localStorage.getItem(`kiosk.flags.${station}`) || "[]"));

const queue = new SaveQueue({
  station,
  send: sendAnswer,
  onStatus: (qid) => { if (paper && paper.questions[current].id === qid) showSaveStatus(); renderNav(); },
  onLocked: (body) => { if (body.state === "paused") { queue.unlock(); } else { lock(); } },
  onSignedOut: () => showDone("", msg("msgSignedOut")),
  onConnection: (ok) => { $("[data-offline-banner]").hidden = ok; },
});
window.addEventListener("online", () => queue.flush());

// ----------------------------------------------------------------------------- views

function show(view) {
  for (const section of app.querySelectorAll("[data-view]")) section.hidden = section.dataset.view !== view;
}

function showDone(title, text) {
  show("done");
  $("[data-done-title]").textContent = title;
  $("[data-done-text]").textContent = text;
}

function format(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

// ----------------------------------------------------------------------------- the paper

async function loadPaper() {
  const response = await fetch("/api/v1/exam/paper", { credentials: "same-origin", cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) { showDone("", msg("msgSignedOut")); return false; }
  if (!response.ok) return false;
  paper = body;
  queue.syncSeq(body.last_seq);
  answers = queue.merge(body.answers || {});
  deadline = body.deadline ? new Date(body.deadline) : null;
  if (body.submitted_at) { submittedView(body); return true; }
  if (body.state === "ended") { lock(); return true; }
  show("exam");
  renderNav();
  renderQuestion();
  queue.flush();  // replay whatever waited in this browser
  return true;
}

function submittedView(body) {
  locked = true;
  const at = new Date(body.submitted_at);
  let text = msg("msgSubmitted", { t: formatWall(at) });
  if (body.score !== undefined) text += " " + msg("msgScore", { s: body.score, f: body.full_marks });
  showDone("✓", text);
}

function formatWall(date) {
  const zone = clock.last ? clock.last.server_utc_offset_minutes || 0 : 0;
  const shifted = new Date(date.getTime() + zone * 60000);
  return [shifted.getUTCHours(), shifted.getUTCMinutes()].map((n) => String(n).padStart(2, "0")).join(":");
}

function renderNav() {
  if (!paper) return;
  const nav = $("[data-nav]");
  nav.replaceChildren();
  paper.questions.forEach((question, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(index + 1);
    button.className = "nav-item";
    if (answers[question.id]) button.classList.add("answered");
    if (flags.has(question.id)) button.classList.add("flagged");
    if (queue.status(question.id) !== "saved") button.classList.add("waiting");
    if (index === current) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => { current = index; renderQuestion(); renderNav(); });
    nav.append(button);
  });
}

function renderQuestion() {
  const question = paper.questions[current];
  $("[data-meta]").textContent = [
    msg("msgQuestion", { n: current + 1, total: paper.questions.length }),
    question.type === "tf" ? msg("msgTf") : msg("msgSingle"),
    msg("msgPoints", { p: Number(question.points) }),
  ].join(" · ");
  $("[data-stem]").textContent = question.stem;  // text, never HTML: stems are data
  const box = $("[data-options]");
  box.replaceChildren();
  question.options.forEach((option, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "option";
    button.setAttribute("role", "radio");
    const chosen = answers[question.id] === option.key;
    button.setAttribute("aria-checked", chosen ? "true" : "false");
    if (chosen) button.classList.add("chosen");
    const letter = document.createElement("span");
    letter.className = "option-letter";
    letter.textContent = question.type === "tf" ? (index === 0 ? "T" : "F") : "ABCDEFGH"[index];
    const text = document.createElement("span");
    text.textContent = option.text;
    button.append(letter, text);
    button.disabled = locked;
    button.addEventListener("click", () => choose(index));
    box.append(button);
  });
  $("[data-flag]").setAttribute("aria-pressed", flags.has(question.id) ? "true" : "false");
  $("[data-prev]").disabled = current === 0;
  $("[data-next]").disabled = current === paper.questions.length - 1;
  showSaveStatus();
}

function showSaveStatus() {
  const question = paper.questions[current];
  const el = $("[data-save-status]");
  if (!answers[question.id]) { el.textContent = ""; el.className = "save-status"; return; }
  const status = queue.status(question.id);
  el.textContent = status === "saved" ? msg("msgSaved") : status === "failed" ? msg("msgFailed") : msg("msgSaving");
  el.className = `save-status ${status}`;
}

function choose(index) {
  if (locked || !paper) return;
  const question = paper.questions[current];
  const option = question.options[index];
  if (!option) return;
  answers[question.id] = option.key;
  queue.put(question.id, option.key);
  renderQuestion();
  renderNav();
}

function move(step) {
  if (!paper) return;
  current = Math.min(Math.max(current + step, 0), paper.questions.length - 1);
  renderQuestion();
  renderNav();
}

// ----------------------------------------------------------------------------- keys and buttons

document.addEventListener("keydown", (event) => {
  if (!paper || locked || !$("[data-confirm]").hidden || event.ctrlKey || event.altKey || event.metaKey) return;
  const key = event.key.toUpperCase();
  const question = paper.questions[current];
  if (event.key === "ArrowLeft") { move(-1); event.preventDefault(); return; }
  if (event.key === "ArrowRight") { move(1); event.preventDefault(); return; }
  if (question.type === "tf" && (key === "T" || key === "F")) { choose(key === "T" ? 0 : 1); return; }
  const letter = "ABCDEFGH".indexOf(key);
  if (letter >= 0 && key.length === 1) { choose(letter); return; }
  if (/^[1-8]$/.test(event.key)) choose(Number(event.key) - 1);
});
$("[data-prev]").addEventListener("click", () => move(-1));
$("[data-next]").addEventListener("click", () => move(1));
$("[data-flag]").addEventListener("click", () => {
  const qid = paper.questions[current].id;
  if (flags.has(qid)) flags.delete(qid); else flags.add(qid);
  localStorage.setItem(`kiosk.flags.${station}`, JSON.stringify([...flags]));
  renderQuestion();
  renderNav();
});
$("[data-larger]").addEventListener("click", (event) => {
  const larger = document.body.classList.toggle("larger");
  event.currentTarget.setAttribute("aria-pressed", String(larger));
  localStorage.setItem("kiosk.larger", larger ? "1" : "");
});
if (localStorage.getItem("kiosk.larger")) document.body.classList.add("larger");

$("[data-submit]").addEventListener("click", () => {
  const missing = paper.questions.map((q, i) => (answers[q.id] ? null : i + 1)).filter(Boolean);
  $("[data-confirm-text]").textContent = missing.length
    ? msg("msgUnanswered", { list: missing.join("、") }) : msg("msgAllAnswered");
  $("[data-confirm]").hidden = false;
  $("[data-confirm-no]").focus();
});
$("[data-confirm-no]").addEventListener("click", () => { $("[data-confirm]").hidden = true; });
$("[data-confirm-yes]").addEventListener("click", async () => {
  $("[data-confirm]").hidden = true;
  await queue.flush();  // every waiting answer goes first
  const response = await fetch("/api/v1/exam/submit", { method: "POST", credentials: "same-origin" });
  if (response.ok || response.status === 423) await loadPaper();
});

function lock() {
  locked = true;
  if (paper) renderQuestion();
  showDone("", msg("msgLocked"));
}

// ----------------------------------------------------------------------------- the clock

let phase = null;

async function pollClock() {
  let body;
  try { body = await clock.poll(); } catch { return; }
  tick();  // show the synced time at once, not on the next tick
  if (body.signed_out) {  // released by a field judge, or signed in elsewhere
    showDone("", msg("msgSignedOut"));
    return;
  }
  const announcement = (body.announcements || []).slice(-1)[0];
  const note = $("[data-announcement]");
  note.hidden = !announcement;
  if (announcement) note.textContent = announcement.text;
  $("[data-paused]").hidden = body.phase_state !== "paused";
  if (body.station_deadline) deadline = new Date(body.station_deadline);
  const changed = !phase || phase.phase !== body.phase || phase.phase_state !== body.phase_state;
  phase = body;
  tick();
  if (!changed) return;
  warned = new Set();
  if (body.phase === "theory" && ["running", "paused", "ended"].includes(body.phase_state)) {
    if (!paper) await loadPaper();
    if (body.phase_state === "running") queue.flush();
  } else if (body.phase === "practical" && body.phase_state !== "scheduled") {
    show("practical");
  } else {
    show("waiting");
  }
}

function tick() {
  if (!clock.synced) return;
  wallEl.textContent = clock.wallClock();
  const now = clock.now();
  let remaining = null;
  if (phase && phase.phase_state === "scheduled" && phase.phase_starts_at) {
    const until = new Date(phase.phase_starts_at) - now;
    app.querySelector("[data-phase-message]").textContent = msg("msgStartsIn", { t: format(until) });
    if (until <= 0) pollClock();
  }
  if (deadline && phase && ["running", "paused"].includes(phase.phase_state)) remaining = deadline - now;
  countdownEl.hidden = remaining === null;
  if (remaining === null) return;
  countdownEl.textContent = format(remaining);
  countdownEl.classList.toggle("urgent", remaining < 5 * 60000);
  const practical = app.querySelector("[data-practical-countdown]");
  if (phase.phase === "practical") practical.textContent = format(remaining);
  for (const minutes of phase.warnings_at_minutes || []) {
    if (remaining <= minutes * 60000 && remaining > (minutes - 1) * 60000 && !warned.has(minutes)) {
      warned.add(minutes);
      const banner = $("[data-warning-banner]");
      banner.textContent = msg("msgWarning", { m: minutes });  // announced once (role=alert)
      banner.hidden = false;
      setTimeout(() => { banner.hidden = true; }, 60000);
    }
  }
  if (remaining <= 0 && phase.phase_state === "running") {
    if (phase.phase === "theory" && !locked && paper) lock();
    if (phase.phase === "practical") showDone("", msg("msgPracticalEnded"));
  }
}

watch();
pollClock();
setInterval(pollClock, 5000);
setInterval(tick, 250);
