// The hall layout page's live preview: as the chief judge types, the layout is checked on the
// server (never saved) and its map or its problems shown below; Save stores it. Without
// scripts, the Preview button does the same with a page load.
const form = document.querySelector("[data-layout-form]");
const box = document.querySelector("[data-layout-preview-box]");
let timer = null;
let asked = 0;

async function preview() {
  const body = new FormData(form);
  body.set("action", "preview");
  body.set("fragment", "1");
  const mine = ++asked;
  let response;
  try {
    response = await fetch(location.pathname, { method: "POST", body, credentials: "same-origin" });
  } catch {
    return;  // offline: the Preview button still works once the server answers
  }
  if (mine !== asked || response.redirected) return;  // a later keystroke asked again
  const html = await response.text();
  const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-layout-preview]");
  const shown = box.querySelector("[data-layout-preview]");
  if (fresh && shown) shown.replaceWith(fresh);
}

if (form && box) {
  form.querySelector("[data-layout-text]").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  });
}
