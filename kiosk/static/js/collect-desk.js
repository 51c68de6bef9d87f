// The collection desk: the file from the USB stick goes in pieces, like the kiosk's hand-in
// (pieces.js), on the desk's own staff routes with the page's CSRF token.
// One form is one hand-in: a second press while it is sending does nothing, and the form's
// token makes the server answer a repeat with the first receipt (kiosk/collect/views.py).
// A station nobody drew is taken only after the judge read the server's warning and confirmed.
import { sendInPieces } from "./pieces.js";

const box = document.querySelector("[data-desk-upload]");
if (box) {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const status = box.querySelector("[data-status]");
  const bar = box.querySelector("[data-progress]");
  const button = box.querySelector("[data-send]");
  const dialog = document.querySelector("[data-confirm]");
  const token = encodeURIComponent(box.dataset.formToken);
  let busy = false;

  const confirmed = (message) => new Promise((resolve) => {
    dialog.querySelector("[data-confirm-text]").textContent = message;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });

  const handIn = (file, station, confirm) => {
    const base = `station=${station}&form_token=${token}`;
    return sendInPieces(file, {
      open: () => `/collect/uploads?${base}${confirm ? "&confirm=1" : ""}&filename=${encodeURIComponent(file.name)}&size=${file.size}`,
      piece: (id, offset) => `/collect/uploads/${encodeURIComponent(id)}?station=${station}&offset=${offset}`,
      state: (id) => `/collect/uploads/${encodeURIComponent(id)}?station=${station}`,
    }, {
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      onProgress: (part) => { bar.value = Math.floor(part * 100); },
      onRetry: () => { status.textContent = box.dataset.msgResuming; },
    });
  };

  const done = (receipt) => {
    status.textContent = box.dataset.msgDone.replace("%(station)s", receipt.station).replace("%(no)s", receipt.receipt_no);
    // A new form (and token) for the next hand-in; the page says what was received.
    setTimeout(() => window.location.assign(`/collect?received=${encodeURIComponent(receipt.receipt_no)}`), 1500);
  };

  button.addEventListener("click", async () => {
    if (busy) return;
    const file = box.querySelector("[data-file]").files[0];
    if (!file) { status.textContent = box.dataset.msgChoose; return; }
    const station = encodeURIComponent(box.querySelector("[data-station]").value);
    busy = true;
    button.disabled = true;
    status.textContent = box.dataset.msgSending;
    bar.hidden = false;
    bar.value = 0;
    let result = await handIn(file, station, false);
    if (result.status === 409 && result.body.error === "station_not_drawn") {
      bar.hidden = true;
      if (await confirmed(result.body.message)) {
        bar.hidden = false;
        result = await handIn(file, station, true);
      } else {
        result = { ok: false, cancelled: true };
      }
    }
    bar.hidden = true;
    // 200 with a receipt: this form had handed in already (its answer was lost, or a repeat).
    const receipt = result.ok ? result.body : result.status === 200 && result.body.receipt;
    if (receipt) {
      done(receipt);
      return; // stays disabled until the page reloads with a new form
    }
    status.textContent = result.cancelled ? box.dataset.msgCancelled
      : (result.body && result.body.message) || String(result.status);
    busy = false;
    button.disabled = false;
  });
}
