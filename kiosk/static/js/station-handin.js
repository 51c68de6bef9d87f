// Handing in work from the workstation: the file in pieces of the server's piece_bytes
// (1984 KiB, pieces.js), each streamed by the server through SHA-256 into one age stream; a
// progress bar; after a dropped network it resumes at the server's offset; the receipt when
// the server has it all.
// Each practical part with a hand-in (模块A, 模块B …) has its own box: the box names the part
// it is for (the clock's `part`), sends it with the file, and lists the hand-ins per part. The
// server decides whether that part still takes hand-ins; a refusal is shown as it says it.
import { fileSize, messages, percent } from "./format.js";
import { sendInPieces } from "./pieces.js";
import { fetchFresh } from "./requests.js";
import { OWN_CLOCK_MS } from "./server-clock.js";

const box = document.querySelector("[data-handin]");
if (box) {
  const input = box.querySelector("[data-file]");
  const zone = box.querySelector("[data-dropzone]");
  const bar = box.querySelector("[data-progress]");
  const status = box.querySelector("[data-handin-status]");
  const table = box.querySelector("[data-receipts]");
  const refusal = box.querySelector("[data-handin-refused]");
  const msg = messages(box);
  let limit = 0;
  let part = null;  // {key, name} the box is for: the clock's part, if it has a hand-in
  let closedFor = null;  // the part whose end closed the box (kiosk:handin-closed)

  // Made here: the workstation's page has no place for it (kiosk/field/templates/field/kiosk.html).
  const partLine = document.createElement("p");
  partLine.className = "handin-part";
  partLine.dataset.handinPart = "";
  partLine.hidden = true;
  box.querySelector("h2").after(partLine);

  function showPart(clockPart) {
    const next = clockPart && clockPart.kind === "practical" && clockPart.hand_in
      ? { key: clockPart.key, name: clockPart.name } : null;
    if (busy) return;  // a file on its way stays with the part it was sent for
    const changed = (next && next.key) !== (part && part.key);
    part = next;
    partLine.hidden = !part;
    partLine.textContent = part
      ? (box.dataset.msgForPart ? msg("msgForPart", { part: part.name }) : part.name) : "";
    if (changed && part && closedFor !== part.key && closed) {
      closed = false;  // a new part's box opens (the end of the previous one closed it)
      setBusy(false);
    }
  }

  async function askClock() {
    try {
      const response = await fetchFresh("/api/v1/clock");
      if (response.ok) showPart((await response.json()).part);
    } catch { /* offline: the next ask */ }
  }

  const time = (iso) => new Date(iso).toTimeString().slice(0, 8);

  // A part's name over its hand-ins, when the day has more than one box.
  function addPartRow(entry) {
    const row = document.createElement("tr");
    row.className = "handin-part-row";
    row.dataset.part = entry.key;
    const th = document.createElement("th");
    th.colSpan = 7;
    th.scope = "colgroup";
    th.textContent = entry.name;  // names are data, never HTML
    row.append(th);
    table.tBodies[0].append(row);
  }

  // The version judged (the last one received before that part's deadline) is marked, as the
  // server says it (/api/v1/collect/mine: judged, one per part).
  function addRow(item) {
    table.hidden = false;
    const row = document.createElement("tr");
    const cells = [item.receipt_no, item.filename, fileSize(item.size),
                   item.sha256.match(/.{1,16}/g).join(" "), time(item.received_at),
                   item.judged ? msg("msgJudged") : ""];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement("td");
      td.textContent = text;  // names are data, never HTML
      if (i === 2) td.className = "num";
      if (i === 3) td.className = "sha";
      if (i === 5 && text) td.className = "judged";
      row.append(td);
    }
    row.classList.toggle("judged", Boolean(item.judged));
    row.dataset.part = item.part;
    const link = document.createElement("a");
    link.href = `/api/v1/collect/receipts/${encodeURIComponent(item.receipt_no)}.pdf`;
    link.target = "_blank";
    link.textContent = "PDF";
    const td = document.createElement("td");
    td.append(link);
    row.append(td);
    table.tBodies[0].append(row);
  }

  async function load() {
    const response = await fetchFresh("/api/v1/collect/mine");
    if (!response.ok) return;
    const body = await response.json();
    limit = body.limit_bytes;
    box.querySelector("[data-limit]").textContent = fileSize(limit);
    table.tBodies[0].replaceChildren();
    const boxes = (body.parts || []).filter((entry) => entry.hand_ins.length);
    if ((body.parts || []).length > 1) {
      for (const entry of boxes) { addPartRow(entry); entry.hand_ins.forEach(addRow); }
    } else {
      body.hand_ins.forEach(addRow);
    }
  }

  function done(body) {
    bar.hidden = true;
    setBusy(false);
    status.textContent = msg("msgReceived", { no: body.receipt_no }) +
      (body.part_name ? ` · ${body.part_name}` : "");
    input.value = "";
    load();  // the list again from the server, which says which version is judged
    document.dispatchEvent(new CustomEvent("kiosk:receipt", { detail: body }));
  }

  function refused(body) {
    bar.hidden = true;
    setBusy(false);
    status.textContent = body.message || msg("msgFailed");
    input.value = "";
    askClock();  // the part may have changed: the box names the one it is for now
  }

  const partQuery = (key) => (key ? `part=${encodeURIComponent(key)}` : "");

  // The bar and the line under it, for the pieces and for the one request alike.
  function showProgress(part) {
    bar.value = percent(part);
    status.textContent = msg("msgUploading", { p: bar.value, name: sending });
  }

  // One request for the whole file: only where the pieces keep reaching a server that did not
  // open the upload (several servers without affinity).
  function sendWhole(file, key) {
    const request = new XMLHttpRequest();
    const query = [`filename=${encodeURIComponent(file.name)}`, partQuery(key)].filter(Boolean);
    request.open("POST", `/api/v1/collect/upload?${query.join("&")}`);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) showProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) done(body); else refused(body);
    };
    request.onerror = () => refused({});
    request.send(file);  // the file itself is the body: nothing is buffered in the page
  }

  // One hand-in at a time, so that the last version is the one chosen last: while a file is
  // going, the chooser is off and a file dropped meanwhile is refused with the reason (the
  // server would abandon the first upload for the second and the order would be a race).
  let busy = false;
  let closed = false;
  let sending = "";  // the name of the file going in, which the progress shows

  function setBusy(value) {
    busy = value;
    input.disabled = busy || closed;
    zone.classList.toggle("busy", busy || closed);
    zone.setAttribute("aria-disabled", String(busy || closed));
  }

  function refuse(file) {
    refusal.textContent = closed ? msg("msgClosed") : msg("msgOneAtATime", { name: file.name });
    refusal.hidden = false;
    // The refused choice leaves the file box: it must not read as the file going in.
    if (input.files[0] === file) input.value = "";
  }

  async function send(file) {
    if (busy || closed) { refuse(file); return; }
    if (limit && file.size > limit) { status.textContent = msg("msgTooLarge"); return; }
    const key = part && part.key;  // the part the box shows is the part the file is for
    setBusy(true);
    sending = file.name;
    refusal.hidden = true;
    bar.hidden = false;
    showProgress(0);
    const result = await sendInPieces(file, { base: "/api/v1/collect/uploads", openQuery: partQuery(key) }, {
      onProgress: showProgress,
      onRetry: (part) => { status.textContent = msg("msgResuming", { p: percent(part), name: sending }); },
    });
    // The receipt only after the server's final 201: the file is fsynced and recorded.
    if (result.ok) done(result.body);
    else if (result.lost) sendWhole(file, key);
    else refused(result.body);
  }

  input.addEventListener("change", () => { if (input.files[0]) send(input.files[0]); });
  // The end of the part (station-screen.js): the screen changes; nothing new starts from here.
  // That part's box only: the next part with a hand-in opens it again.
  document.addEventListener("kiosk:handin-closed", () => {
    closed = true;
    closedFor = part && part.key;
    setBusy(busy);
  });
  // The screen's own poll of the clock, if it shares it; else the box asks now and then.
  let sharedAt = 0;
  document.addEventListener("kiosk:clock", (event) => {
    sharedAt = Date.now();
    showPart(event.detail && event.detail.part);
  });
  // The screen shows a practical part (station-screen.js): the box takes files for that one.
  document.addEventListener("kiosk:part", (event) => showPart(event.detail));
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) send(event.dataTransfer.files[0]);
  });
  load();
  askClock();
  setInterval(() => { if (!busy && Date.now() - sharedAt >= OWN_CLOCK_MS) askClock(); }, OWN_CLOCK_MS);
}
