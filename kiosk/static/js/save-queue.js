// The kiosk's answer queue: no acknowledged answer is ever lost, no unacknowledged one forgotten.
//
// Every choice gets an increasing seq and waits in localStorage until the server acknowledges
// it (or a newer choice for the same question). Failed sends retry with backoff; after a reload
// or reconnect the waiting choices are replayed in seq order. The server ignores an older seq,
// so a late replay can never overwrite a newer answer.

import { sendJSON, statusAndBody } from "./requests.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class SaveQueue {
  constructor({ station, send, now, onStatus, onLocked, onSignedOut, onConnection }) {
    this.key = `kiosk.answers.${station}`;
    this.seqKey = `kiosk.seq.${station}`;
    this.send = send;  // async (qid, choice, seq) -> {status, body}
    this.now = now || (() => new Date());  // the server's time, to tell when a choice was made
    this.acked = {};  // qid -> the choice the server last acknowledged from this browser
    this.onStatus = onStatus || (() => {});
    this.onLocked = onLocked || (() => {});
    this.onSignedOut = onSignedOut || (() => {});
    this.onConnection = onConnection || (() => {});
    this.pending = this.load();
    this.seq = Number(localStorage.getItem(this.seqKey) || 0);
    this.attempt = 0;
    this.timer = null;
    this.running = false;
    this.locked = false;
  }

  load() {
    try { return JSON.parse(localStorage.getItem(this.key) || "{}"); } catch { return {}; }
  }

  persist() {
    localStorage.setItem(this.key, JSON.stringify(this.pending));
    localStorage.setItem(this.seqKey, String(this.seq));
  }

  // After loading the paper: never reuse a seq the server has seen.
  syncSeq(serverLastSeq) {
    this.seq = Math.max(this.seq, serverLastSeq || 0);
    this.persist();
  }

  // What the page should show: the server's acknowledged answers overlaid with the waiting ones.
  merge(serverAnswers) {
    const merged = { ...serverAnswers };
    for (const [qid, item] of Object.entries(this.pending)) merged[qid] = item.choice;
    return merged;
  }

  status(qid) { return this.pending[qid] ? (this.pending[qid].failed ? "failed" : "pending") : "saved"; }

  hasPending() { return Object.keys(this.pending).length > 0; }

  put(qid, choice) {
    this.seq += 1;
    this.pending[qid] = { choice, seq: this.seq, at: this.now().getTime() };
    this.persist();
    this.onStatus(qid, "pending");
    this.flush();
  }

  async flush() {
    if (this.running || this.locked) return;
    this.running = true;
    clearTimeout(this.timer);
    try {
      const items = Object.entries(this.pending).sort((a, b) => a[1].seq - b[1].seq);
      for (const [qid, item] of items) {
        let response;
        try {
          response = await this.send(qid, item.choice, item.seq);
        } catch (error) {
          this.retryLater();
          return;
        }
        if (response.status === 200) {
          const body = response.body || {};
          // Acknowledged: this seq, or a newer one of this browser, is what the server holds.
          if (body.saved || (body.current_seq || 0) >= item.seq) {
            if (body.saved) this.acked[qid] = item.choice;
            if (this.pending[qid] && this.pending[qid].seq === item.seq) delete this.pending[qid];
            this.persist();
            this.onStatus(qid, this.status(qid));
          } else {
            // The server holds a newer answer than this one: this one is obsolete.
            if (this.pending[qid] && this.pending[qid].seq === item.seq) delete this.pending[qid];
            this.persist();
          }
          this.attempt = 0;
          this.onConnection(true);
        } else if (response.status === 423 ||
                   (response.status === 409 && (response.body || {}).error === "on_paper")) {
          // Closed (time up, handed in), or this station now answers on paper: nothing more
          // is sent, and the screen asks the server why. Never "saved".
          this.locked = true;
          this.onLocked(response.body || {});
          return;
        } else if (response.status === 401) {
          this.onSignedOut();
          return;
        } else if (response.status >= 400 && response.status < 500) {
          // The server will never take this one (not an option, not on the paper): drop it.
          delete this.pending[qid];
          this.persist();
          this.onStatus(qid, "saved");
        } else {
          this.retryLater();
          return;
        }
      }
    } finally {
      this.running = false;
    }
    if (this.hasPending()) this.flush();
  }

  retryLater() {
    this.onConnection(false);
    for (const qid of Object.keys(this.pending)) {
      this.pending[qid].failed = true;
      this.onStatus(qid, "failed");
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(() => { this.running = false; this.flush(); }, delay);
    this.running = false;
  }

  unlock() { this.locked = false; }

  // A pause takes no input: the choices made since `since` (the pause's start, on the server's
  // clock) are forgotten, never sent after the resume. Returns their question ids.
  dropSince(since) {
    const dropped = Object.keys(this.pending).filter((qid) => !(this.pending[qid].at < since.getTime()));
    for (const qid of dropped) delete this.pending[qid];
    this.persist();
    for (const qid of dropped) this.onStatus(qid, "saved");
    return dropped;
  }
}

// The HTTP side, kept apart so that the queue can be tested with a fake.
export async function sendAnswer(qid, choice, seq) {
  return statusAndBody(await sendJSON("PUT", `/api/v1/exam/answers/${encodeURIComponent(qid)}`, { choice, seq }));
}
