// How the pages ask the server: the state as it is now (never a cached copy), a JSON body sent,
// the answer's JSON read (or {} where it has none), and the staff pages' CSRF token.

export function fetchFresh(url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store" });
}

export function sendJSON(method, url, value, headers = {}) {
  return fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(value),
  });
}

// An empty or HTML body (a proxy's error page, a 204): the status says enough.
export async function jsonBody(response) {
  try { return await response.json(); } catch { return {}; }
}

export async function statusAndBody(response) {
  return { status: response.status, body: await jsonBody(response) };
}

// In every page's <meta> (base.html), for the staff routes; the JSON API under /api/v1 needs none
// (its guard checks the origin and the content type: web.api_csrf_guard).
export function csrfToken() {
  return document.querySelector("meta[name=csrf-token]").content;
}
