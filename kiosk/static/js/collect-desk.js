// The collection desk: the file from the USB stick goes in pieces, like the kiosk's hand-in
// (pieces.js), on the desk's own staff routes with the page's CSRF token.
import { sendInPieces } from "./pieces.js";

const box = document.querySelector("[data-desk-upload]");
if (box) {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const status = box.querySelector("[data-status]");
  const bar = box.querySelector("[data-progress]");
  box.querySelector("[data-send]").addEventListener("click", async () => {
    const file = box.querySelector("[data-file]").files[0];
    const station = encodeURIComponent(box.querySelector("[data-station]").value);
    if (!file) return;
    bar.hidden = false;
    bar.value = 0;
    const result = await sendInPieces(file, {
      open: () => `/collect/uploads?station=${station}&filename=${encodeURIComponent(file.name)}&size=${file.size}`,
      piece: (id, offset) => `/collect/uploads/${encodeURIComponent(id)}?station=${station}&offset=${offset}`,
      state: (id) => `/collect/uploads/${encodeURIComponent(id)}?station=${station}`,
    }, {
      headers: { "X-CSRFToken": csrf },
      onProgress: (part) => { bar.value = Math.floor(part * 100); },
      onRetry: () => { status.textContent = box.dataset.msgResuming; },
    });
    bar.hidden = true;
    if (result.ok) {
      status.textContent = box.dataset.msgDone.replace("%(station)s", result.body.station).replace("%(no)s", result.body.receipt_no);
      setTimeout(() => window.location.reload(), 1500);
    } else {
      status.textContent = result.body.message || String(result.status);
    }
  });
}
