// The server's clock, as seen from a workstation whose own clock may be minutes or hours wrong.
// Each poll measures offset = server_time - local midpoint of the request; the page shows
// local time + offset, so a wrong workstation clock never changes what the contestant sees.
import { formatUTC } from "./format.js";
import { fetchFresh } from "./requests.js";

// How often a screen asks (a station's poll is also its heartbeat: kiosk/api.py) and redraws.
// A station's page asks nothing else on a timer of its own: the hand-in box and the task books
// take the screen's answer (the "kiosk:clock" event), so the station wakes the server once per
// poll, and the server closes the connection between polls (keepalive_idle_seconds, 1 s): a
// station holds a socket about a fifth of the time, what lets a Windows server (select(): 512
// sockets) hold 500 seats (docs/operations.md).
export const POLL_MS = 5000;
export const TICK_MS = 250;
// The task books are asked after every second clock answer.
export const MATERIALS_MS = 2 * POLL_MS;
// The hand-in box asks the clock itself only when no screen has shared it for this long.
export const OWN_CLOCK_MS = 3 * POLL_MS;

export class ServerClock {
  constructor() { this.offsetMs = 0; this.synced = false; this.last = null; }

  async poll(url = "/api/v1/clock") {
    const sentAt = Date.now();
    const response = await fetchFresh(url);
    const receivedAt = Date.now();
    if (!response.ok) throw new Error(`clock ${response.status}`);
    const body = await response.json();
    const serverMs = Date.parse(body.server_time);
    const roundTrip = receivedAt - sentAt;
    // A slow answer says little about the offset; keep the previous one unless we have none.
    if (!this.synced || roundTrip < 2000) {
      this.offsetMs = serverMs - (sentAt + roundTrip / 2);
      this.synced = true;
    }
    this.last = body;
    return body;
  }

  now() { return new Date(Date.now() + this.offsetMs); }

  // A moment as the hall's wall clock shows it (the server's zone), whatever zone the
  // workstation is set to: hh:mm:ss, or hh:mm with { seconds: false }.
  wallTime(date, { seconds = true } = {}) {
    const zoneMinutes = this.last ? this.last.server_utc_offset_minutes || 0 : 0;
    return formatUTC(new Date(date.getTime() + zoneMinutes * 60000), { seconds });
  }

  wallClock() { return this.wallTime(this.now()); }
}
