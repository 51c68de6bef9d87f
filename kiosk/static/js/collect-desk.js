// The collection desk: the file from the USB stick goes as the raw body, like the kiosk's.
const box = document.querySelector("[data-desk-upload]");
if (box) {
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const status = box.querySelector("[data-status]");
  const bar = box.querySelector("[data-progress]");
  box.querySelector("[data-send]").addEventListener("click", () => {
    const file = box.querySelector("[data-file]").files[0];
    const station = box.querySelector("[data-station]").value;
    if (!file) return;
    const request = new XMLHttpRequest();
    request.open("POST", `/collect/upload?station=${encodeURIComponent(station)}&filename=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.setRequestHeader("X-CSRFToken", csrf);
    bar.hidden = false;
    request.upload.onprogress = (event) => { if (event.lengthComputable) bar.value = Math.floor(event.loaded / event.total * 100); };
    request.onload = () => {
      bar.hidden = true;
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status === 201) {
        status.textContent = box.dataset.msgDone.replace("%(station)s", body.station).replace("%(no)s", body.receipt_no);
        setTimeout(() => window.location.reload(), 1500);
      } else {
        status.textContent = body.message || String(request.status);
      }
    };
    request.onerror = () => { bar.hidden = true; status.textContent = String(request.status || "network"); };
    request.send(file);
  });
}
