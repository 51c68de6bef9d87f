// The signed-in station's screen: waiting, the theory exam, handed in, the practical countdown.
// Every time shown comes from the server: deadline minus the server's "now" (ServerClock), so a
// workstation whose clock is wrong by hours still counts down correctly.
import { betweenLine, comingPart, nextLine, showSession, shownPart } from "./day.js";
import { countdown, fileSize, messages } from "./format.js";
import { fetchFresh, jsonBody } from "./requests.js";
import { SaveQueue, sendAnswer } from "./save-queue.js";
import { POLL_MS, ServerClock, TICK_MS } from "./server-clock.js";
import { watch } from "./telemetry.js";

const app = document.querySelector("[data-exam-app]");
const station = app.dataset.station;
const msg = messages(app);
const $ = (selector) => app.querySelector(selector);
const clock = new ServerClock();
const wallEl = document.querySelector("[data-server-time]");
const countdownEl = document.querySelector("[data-countdown]");
const countdownBox = document.querySelector("[data-countdown-box]");

let paper = null;          // {questions, answers, deadline, ...} from the server
let answers = {};          // qid -> option key, as shown (acknowledged + waiting)
let current = 0;           // index of the question on screen
let deadline = null;       // Date: this station's own deadline
let locked = false;
let signedOut = false;
let warned = new Set();
const flags = new Set(JSON.parse(localStorage.getItem(`kiosk.flags.${station}`) || "[]"));
// The question on screen survives a reload (by id: the paper's order is the station's own).
const placeKey = `kiosk.place.${station}`;

const queue = new SaveQueue({
  station,
  send: sendAnswer,
  now: () => clock.now(),
  onStatus: (qid) => { if (paper && view === "exam" && paper.questions[current].id === qid) showSaveStatus(); renderNav(); },
  onLocked: (body) => {
    if (body.state === "paused") {
      // The server paused before this screen knew: show the pause now; choices made since
      // the pause began are dropped (a pause takes no input), earlier ones wait for the resume.
      // The refusal says when it began: the poll may not show the pause yet (another server's
      // rows, up to a second old), and this screen's own clock is later than the pause.
      pollClock().then(() => {
        const began = body.paused_at || (phase && phase.paused_at);
        const since = began ? new Date(began) : clock.now();
        for (const qid of queue.dropSince(since)) {
          const kept = qid in queue.acked ? queue.acked[qid] : (paper && paper.acknowledged[qid]);
          if (kept) answers[qid] = kept; else delete answers[qid];
        }
        queue.unlock();
        if (paper) renderQuestion();  // a dropped choice is not shown as chosen (if on screen)
        renderNav();
      });
    } else { lock(); }
  },
  onSignedOut: () => { signedOut = true; render(); },
  onConnection: (ok) => { $("[data-offline-banner]").hidden = ok; },
});
window.addEventListener("online", () => queue.flush());

// ----------------------------------------------------------------------------- views

let view = null;

function show(name) {
  view = name;
  for (const section of app.querySelectorAll("[data-view]")) section.hidden = section.dataset.view !== name;
  if (name !== "exam") clearQuestion();
  if (name !== "exam") $("[data-confirm]").hidden = true;
}

// Off the screen means out of the page: nothing of the question stays to be read or chosen.
function clearQuestion() {
  $("[data-meta]").textContent = "";
  $("[data-stem]").textContent = "";
  $("[data-options]").replaceChildren();
  $("[data-save-status]").textContent = "";
}

function showDone(title, text, { closed = "", help = "", receipts = false } = {}) {
  show("done");
  $("[data-view=done]").classList.toggle("stopped", Boolean(help));
  $("[data-done-title]").textContent = title;
  $("[data-done-text]").textContent = text;
  $("[data-done-closed]").textContent = closed;
  $("[data-done-closed]").hidden = !closed;
  $("[data-done-help]").textContent = help;
  $("[data-done-help]").hidden = !help;
  $("[data-done-receipts]").hidden = !receipts;
  if (receipts) listReceipts();
}

// What went in, on the end screen: the contestant sees whether a judge is needed.
async function listReceipts() {
  let body;
  try {
    const response = await fetchFresh("/api/v1/collect/mine");
    if (!response.ok) return;
    body = await response.json();
  } catch { return; }
  const rows = body.hand_ins.map((item) => {
    const row = document.createElement("tr");
    for (const [i, text] of [item.receipt_no, item.filename, fileSize(item.size),
      clock.wallTime(new Date(item.received_at)), item.judged ? msg("msgJudged") : ""].entries()) {
      const td = document.createElement("td");
      td.textContent = text;  // names are data, never HTML
      if (i === 2) td.className = "num";
      if (i === 4 && text) td.className = "judged";  // the version judged, as the server says
      row.append(td);
    }
    return row;
  });
  $("[data-done-receipts] tbody").replaceChildren(...rows);
  const none = $("[data-done-none]");
  none.textContent = msg("msgNoHandIn");
  none.hidden = rows.length > 0;
  $("[data-done-receipts] table").hidden = rows.length === 0;
}

