// Handing in work from the workstation: the raw file as the request body (streamed by the
// server through SHA-256 and age), a progress bar, and the receipt when the server has it all.
const box = document.querySelector("[data-handin]");
if (box) {
  const input = box.querySelector("[data-file]");
  const zone = box.querySelector("[data-dropzone]");
  const bar = box.querySelector("[data-progress]");
  const status = box.querySelector("[data-handin-status]");
  const table = box.querySelector("[data-receipts]");
  const msg = (name, values = {}) => Object.entries(values).reduce(
    (text, [k, v]) => text.replace(`%(${k})s`, v), box.dataset[name] || "");
  let limit = 0;

  const size = (n) => n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
  const time = (iso) => new Date(iso).toTimeString().slice(0, 8);

  function addRow(item) {
    table.hidden = false;
    const row = document.createElement("tr");
    const cells = [item.receipt_no, item.filename, size(item.size),
                   item.sha256.match(/.{1,16}/g).join(" "), time(item.received_at)];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement("td");
      td.textContent = text;  // names are data, never HTML
      if (i === 2) td.className = "num";
      if (i === 3) td.className = "sha";
      row.append(td);
    }
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
    const response = await fetch("/api/v1/collect/mine", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const body = await response.json();
    limit = body.limit_bytes;
    box.querySelector("[data-limit]").textContent = size(limit);
    table.tBodies[0].replaceChildren();
    body.hand_ins.forEach(addRow);
  }

  function send(file) {
    if (limit && file.size > limit) { status.textContent = msg("msgTooLarge"); return; }
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/collect/upload?filename=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    bar.hidden = false;
    bar.value = 0;
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      bar.value = Math.floor((event.loaded / event.total) * 100);
      status.textContent = msg("msgUploading", { p: bar.value });
    };
    request.onload = () => {
      bar.hidden = true;
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) {
        status.textContent = msg("msgReceived", { no: body.receipt_no });
        addRow(body);
      } else {
        status.textContent = body.message || msg("msgFailed");
      }
      input.value = "";
    };
    request.onerror = () => { bar.hidden = true; status.textContent = msg("msgFailed"); };
    request.send(file);  // the file itself is the body: nothing is buffered in the page
  }

  input.addEventListener("change", () => { if (input.files[0]) send(input.files[0]); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files[0]) send(event.dataTransfer.files[0]);
  });
  load();
}
