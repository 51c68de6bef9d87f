// The server's clock, as seen from a workstation whose own clock may be minutes or hours wrong.
// Each poll measures offset = server_time - local midpoint of the request; the page shows
// local time + offset, so a wrong workstation clock never changes what the contestant sees.
export class ServerClock {
  constructor() { this.offsetMs = 0; this.synced = false; this.last = null; }

  async poll(url = "/api/v1/clock") {
    const sentAt = Date.now();
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
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

  // Wall-clock time in the hall's zone (the server's), whatever zone the workstation is set to.
  wallClock() {
    const zoneMinutes = this.last ? this.last.server_utc_offset_minutes || 0 : 0;
    return formatUTC(new Date(this.now().getTime() + zoneMinutes * 60000));
  }
}

export function formatUTC(date) {
  return [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((n) => String(n).padStart(2, "0")).join(":");
}
