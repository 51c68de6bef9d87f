// The workstation's task books (任务书/资料): the files the server lists for this station (its
// parts released and not over for it), with their download links. Asked every 10 s, right
// after the screen's clock answer (one wake-up of the server, on the same connection: server-
// clock.js); nothing shows before the server lists a file, and a part over for the station
// drops off the list.
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

async function refresh() {
  askedAt = Date.now();
  let listed;
  try {
    const response = await fetchFresh("/api/v1/materials");
    if (!response.ok) return;  // signed out or offline: the screen's own script says so
    listed = (await response.json()).materials || [];
  } catch {
    return;
  }
  const key = JSON.stringify(listed);
  if (key === shown) return;  // redraw only on change: a click on a link is never lost
  shown = key;
  panel.querySelector("[data-materials-list]").replaceChildren(...listed.map(row));
  panel.hidden = listed.length === 0;
}

if (panel) {
  refresh();
  // Every second clock answer the screen shares; on a timer of its own only if none come.
  document.addEventListener("kiosk:clock", () => { if (Date.now() - askedAt >= MATERIALS_MS - POLL_MS / 2) refresh(); });
  setInterval(() => { if (Date.now() - askedAt >= MATERIALS_MS + POLL_MS) refresh(); }, MATERIALS_MS);
}
