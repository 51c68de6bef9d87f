"""The clocks of the day's parts (理论知识考试, 模块A …; the parts are kiosk.stations.timetable's):
start, pause, resume, end, and per-station extensions. One part runs at a time, for every
station: a part cannot start while another still runs for any station (its extensions
included), and an extension cannot run into a later part's start (docs/lockdown.md). The rule
is the hall's, across sessions (场次): the stations serve one session at a time, so a session's
part cannot start while a part of another session still runs, nor be scheduled over one.

Only deadlines are stored. The rules that read them are pure functions in kiosk.clock; a
station's window (the phase and its extensions) is read by kiosk.stations.window.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotFound, Term
from kiosk.models import ExamSession
from kiosk.stations import timetable
from kiosk.stations.models import Extension, PhasePause, PhaseRow, Station
from kiosk.stations.window import as_rule, phase_windows

MAX_MINUTES = 24 * 60
# What people read for each state (translated where shown).
STATE_LABELS = {"not_started": N_("not started"), "scheduled": N_("scheduled"),
                "running": N_("running"), "paused": N_("paused"), "ended": N_("ended")}


def display_name(session: Session, name: str) -> Term:
    """The part's name as the timetable gives it (理论知识考试, 模块A：…): every page and message
    that names a part asks this, never shows the key. A Term: translated with its message."""
    return timetable.display_name(session, name)


def get_phase(session: Session, name: str) -> PhaseRow | None:
    return session.scalar(select(PhaseRow).where(PhaseRow.name == name))


def _check_name(session: Session, name: str) -> None:
    known = timetable.keys(session)
    if name not in known:
        raise NotFound(N_("No part %(part)s in the timetable; its parts are %(keys)s."),
                       part=name, keys=", ".join(known))


def start(session: Session, name: str, minutes: float, *, actor: audit.Actor, now: datetime,
          at: datetime | None = None) -> PhaseRow:
    """Start now, or schedule for `at`, which is never in the past (a phase scheduled for last
    year would be over before anyone saw it, and could never be started again). A scheduled
    phase may be scheduled again (its start changes) or started now; a started one cannot."""
    _check_name(session, name)
    if not 0 < minutes <= MAX_MINUTES:
        raise KioskError(N_("A phase lasts between a few seconds and 24 hours."))
    if at is not None and at < now:
        raise KioskError(N_("The start time %(at)s is already past (now %(now)s): choose a "
                            "later time, or leave it empty to start now."),
                         at=clock.local_display(at, "%Y-%m-%d %H:%M"),
                         now=clock.local_display(now, "%Y-%m-%d %H:%M:%S"))
    starts_at = at or now
    with write_transaction(session):
        row = get_phase(session, name)
        if clock.has_started(as_rule(row), now):
            raise Conflict(N_("%(phase)s has started already."), phase=display_name(session, name))
        _one_part_at_a_time(session, name, starts_at, starts_at + timedelta(minutes=minutes),
                            now)
        was_scheduled = row.starts_at if row is not None else None
        if row is None:
            row = PhaseRow(name=name, minutes=minutes, updated_at=now)
            session.add(row)
        row.minutes = minutes
        row.starts_at = starts_at
        row.ends_at = starts_at + timedelta(minutes=minutes)
        row.paused_at = None
        row.ended_at = None
        row.updated_at = now
        session.flush()
        details = {"starts_at": clock.iso(row.starts_at), "ends_at": clock.iso(row.ends_at),
                   "minutes": minutes}
        if at is None:
            action = "phase.started"
        elif was_scheduled is not None:
            action = "phase.rescheduled"
            details["was_starts_at"] = clock.iso(was_scheduled)
        else:
            action = "phase.scheduled"
        audit.record(session, actor, action, at=now, subject=name, details=details)
    return row


def _the_halls_other_parts(session: Session, name: str, *conditions) -> list[PhaseRow]:
    """Every part of the hall's day but `name` of this session: this session's other parts and
    every part of the other sessions (the hall's stations serve one session at a time)."""
    own = scope.current(session)
    with scope.event_wide(session):
        rows = session.scalars(select(PhaseRow).where(PhaseRow.starts_at.is_not(None),
                                                      *conditions)).all()
    return [row for row in rows
            if row.name != name or (own is not None and row.exam_session_id != own.id)]


def _refused(session: Session, other: PhaseRow, same_session: str, other_session: str,
             **params) -> Conflict:
    """The refusal naming `other`: by its part's name; a part of another session names that
    session too (its own message, so that every word is translated)."""
    own = scope.current(session)
    if own is None or other.exam_session_id == own.id:
        return Conflict(same_session, phase=display_name(session, other.name), **params)
    exam_session = _session_of(session, other)
    with _of_its_session(session, other):
        name = display_name(session, other.name)
    return Conflict(other_session, phase=name,
                    session=exam_session.name or exam_session.code, **params)


def _session_of(session: Session, row: PhaseRow) -> ExamSession:
    with scope.event_wide(session):
        return session.get(ExamSession, row.exam_session_id)


@contextmanager
def _of_its_session(session: Session, row: PhaseRow) -> Iterator[None]:
    """Read or write about `row` as its own session (its timetable's names; the audit log
    names the session)."""
    own = scope.current(session)
    if own is None or row.exam_session_id == own.id:
        yield
        return
    exam_session = _session_of(session, row)
    with scope.within(session, scope.Scope(exam_session.id, exam_session.code)):
        yield


def _one_part_at_a_time(session: Session, name: str, starts_at: datetime, ends_at: datetime,
                        now: datetime) -> None:
    """Refuse a start (or schedule) of `name` from `starts_at` to `ends_at` that would overlap
    another part of the hall's day (this session's or another's): one scheduled in that span,
    or one still running then for any station, its extensions included. Ending a part
    explicitly (which ends every extension) is the chief judge's way to start the next one
    sooner; nothing ends silently."""
    for other in _the_halls_other_parts(session, name):
        rule = as_rule(other)
        state = clock.phase_state(rule, now)
        if state == "ended":
            continue
        if state == "scheduled":
            if other.starts_at < ends_at and starts_at < other.ends_at:
                raise _refused(
                    session, other,
                    N_("%(phase)s is scheduled from %(start)s to %(end)s, and one part runs "
                       "at a time: choose a start after it, or move it first."),
                    N_("%(phase)s of session %(session)s is scheduled from %(start)s to "
                       "%(end)s: the hall's stations serve one session at a time. Choose a "
                       "start after it, or move it first."),
                    start=clock.local_display(other.starts_at, "%H:%M:%S"),
                    end=clock.local_display(other.ends_at, "%H:%M:%S"))
            continue
        windows = phase_windows(session, other)
        if windows.over_for_everyone(now):
            continue
        if state == "paused":
            raise _refused(
                session, other,
                N_("%(phase)s is paused, not over: resume or end it first (one part runs at a "
                   "time)."),
                N_("%(phase)s of session %(session)s is paused, not over: the hall's stations "
                   "serve one session at a time; resume or end it first."))
        last = windows.last_deadline(now)
        if last is not None and last > starts_at:
            still = _stations_working_after(session, windows, starts_at, now)
            raise _refused(
                session, other,
                N_("%(phase)s runs until %(until)s for %(stations)s, and one part runs at a "
                   "time: start after then, or end %(phase)s first (which ends every "
                   "extension in it)."),
                N_("%(phase)s of session %(session)s runs until %(until)s for %(stations)s: "
                   "the hall's stations serve one session at a time. Start after then, or end "
                   "%(phase)s of session %(session)s first (which ends every extension in it)."),
                until=clock.local_display(last, "%H:%M:%S"),
                stations=still or Term(N_("every station")))


def _stations_working_after(session: Session, windows, moment: datetime, now: datetime) -> str:
    """The stations whose own deadline in `windows` is after `moment`, if only some are."""
    base = clock.station_deadline(windows.phase, (), now)
    if base is not None and base > moment:
        return ""
    late = [station_id for station_id in windows.extensions
            if (windows.of(station_id).deadline(now) or moment) > moment]
    with scope.event_wide(session):  # `windows` may be of another session's part
        codes = session.scalars(select(Station.code).where(Station.id.in_(late))
                                .order_by(Station.code)).all()
    return ", ".join(codes)


def cancel(session: Session, name: str, *, actor: audit.Actor, now: datetime) -> PhaseRow:
    """Call off a scheduled start before it begins: the phase is not started again, and can be
    scheduled or started anew."""
    _check_name(session, name)
    with write_transaction(session):
        row = get_phase(session, name)
        state = clock.phase_state(as_rule(row), now)
        if state == "not_started":
            raise Conflict(N_("%(phase)s is not scheduled."), phase=display_name(session, name))
        if state != "scheduled":
            raise Conflict(N_("%(phase)s has started already."), phase=display_name(session, name))
        cancelled = row.starts_at
        row.starts_at = row.ends_at = None
        row.updated_at = now
        audit.record(session, actor, "phase.schedule_cancelled", at=now, subject=name,
                     details={"was_starts_at": clock.iso(cancelled)})
    return row


def _running(session: Session, name: str, now: datetime) -> PhaseRow:
    _check_name(session, name)
    row = get_phase(session, name)
    if not clock.has_started(as_rule(row), now):
        raise Conflict(N_("%(phase)s has not started."), phase=display_name(session, name))
    if clock.phase_state(as_rule(row), now) == "ended":
        raise Conflict(N_("%(phase)s has ended."), phase=display_name(session, name))
    return row


def pause(session: Session, name: str, *, reason: str = "", actor: audit.Actor,
          now: datetime) -> PhaseRow:
    with write_transaction(session):
        row = _running(session, name, now)
        if row.paused_at is not None:
            raise Conflict(N_("%(phase)s is paused already."), phase=display_name(session, name))
        row.paused_at = now
        row.updated_at = now
        session.add(PhasePause(phase_id=row.id, started_at=now, reason=reason[:500]))
        audit.record(session, actor, "phase.paused", at=now, subject=name,
                     details={"reason": reason[:500]})
    return row


def resume(session: Session, name: str, *, actor: audit.Actor, now: datetime) -> PhaseRow:
    """The end moves by exactly the length of the pause. A later part scheduled to start
    before this one's new end moves with it (to start at that end, its length kept), in the
    audit log as `phase.rescheduled`: one part runs at a time, and the day shifts by the pause
    rather than cutting either part."""
    with write_transaction(session):
        row = _running(session, name, now)
        if row.paused_at is None:
            raise Conflict(N_("%(phase)s is not paused."), phase=display_name(session, name))
        paused_for = now - row.paused_at
        row.ends_at = row.ends_at + paused_for
        row.paused_at = None
        row.updated_at = now
        open_pause = session.scalar(select(PhasePause).where(
            PhasePause.phase_id == row.id, PhasePause.ended_at.is_(None)))
        if open_pause is not None:
            open_pause.ended_at = now
        audit.record(session, actor, "phase.resumed", at=now, subject=name,
                     details={"paused_seconds": round(paused_for.total_seconds(), 3),
                              "ends_at": clock.iso(row.ends_at)})
        session.flush()
        _shift_later_parts(session, row, actor=actor, now=now)
    return row


def _shift_later_parts(session: Session, row: PhaseRow, *, actor: audit.Actor,
                       now: datetime) -> None:
    """Move each scheduled part that now starts before `row`'s last station deadline to start
    just after it (and the ones after those in turn)."""
    end = phase_windows(session, row).last_deadline(now)
    later = sorted(_the_halls_other_parts(session, row.name, PhaseRow.starts_at >= row.starts_at),
                   key=lambda other: other.starts_at)
    for other in later:
        if end is None or clock.phase_state(as_rule(other), now) != "scheduled":
            continue
        if other.starts_at < end:
            was = other.starts_at
            other.starts_at = end
            other.ends_at = end + timedelta(minutes=other.minutes)
            other.updated_at = now
            with _of_its_session(session, other):
                audit.record(session, actor, "phase.rescheduled", at=now, subject=other.name,
                             details={"starts_at": clock.iso(other.starts_at),
                                      "ends_at": clock.iso(other.ends_at),
                                      "was_starts_at": clock.iso(was),
                                      "after_pause_of": row.name})
        end = max(end, other.ends_at)


def end(session: Session, name: str, *, actor: audit.Actor, now: datetime) -> PhaseRow:
    """Stop everyone at once (extensions included)."""
    with write_transaction(session):
        row = _running(session, name, now)
        row.ended_at = now
        if row.paused_at is not None:
            open_pause = session.scalar(select(PhasePause).where(
                PhasePause.phase_id == row.id, PhasePause.ended_at.is_(None)))
            if open_pause is not None:
                open_pause.ended_at = now
        row.updated_at = now
        audit.record(session, actor, "phase.ended", at=now, subject=name)
    return row


def extend(session: Session, station_code: str, minutes: float, reason: str, *,
           phase_name: str | None = None, actor: audit.Actor, now: datetime) -> Extension:
    """Extra minutes for one station in the running phase; only that station's deadline moves."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("An extension needs a reason (e.g. 设备故障（非选手原因）)."))
    if not 0 < minutes <= 240:
        raise KioskError(N_("An extension is between 1 and 240 minutes."))
    with write_transaction(session):
        station = session.scalar(select(Station).where(Station.code == station_code.upper()))
        if station is None:
            raise NotFound(N_("No station %(station)s."), station=station_code)
        row = _phase_for_extension(session, phase_name, now)
        extension = Extension(phase_id=row.id, station_id=station.id, minutes=minutes,
                              reason=reason[:500], approved_by=actor.name, created_at=now)
        session.add(extension)
        session.flush()
        deadline = phase_windows(session, row, [station.id]).of(station.id).deadline(now)
        _no_run_into_a_later_part(session, row, deadline, now)
        audit.record(session, actor, "phase.extended", at=now, subject=station.code,
                     details={"phase": row.name, "minutes": minutes, "reason": reason[:500],
                              "station_deadline": clock.iso(deadline)})
    return extension


def _no_run_into_a_later_part(session: Session, row: PhaseRow, deadline: datetime | None,
                              now: datetime) -> None:
    """A station's extension may not eat into the next part: refused if its new deadline is
    after the start of a part scheduled or started after this one (the chief judge moves that
    start first, and the station's next part is not shortened behind anyone's back)."""
    if deadline is None:
        return
    later = sorted(_the_halls_other_parts(session, row.name, PhaseRow.starts_at >= row.starts_at),
                   key=lambda other: other.starts_at)
    for other in later:
        if clock.phase_state(as_rule(other), now) == "ended" and other.ended_at <= row.starts_at:
            continue
        if deadline > other.starts_at:
            raise _refused(
                session, other,
                N_("This extension would run into %(phase)s, which starts at %(at)s: one part "
                   "runs at a time. Move its start later first, or give fewer minutes."),
                N_("This extension would run into %(phase)s of session %(session)s, which "
                   "starts at %(at)s: the hall's stations serve one session at a time. Move its "
                   "start later first, or give fewer minutes."),
                at=clock.local_display(other.starts_at, "%H:%M:%S"))


def _phase_for_extension(session: Session, name: str | None, now: datetime) -> PhaseRow:
    """The part an extension is for: `name`, else the one running now; just after a part's
    end, a late extension for a failure during it is still possible while nobody has ended
    it explicitly (and no later part has started: `_no_run_into_a_later_part`)."""
    if name:
        _check_name(session, name)
    names = [name] if name else timetable.keys(session)
    rows = [row for row in (get_phase(session, n) for n in names) if row is not None]
    for row in rows:
        if clock.phase_state(as_rule(row), now) in ("running", "paused"):
            return row
    finished = [row for row in rows if clock.has_started(as_rule(row), now)
                and row.ended_at is None]
    if finished:
        return max(finished, key=lambda row: row.starts_at)
    if name:
        raise Conflict(N_("%(phase)s is not running."), phase=display_name(session, name))
    raise Conflict(N_("No part is running."))


def pauses(session: Session, phase_id: int) -> list[tuple[datetime, datetime | None]]:
    return [(p.started_at, p.ended_at) for p in session.scalars(
        select(PhasePause).where(PhasePause.phase_id == phase_id).order_by(PhasePause.id))]


def current(session: Session, now: datetime) -> PhaseRow | None:
    """The part's clock a kiosk should show: running or paused, else scheduled, else the latest
    started."""
    rows = [r for r in session.scalars(select(PhaseRow)) if r.starts_at is not None]
    for wanted in ("running", "paused", "scheduled"):
        matching = [r for r in rows if clock.phase_state(as_rule(r), now) == wanted]
        if matching:
            return min(matching, key=lambda r: r.starts_at)
    return max(rows, key=lambda r: r.starts_at, default=None)
