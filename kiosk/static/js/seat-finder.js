// The check-in desk's 查看座位: the station a contestant drew, typed in, shows their seat on the
// hall map below the desk (every other seat blank), and hides it again after a minute, or on
// Done, or at the next scan, so the next person in the queue does not see it.
const form = document.querySelector("[data-seat-form]");
const box = document.querySelector("[data-seat-box]");
const SHOWN_FOR = 60 * 1000;
let timer = null;

function hide() {
  clearTimeout(timer);
  box.replaceChildren();
}

async function show(station) {
  const url = `${form.action}?station=${encodeURIComponent(station)}&fragment=1`;
  let html;
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (response.redirected) { location.href = url.replace("&fragment=1", ""); return; }
    html = await response.text();
  } catch {
    form.submit();  // the page itself says what went wrong
    return;
  }
  const view = new DOMParser().parseFromString(html, "text/html").querySelector("[data-seat-view]");
  if (!view) return;
  box.replaceChildren(view);
  view.querySelector("[data-seat-close]")?.addEventListener("click", () => {
    hide();
    form.querySelector("[data-seat-input]").focus();
  });
  clearTimeout(timer);
  timer = setTimeout(hide, SHOWN_FOR);
}

if (form && box) {
  form.addEventListener("submit", (event) => {
    const station = form.querySelector("[data-seat-input]").value.trim();
    if (!station) return;
    event.preventDefault();
    show(station);
    form.querySelector("[data-seat-input]").value = "";
  });
  // The next contestant's scan hides the previous one's seat.
  for (const other of document.querySelectorAll("[data-scan-form], [data-name-form]")) {
    other.addEventListener("submit", hide);
  }
}