// ----------------------------------------------------------------------------- the paper

let loading = null;

function loadPaper() {
  loading = loading || fetchPaper().finally(() => { loading = null; });
  return loading;
}

async function fetchPaper() {
  let response, body;
  try {
    response = await fetchFresh("/api/v1/exam/paper");
    body = await jsonBody(response);
  } catch { return false; }
  if (response.status === 401) { signedOut = true; return false; }
  if (!response.ok) return false;
  paper = { ...body, acknowledged: body.answers || {} };
  queue.syncSeq(body.last_seq);
  answers = queue.merge(paper.acknowledged);
  deadline = body.deadline ? new Date(body.deadline) : deadline;
  const place = paper.questions.findIndex((q) => q.id === localStorage.getItem(placeKey));
  current = place >= 0 ? place : 0;
  if (body.submitted_at || body.state === "ended") locked = true;
  return true;
}

function doneText(body) {
  let text = msg("msgSubmitted", { t: clock.wallTime(new Date(body.submitted_at), { seconds: false }) });
  if (body.score !== undefined) text += " " + msg("msgScore", { s: body.score, f: body.full_marks });
  return text;
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
    button.addEventListener("click", () => { if (view !== "exam") return; current = index; renderQuestion(); renderNav(); });
    nav.append(button);
  });
}

function renderQuestion() {
  if (view !== "exam") return;  // nothing of the paper off its screen
  const question = paper.questions[current];
  localStorage.setItem(placeKey, question.id);
  const focusedOption = [...$("[data-options]").children].indexOf(document.activeElement);
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
  // A re-drawn option keeps the keyboard's place (else the next Tab would start over at 交卷).
  if (focusedOption >= 0 && box.children[focusedOption]) box.children[focusedOption].focus();
  $("[data-flag]").setAttribute("aria-pressed", flags.has(question.id) ? "true" : "false");
  $("[data-prev]").disabled = current === 0;
  $("[data-next]").disabled = current === paper.questions.length - 1;
  showSaveStatus();
}

function showSaveStatus() {
  if (view !== "exam") return;
  const question = paper.questions[current];
  const el = $("[data-save-status]");
  if (!answers[question.id]) { el.textContent = ""; el.className = "save-status"; return; }
  const status = queue.status(question.id);
  el.textContent = status === "saved" ? msg("msgSaved") : status === "failed" ? msg("msgFailed") : msg("msgSaving");
  el.className = `save-status ${status}`;
}

function choose(index) {
  if (locked || !paper || view !== "exam") return;
  const question = paper.questions[current];
  const option = question.options[index];
  if (!option) return;
  answers[question.id] = option.key;
  queue.put(question.id, option.key);
  renderQuestion();
  renderNav();
}

function move(step) {
  if (!paper || view !== "exam") return;
  current = Math.min(Math.max(current + step, 0), paper.questions.length - 1);
  renderQuestion();
  renderNav();
}

// ----------------------------------------------------------------------------- keys and buttons

