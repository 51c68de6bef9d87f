// The day as /api/v1/clock gives it (`phase`, `part`, `next_part`, `day`): which part a screen
// shows, what ended last and what comes next. The hall clock and the workstation both read the
// day here, so they never tell the room two different things.
import { interpolate } from "./format.js";

// The session (场次) a screen is about, in an event of several: the clock's `session`
// ({code, name}, null without sessions). An answer without the field changes nothing.
export function showSession(body, element) {
  if (!element || !body || !("session" in body)) return;
  const name = body.session ? body.session.name || body.session.code : "";
  if (element.textContent !== name) element.textContent = name;
  element.hidden = !name;
}

// The part `key` as the day lists it ({key, name, kind, hand_in, state, starts_at, ...}).
export function partOf(body, key) {
  return (body && body.day || []).find((p) => p.key === key) || null;
}

// The part whose clock is shown (`phase`), with its plan.
export const shownPart = (body) => partOf(body, body && body.phase);

// The last part that has ended (its starts_at latest), or null.
export function lastEnded(body) {
  const ended = (body && body.day || []).filter((p) => p.state === "ended" && p.starts_at);
  ended.sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at));
  return ended[0] || null;
}

// What comes after the part under way or just ended: the server's `next_part`, else (before a
// scheduled start) the part scheduled itself.
export function comingPart(body) {
  if (!body) return null;
  if (body.phase_state === "scheduled") return shownPart(body) || body.part;
  if (!body.phase || body.phase_state === "not_started") return body.part || null;  // the first
  return body.next_part || null;
}

// "模块B 10:30 开始" or "模块B": the next part as a line, from the templates' messages
// (labels.next: "Next: %(part)s", labels.nextAt: "Next: %(part)s, starts at %(t)s").
export function nextLine(part, labels, wallTime) {
  if (!part) return "";
  if (part.starts_at) return interpolate(labels.nextAt, { part: part.name, t: wallTime(new Date(part.starts_at)) });
  return interpolate(labels.next, { part: part.name });
}

// "模块A 已结束 · 下一环节：模块B 10:30 开始": between two parts, both halves when known.
export function betweenLine(body, labels, wallTime) {
  const ended = lastEnded(body);
  const next = comingPart(body);
  const pieces = [];
  if (ended && (!next || next.key !== ended.key)) pieces.push(interpolate(labels.ended, { part: ended.name }));
  if (next && (!ended || next.key !== ended.key)) pieces.push(nextLine(next, labels, wallTime));
  return pieces.join(" · ");
}
