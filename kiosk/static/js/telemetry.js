// What the exam page notices, for the field judges: focus lost, page hidden, full screen left,
// and the copy, paste, context-menu and print attempts that the page blocks. Reported in small
// batches; never a penalty by itself.
import { sendJSON } from "./requests.js";

const queue = [];
let timer = null;

export function report(kind, detail = "") {
  queue.push({ kind, detail: String(detail).slice(0, 200) });
  if (!timer) timer = setTimeout(flush, 3000);
}

async function flush() {
  timer = null;
  const events = queue.splice(0, 20);
  if (!events.length) return;
  try {
    const response = await sendJSON("POST", "/api/v1/station/telemetry", { events });
    if (!response.ok && response.status >= 500) queue.unshift(...events);
  } catch {
    queue.unshift(...events);  // offline: keep them for the next try
  }
  if (queue.length && !timer) timer = setTimeout(flush, 5000);
}

export function watch() {
  window.addEventListener("blur", () => report("blur"));
  document.addEventListener("visibilitychange", () => { if (document.hidden) report("hidden"); });
  document.addEventListener("fullscreenchange", () => { if (!document.fullscreenElement) report("fullscreen_exit"); });
  for (const kind of ["copy", "cut", "paste", "contextmenu"]) {
    document.addEventListener(kind, (event) => { event.preventDefault(); report(kind); });
  }
  document.addEventListener("selectstart", (event) => {
    if (!event.target.closest || !event.target.closest("input, textarea")) event.preventDefault();
  });
  window.addEventListener("beforeprint", () => report("print"));
  document.addEventListener("keydown", (event) => {
    const key = event.key.toUpperCase();
    if (key === "F12" || ((event.ctrlKey || event.metaKey) && event.shiftKey && ["I", "J", "C"].includes(key))) {
      event.preventDefault();
      report("devtools_key", key);
    }
    if ((event.ctrlKey || event.metaKey) && ["P", "S", "U"].includes(key)) {
      event.preventDefault();
      report(key === "P" ? "print" : "devtools_key", key);
    }
  }, true);
}
