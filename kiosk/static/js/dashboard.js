// The field judges' dashboard updates itself in place: the rows are fetched again and swapped,
// so the judge keeps the scroll position and the focused link (a meta refresh lost both, and
// axe counts it as a violation). Without scripts, the page offers a refresh link instead.
import { interpolate } from "./format.js";
import { fetchFresh } from "./requests.js";

const board = document.querySelector("[data-live-board]");

function focusKey(element) {
  // Rows change, their links do not: a link is the same link if it goes to the same place.
  if (!element || !board.contains(element)) return null;
  const link = element.closest("a[href]");
  if (!link) return null;
  // A seat of the map says its state, which changes: it is the same seat by its place.
  const name = link.closest("[data-hall-map] td") ? "seat" : link.textContent.trim();
  return `a:${link.getAttribute("href")}:${name}`;
}

function findByKey(key) {
  return [...board.querySelectorAll("a[href]")].find((link) => focusKey(link) === key) || null;
}

async function refresh() {
  const stale = board.querySelector("[data-stale]");
  let html;
  try {
    const response = await fetchFresh(location.href);
    if (!response.ok || response.redirected) throw new Error(`dashboard ${response.status}`);
    html = await response.text();
  } catch {
    const at = board.querySelector("[data-updated-at]").textContent;
    stale.textContent = interpolate(board.dataset.staleText, { t: at });
    return;
  }
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const freshBoard = fresh.querySelector("[data-live-board]");
  if (!freshBoard) return;
  const key = focusKey(document.activeElement);
  const { scrollX, scrollY } = window;
  for (const selector of ["h1", "[data-board]", "[data-hall-map]", "[data-updated-at]"]) {
    const mine = board.querySelector(selector), theirs = freshBoard.querySelector(selector);
    if (mine && theirs) mine.innerHTML = theirs.innerHTML;
  }
  stale.textContent = "";
  if (key && !board.contains(document.activeElement)) findByKey(key)?.focus({ preventScroll: true });
  window.scrollTo(scrollX, scrollY);
}

if (board) {
  board.querySelector("[data-refresh-note]").hidden = false;
  const every = Number(board.dataset.refreshSeconds || 15) * 1000;
  setInterval(refresh, every);
}
