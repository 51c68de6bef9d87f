// A job started from a page (an export, a check of a bundle) runs on the server beside the
// requests; this follows it once a second and reloads the page when it has ended, which then
// says how it ended. The job's state comes from the server only (GET /jobs/<id>).
(function () {
  "use strict";
  var box = document.querySelector("[data-job]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var stage = box.querySelector(".job-stage");
  var amount = box.querySelector(".job-amount");
  var failures = 0;

  function show(job) {
    stage.textContent = job.stage_text || "…";
    amount.textContent = job.amount_text || "";
    if (job.total) {
      bar.max = job.total;
      bar.value = Math.min(job.done, job.total);
    } else {
      bar.removeAttribute("value");  // an indeterminate bar: no total known yet
    }
  }

  function poll() {
    fetch(box.getAttribute("data-job"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 404) {  // the server restarted: the page tells what is left
          window.location.reload();
          return null;
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (job) {
        if (!job) { return; }
        failures = 0;
        show(job);
        if (job.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;  // a dropped network: keep asking, more slowly
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }

  window.setTimeout(poll, 500);
}());
