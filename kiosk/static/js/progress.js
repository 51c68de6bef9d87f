// The hall's progress page (/field/progress) fetches itself again every 30 s at most and swaps
// its chart and table in place (no meta refresh: it loses the scroll position and axe counts
// it). A page not shown (another tab) is not fetched. Without scripts: a refresh link.
import { interpolate } from "./format.js";
import { fetchFresh } from "./requests.js";

const box = document.querySelector("[data-live-progress]");

async function refresh() {
  if (document.hidden) return;
  const stale = box.querySelector("[data-stale]");
  let html;
  try {
    const response = await fetchFresh(location.href);
    if (!response.ok || response.redirected) throw new Error(`progress ${response.status}`);
    html = await response.text();
  } catch {
    const at = box.querySelector("[data-updated-at]").textContent;
    stale.textContent = interpolate(box.dataset.staleText, { t: at });
    return;
  }
  const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-progress]");
  if (!fresh) return;
  if (!("refreshSeconds" in fresh.dataset)) {
    // The part is over for every station: its figures are final, the page is loaded once more
    // to show them and then left alone.
    clearInterval(timer);
    location.reload();
    return;
  }
  const { scrollX, scrollY } = window;
  const open = box.querySelector("details")?.open;
  for (const selector of ["[data-progress-body]", "[data-updated-at]"]) {
    const mine = box.querySelector(selector), theirs = fresh.querySelector(selector);
    if (mine && theirs) mine.innerHTML = theirs.innerHTML;
  }
  const details = box.querySelector("details");
  if (details && open) details.open = true;
  stale.textContent = "";
  window.scrollTo(scrollX, scrollY);
}

let timer;
if (box && "refreshSeconds" in box.dataset) {
  box.querySelector("[data-refresh-note]").hidden = false;
  const every = Math.max(30, Number(box.dataset.refreshSeconds || 30)) * 1000;
  timer = setInterval(refresh, every);
}
