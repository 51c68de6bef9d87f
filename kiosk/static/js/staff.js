// Staff pages: a button with data-confirm asks before its form is sent (drawing the review
// sample, locking, unsealing cannot be undone casually).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// An import form (data-upload-progress="BYTES"): while the file goes up and the server reads it,
// the form says so. A file of BYTES or more is sent by XMLHttpRequest, with a bar of the bytes
// sent; the page the server answers with (its problem list, or the page after the import)
// then replaces this one. A smaller file is sent as any form.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-upload-progress]");
  if (!form) { return; }
  const input = form.querySelector("input[type=file]");
  const file = input && input.files[0];
  const box = form.querySelector(".upload-progress");
  const bar = box.querySelector("progress");
  const status = box.querySelector(".upload-status");
  const button = form.querySelector("button[type=submit]");
  box.hidden = false;
  bar.removeAttribute("value");
  status.textContent = form.dataset.importing;
  if (!file || file.size < Number(form.dataset.uploadProgress)) { return; }
  event.preventDefault();
  button.disabled = true;
  const request = new XMLHttpRequest();
  request.open("POST", form.action || window.location.href);
  request.upload.addEventListener("progress", (progress) => {
    if (!progress.lengthComputable) { return; }
    bar.max = progress.total;
    bar.value = progress.loaded;
    const share = Math.floor((100 * progress.loaded) / progress.total) + "%";
    status.textContent = form.dataset.uploading + " " + share;
  });
  request.upload.addEventListener("load", () => {
    bar.removeAttribute("value");
    status.textContent = form.dataset.importing;
  });
  request.addEventListener("load", () => {
    // The answer is a whole page (after a redirect, the page it led to, with its message).
    window.history.replaceState(null, "", request.responseURL || window.location.href);
    document.open();
    document.write(request.responseText);
    document.close();
  });
  request.addEventListener("error", () => {
    button.disabled = false;
    bar.value = 0;
    status.textContent = form.dataset.failed;
  });
  request.send(new FormData(form));
});
