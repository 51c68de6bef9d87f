// The collection desk: the file from the USB stick goes in pieces, like the station's hand-in
// (pieces.js), on the desk's own staff routes with the page's CSRF token.
// One form is one hand-in: a second press while it is sending does nothing, and the form's
// token makes the server answer a repeat with the first receipt (kiosk/collect/views.py).
// A station nobody drew is taken only after the judge read the server's warning and confirmed.
import { messages, percent } from "./format.js";
import { sendInPieces } from "./pieces.js";
import { csrfToken } from "./requests.js";

const box = document.querySelector("[data-desk-upload]");
if (box) {
  const csrf = csrfToken();
  const msg = messages(box);
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
    return sendInPieces(file, {
      base: "/collect/uploads",
      query: `station=${station}`,
      openQuery: `form_token=${token}${confirm ? "&confirm=1" : ""}`,
    }, {
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      onProgress: (part) => { bar.value = percent(part); },
      onRetry: () => { status.textContent = msg("msgResuming"); },
    });
  };

  const done = (receipt) => {
    status.textContent = msg("msgDone", { station: receipt.station, no: receipt.receipt_no });
    // A new form (and token) for the next hand-in; the page says what was received.
    setTimeout(() => window.location.assign(`/collect?received=${encodeURIComponent(receipt.receipt_no)}`), 1500);
  };

  button.addEventListener("click", async () => {
    if (busy) return;
    const file = box.querySelector("[data-file]").files[0];
    if (!file) { status.textContent = msg("msgChoose"); return; }
    const station = encodeURIComponent(box.querySelector("[data-station]").value);
    busy = true;
    button.disabled = true;
    status.textContent = msg("msgSending");
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
    status.textContent = result.cancelled ? msg("msgCancelled")
      : (result.body && result.body.message) || String(result.status);
    busy = false;
    button.disabled = false;
  });
}
