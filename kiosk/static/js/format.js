// How the pages write what they show: a remaining time, a time of day, a file's size, a
// percentage, and a translated message with its values. One home each, so that the hall's
// big screen, the station's screen and the desks never write the same thing two ways.

const twoDigits = (n) => String(n).padStart(2, "0");

// A remaining time: mm:ss, h:mm:ss from an hour; never negative, and a second that has begun
// still counts (so 00:00 shows only when the time is up).
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  return h ? `${h}:${twoDigits(m)}:${twoDigits(s)}` : `${twoDigits(m)}:${twoDigits(s)}`;
}

// A Date's UTC hours and minutes (and seconds): hh:mm:ss or hh:mm. The caller shifts the Date
// into the zone it means (ServerClock.wallTime: the hall's).
export function formatUTC(date, { seconds = true } = {}) {
  const parts = [date.getUTCHours(), date.getUTCMinutes()];
  if (seconds) parts.push(date.getUTCSeconds());
  return parts.map(twoDigits).join(":");
}

export function fileSize(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

// The share done (0 to 1) as a whole percentage, rounded down: 100 only when all is done.
export const percent = (part) => Math.floor(part * 100);

// The template passes a translated message with its placeholders left in (`%(name)s`, see the
// data-msg-* attributes); the page puts the values in, in the order given.
export function interpolate(text, values = {}) {
  return Object.entries(values).reduce((result, [key, value]) => result.replace(`%(${key})s`, value), text);
}

// The messages an element carries as data-msg-* attributes: msg("msgSaved"), msg("msgScore", { s, f }).
export function messages(element) {
  return (name, values = {}) => interpolate(element.dataset[name] || "", values);
}