document.addEventListener("keydown", (event) => {
  const confirm = $("[data-confirm]");
  if (!confirm.hidden) { holdFocus(event, confirm); return; }
  // Only the exam's own screen takes answers: never during a pause, never after the end.
  if (!paper || locked || view !== "exam" || event.ctrlKey || event.altKey || event.metaKey) return;
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

// The hand-in confirmation is modal: Tab and Shift+Tab stay among its buttons, Esc closes it.
function holdFocus(event, dialog) {
  if (event.key === "Escape") { event.preventDefault(); closeConfirm(); return; }
  if (event.key !== "Tab") return;
  const buttons = [...dialog.querySelectorAll("button")];
  const at = buttons.indexOf(document.activeElement);
  const next = event.shiftKey ? (at <= 0 ? buttons.length - 1 : at - 1) : (at + 1) % buttons.length;
  buttons[next].focus();
  event.preventDefault();
}

function closeConfirm() {
  $("[data-confirm]").hidden = true;
  $("[data-submit]").focus();
}

$("[data-submit]").addEventListener("click", () => {
  if (view !== "exam") return;
  const missing = paper.questions.map((q, i) => (answers[q.id] ? null : i + 1)).filter(Boolean);
  $("[data-confirm-text]").textContent = missing.length
    ? msg("msgUnanswered", { list: missing.join("、") }) : msg("msgAllAnswered");
  $("[data-confirm]").hidden = false;
  $("[data-confirm-no]").focus();
});
$("[data-confirm-no]").addEventListener("click", closeConfirm);
$("[data-confirm]").addEventListener("focusout", (event) => {
  // A click outside the box (on the backdrop) must not leave the focus behind the dialog.
  if (!$("[data-confirm]").hidden && !event.currentTarget.contains(event.relatedTarget)) {
    setTimeout(() => { if (!$("[data-confirm]").hidden) $("[data-confirm-no]").focus(); });
  }
});
$("[data-confirm-yes]").addEventListener("click", async () => {
  $("[data-confirm]").hidden = true;
  await queue.flush();  // every waiting answer goes first
  const response = await fetch("/api/v1/exam/submit", { method: "POST", credentials: "same-origin" });
  if (response.ok || response.status === 423) { await loadPaper(); render(); }
});

// The server refused an answer for good (time up, or handed in elsewhere): ask it why.
async function lock() {
  locked = true;
  await loadPaper();
  render();
}

// ----------------------------------------------------------------------------- the clock

let phase = null;  // the last answer of /api/v1/clock

// This station's state: the server's, and between polls its own deadline on the server's
// clock, so the end shows at the second it comes (extensions included).
function stationState() {
  if (!phase) return null;
  const state = phase.station_state || phase.phase_state;
  if (state === "running" && deadline && clock.now() >= deadline) return "ended";
  return state;
}

let shownKey = null;  // the practical part on screen

// Between parts (and before the first) the screen says which part ended and which comes next,
// on the waiting and the end screen alike: "模块A 已结束 · 下一环节：模块B 10:30 开始".
function showBetween() {
  const labels = { ended: msg("msgPartEnded", { part: "%(part)s" }), next: msg("msgNext", { part: "%(part)s" }),
    nextAt: msg("msgNextAt", { part: "%(part)s", t: "%(t)s" }) };
  const wall = (date) => clock.wallTime(date, { seconds: false });
  const between = phase && phase.phase ? betweenLine(phase, labels, wall) : "";
  for (const el of [$("[data-between]"), $("[data-done-between]")]) {
    el.textContent = between;
    el.hidden = !between;
  }
  const coming = phase && ["running", "paused"].includes(phase.phase_state) ? nextLine(comingPart(phase), labels, wall) : "";
  $("[data-practical-next]").textContent = coming;
  $("[data-practical-next]").hidden = !coming;
}

// One place decides what the screen shows; every poll, tick and answer asks it again.
async function render() {
  if (signedOut) { showDone("", msg("msgSignedOut")); return; }
  const state = stationState();
  showBetween();
  if (!phase || !phase.phase || ["not_started", "scheduled"].includes(state)) { show("waiting"); return; }
  if (state === "paused") { show("paused"); return; }
  const part = shownPart(phase) || { key: phase.phase, name: "", kind: phase.phase === "theory" ? "theory" : "practical", hand_in: true };
  if (state === "ended") $("[data-warning-banner]").hidden = true;  // the part is over
  if (part.kind === "practical") {
    if (state === "ended") {
      // The part's end stops its work: the end screen, its hand-ins listed when it had any.
      const ended = part.key === "practical" ? msg("msgPracticalEnded") : msg("msgPartEndedStop", { part: part.name });
      if (view !== "done" || $("[data-done-text]").textContent !== ended) {
        showDone(msg("msgStopPractical"), ended, part.hand_in
          ? { closed: msg("msgHandinClosed"), help: msg("msgPracticalHelp"), receipts: true } : {});
        document.dispatchEvent(new CustomEvent("kiosk:handin-closed", { detail: { part: part.key } }));
      }
      showBetween();
    } else if (view !== "practical" || shownKey !== part.key) {
      shownKey = part.key;
      $("[data-practical-title]").textContent = part.name || msg("msgPractical");
      $("[data-handin]").hidden = !part.hand_in;
      show("practical");
      // The hand-in box (station-handin.js) learns which part it takes files for.
      document.dispatchEvent(new CustomEvent("kiosk:part", { detail: part }));
    }
    return;
  }
  if (!paper && (state !== "ended" || view !== "done")) {
    await loadPaper();
    if (signedOut) { showDone("", msg("msgSignedOut")); return; }
    if (!paper && state !== "ended") return;  // offline: the next poll tries again
  }
  if (state === "ended") {
    locked = true;
    const closed = paper && paper.submitted_at ? doneText(paper) : msg("msgAnswersClosed");
    if (view !== "done" || $("[data-done-closed]").textContent !== closed ||
        $("[data-done-text]").textContent !== msg("msgTheoryEnded")) {
      showDone(msg("msgStopTheory"), msg("msgTheoryEnded"), { closed, help: msg("msgTheoryHelp") });
    }
    return;
  }
  if (paper.on_paper) {
    // The chief judge switched this station to the paper fallback: its answers are the sheet's.
    locked = true;
    if (view !== "done" || $("[data-done-text]").textContent !== msg("msgOnPaper")) {
      showDone(msg("msgStopTheory"), msg("msgOnPaper"), { help: msg("msgOnPaperHelp") });
    }
    return;
  }
  if (paper.submitted_at) {
    locked = true;
    if (view !== "done") showDone("✓", doneText(paper));
    return;
  }
  if (view !== "exam") {
    const first = view === null || view === "waiting" || view === "paused";
    show("exam");
    renderNav();
    renderQuestion();
    if (first) $("[data-question]").focus();  // so the first Tab lands on the question
    queue.flush();  // replay whatever waited in this browser
  }
}

async function pollClock() {
  let body;
  try { body = await clock.poll(); } catch { return; }
  // The hand-in box and the task books take this answer instead of asking on timers of their
  // own (server-clock.js).
  document.dispatchEvent(new CustomEvent("kiosk:clock", { detail: body }));
  if (body.signed_out) signedOut = true;  // released by a field judge, or signed in elsewhere
  showSession(body, document.querySelector("[data-session-name]"));  // its own session's name
  const announcement = (body.announcements || []).slice(-1)[0];
  const note = $("[data-announcement]");
  note.hidden = !announcement;
  if (announcement) note.textContent = announcement.text;
  if (body.station_deadline) deadline = new Date(body.station_deadline);
  const changed = !phase || phase.phase !== body.phase || phase.phase_state !== body.phase_state;
  if (changed) warned = new Set();
  if (phase && phase.phase !== body.phase) { paper = null; locked = false; }
  phase = body;
  await render();
  tick();
  if (body.phase === "theory" && stationState() === "running") queue.flush();
}

function tick() {
  if (!clock.synced) return;
  wallEl.textContent = clock.wallClock();
  const now = clock.now();
  let remaining = null;
  const state = stationState();
  if (phase && state === "scheduled" && phase.phase_starts_at) {
    const startsAt = new Date(phase.phase_starts_at);
    const until = startsAt - now;
    const part = shownPart(phase);
    const reading = part ? (part.reading_minutes || 0) : 0;
    let text = msg("msgStartsIn", { t: countdown(until) });
    if (part && reading && until <= reading * 60000) {
      // Reading time: the task books are out, work starts only at the part's start.
      text = msg("msgReading", { part: part.name, t: clock.wallTime(startsAt, { seconds: false }) });
    } else if (part && part.key !== "theory") {
      text = msg("msgPartStartsIn", { part: part.name, t: countdown(until) });
    }
    app.querySelector("[data-phase-message]").textContent = text;
    if (until <= 0) pollClock();
  }
  if (deadline && ["running", "paused"].includes(state)) remaining = deadline - now;
  countdownBox.hidden = remaining === null;
  if (phase && phase.phase && state === "ended" && view !== "done") render();  // the deadline, between polls
  if (remaining === null) return;
  countdownEl.textContent = countdown(remaining);
  countdownBox.classList.toggle("urgent", remaining < 5 * 60000);
  const practical = app.querySelector("[data-practical-countdown]");
  if (view === "practical") practical.textContent = countdown(remaining);
  for (const minutes of phase.warnings_at_minutes || []) {
    if (remaining <= minutes * 60000 && remaining > (minutes - 1) * 60000 && !warned.has(minutes)) {
      warned.add(minutes);
      const banner = $("[data-warning-banner]");
      banner.textContent = msg("msgWarning", { m: minutes });  // announced once (role=alert)
      banner.hidden = false;
      setTimeout(() => { banner.hidden = true; }, 60000);
    }
  }
}

// A hand-in still in flight at the end may yet go in (the server's grace): list it when it does.
document.addEventListener("kiosk:receipt", () => { if (view === "done" && !$("[data-done-receipts]").hidden) listReceipts(); });

watch();
pollClock();
setInterval(pollClock, POLL_MS);
setInterval(tick, TICK_MS);
