// A hand-in in pieces (kiosk/collect/resumable.py): open, then PUT each piece of at most the
// server's piece_bytes at its offset. After a dropped network the server's offset decides where
// to go on, so nothing is sent twice needlessly and a large file never restarts from zero; only
// an upload the server no longer holds (404: restarted, idle too long) starts again.
import { statusAndBody } from "./requests.js";

const RETRY_MS = [500, 1000, 2000, 4000, 5000];
// An upload lost this many times in a row means the pieces reach a server that did not open it
// (several servers without affinity): the caller falls back to one request.
const RESTARTS = 2;

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

const joined = (...params) => params.filter(Boolean).join("&");

// The three routes of an upload at `base` (the station's /api/v1/collect/uploads, the desk's
// /collect/uploads): POST base?…&filename&size opens it, PUT base/<id>?…&offset feeds it, GET
// base/<id> asks how far it got. `query` goes on all three, `openQuery` on the opening only.
function routes(file, { base, query = "", openQuery = "" }) {
  return {
    open: () => `${base}?${joined(query, openQuery, `filename=${encodeURIComponent(file.name)}&size=${file.size}`)}`,
    piece: (id, offset) => `${base}/${encodeURIComponent(id)}?${joined(query, `offset=${offset}`)}`,
    state: (id) => `${base}/${encodeURIComponent(id)}${query ? `?${query}` : ""}`,
  };
}

// at: { base, query, openQuery } (see routes); onProgress and onRetry get the share sent (0 to 1).
// returns { ok: true, body: receipt } | { ok: false, status, body, lost }
export async function sendInPieces(file, at, { headers = {}, onProgress = () => {}, onRetry = () => {} } = {}) {
  const urls = routes(file, at);
  const send = (method, url, body) => fetch(url, {
    method, body, credentials: "same-origin", cache: "no-store",
    headers: body === undefined ? headers : { ...headers, "Content-Type": "application/octet-stream" },
  }).then(statusAndBody);
  let upload = null;
  let offset = 0;
  let restarts = 0;
  let failures = 0;
  for (;;) {
    try {
      if (upload === null) {
        const opened = await send("POST", urls.open());
        if (opened.status !== 201) return { ok: false, ...opened };
        upload = opened.body;
        offset = upload.offset;
      }
      const end = Math.min(offset + upload.piece_bytes, file.size);
      const fed = await send("PUT", urls.piece(upload.upload_id, offset), file.slice(offset, end));
      if ([502, 503, 504].includes(fed.status)) throw new Error("server busy: ask and retry");
      failures = 0;
      if (fed.status === 201) return { ok: true, body: fed.body };
      if (fed.status === 200 ||
          (fed.status === 409 && fed.body && fed.body.error === "offset_mismatch")) {
        offset = fed.body.offset;
        onProgress(offset / file.size);
        continue;
      }
      if (fed.status === 404) {
        upload = null;
        restarts += 1;
        if (restarts > RESTARTS) return { ok: false, lost: true, ...fed };
        onProgress(0);
        continue;
      }
      return { ok: false, ...fed };
    } catch {
      // The network dropped: wait, then ask the server how far it got.
      onRetry(offset / file.size);
      await sleep(RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]);
      failures += 1;
      if (upload === null) continue;
      try {
        const state = await send("GET", urls.state(upload.upload_id));
        if (state.status === 200 && state.body.receipt) return { ok: true, body: state.body.receipt };
        if (state.status === 200) offset = state.body.offset;
        if (state.status === 404) upload = null;
      } catch { /* still offline: try again */ }
    }
  }
}
