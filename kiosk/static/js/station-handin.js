// Handing in work from the workstation: the file in pieces of 1 MiB (pieces.js), each streamed
// by the server through SHA-256 into one age stream; a progress bar; after a dropped network it
// resumes at the server's offset; the receipt when the server has it all.
import { fileSize, messages, percent } from "./format.js";
import { sendInPieces } from "./pieces.js";
import { fetchFresh } from "./requests.js";

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

  const time = (iso) => new Date(iso).toTimeString().slice(0, 8);

  // The version judged (the last one received before the deadline) is marked, as the server
  // says it (/api/v1/collect/mine: judged).
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
    body.hand_ins.forEach(addRow);
  }

  function done(body) {
    bar.hidden = true;
    setBusy(false);
    status.textContent = msg("msgReceived", { no: body.receipt_no });
    input.value = "";
    load();  // the list again from the server, which says which version is judged
    document.dispatchEvent(new CustomEvent("kiosk:receipt", { detail: body }));
  }

  function refused(body) {
    bar.hidden = true;
    setBusy(false);
    status.textContent = body.message || msg("msgFailed");
    input.value = "";
  }

  // The bar and the line under it, for the pieces and for the one request alike.
  function showProgress(part) {
    bar.value = percent(part);
    status.textContent = msg("msgUploading", { p: bar.value, name: sending });
  }

  // One request for the whole file: only where the pieces keep reaching a server that did not
  // open the upload (several servers without affinity).
  function sendWhole(file) {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/collect/upload?filename=${encodeURIComponent(file.name)}`);
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
    setBusy(true);
    sending = file.name;
    refusal.hidden = true;
    bar.hidden = false;
    showProgress(0);
    const result = await sendInPieces(file, { base: "/api/v1/collect/uploads" }, {
      onProgress: showProgress,
      onRetry: (part) => { status.textContent = msg("msgResuming", { p: percent(part), name: sending }); },
    });
    // The receipt only after the server's final 201: the file is fsynced and recorded.
    if (result.ok) done(result.body);
    else if (result.lost) sendWhole(file);
    else refused(result.body);
  }

  input.addEventListener("change", () => { if (input.files[0]) send(input.files[0]); });
  // The end of the part (station-screen.js): the screen changes; nothing new starts from here.
  document.addEventListener("kiosk:handin-closed", () => { closed = true; setBusy(busy); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) send(event.dataTransfer.files[0]);
  });
  load();
}
