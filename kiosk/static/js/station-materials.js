// The workstation's task books (任务书/资料): the files the server lists for this station (its
// parts released and not over for it), with their download links. The screen's clock answer
// carries a tag of that list (materials_tag): the list is asked right after an answer whose
// tag differs from the list shown (on the same connection: server-clock.js), so a hall of
// stations asks for it when it changes, not every 10 s. Nothing shows before the server lists
// a file, and a part over for the station drops off the list.
import { fileSize } from "./format.js";
import { fetchFresh } from "./requests.js";
import { MATERIALS_MS, POLL_MS } from "./server-clock.js";
const panel = document.querySelector("[data-materials]");

function row(item) {
  const tr = document.createElement("tr");
  const link = document.createElement("a");
  link.href = item.url;
  link.download = item.name;
  link.textContent = item.name;  // names are data, never HTML
  const cells = [link, fileSize(item.size), item.sha256.match(/.{1,16}/g).join(" ")];
  for (const [i, content] of cells.entries()) {
    const td = document.createElement("td");
    td.append(content);
    if (i === 1) td.className = "num";
    if (i === 2) td.className = "sha";
    tr.append(td);
  }
  return tr;
}

let shown = "";
let askedAt = 0;
let heardAt = 0;  // the last clock answer the screen shared
let tagShown = null;  // the tag of the list shown (null: none fetched yet)

async function refresh(tag = null) {
  askedAt = Date.now();
  let listed;
  try {
    const response = await fetchFresh("/api/v1/materials");
    if (!response.ok) return;  // signed out or offline: the screen's own script says so
    listed = (await response.json()).materials || [];
  } catch {
    return;  // the tag stays unmatched: asked again after the next clock answer
  }
  tagShown = tag;
  const key = JSON.stringify(listed);
  if (key === shown) return;  // redraw only on change: a click on a link is never lost
  shown = key;
  panel.querySelector("[data-materials-list]").replaceChildren(...listed.map(row));
  panel.hidden = listed.length === 0;
}

function onClock(event) {
  heardAt = Date.now();
  const tag = event.detail && event.detail.materials_tag;
  if (typeof tag === "string") {
    if (tag !== tagShown) refresh(tag);  // the list changed (or was never fetched)
  } else if (Date.now() - askedAt >= MATERIALS_MS - POLL_MS / 2) {
    refresh();  // a clock answer without a tag: every second one, as before
  }
}

if (panel) {
  // On a timer of its own only while no clock answer comes (the screen's script is the one
  // that says the server is gone; this keeps the list right if it comes back alone).
  document.addEventListener("kiosk:clock", onClock);
  setInterval(() => {
    if (Date.now() - heardAt >= MATERIALS_MS + POLL_MS && Date.now() - askedAt >= MATERIALS_MS) refresh();
  }, MATERIALS_MS);
}
