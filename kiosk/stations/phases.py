"""Phases (理论知识考试, 实操技能考核): start, pause, resume, end, and per-station extensions.

Only deadlines are stored. The rules that read them are pure functions in kiosk.clock; a
station's window (the phase and its extensions) is read by kiosk.stations.window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, clock
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotFound, Term
from kiosk.stations.models import PHASE_NAMES, Extension, PhasePause, PhaseRow, Station
from kiosk.stations.window import as_rule, phase_windows

MAX_MINUTES = 24 * 60
# What people read for each state (translated where shown).
STATE_LABELS = {"not_started": N_("not started"), "scheduled": N_("scheduled"),
                "running": N_("running"), "paused": N_("paused"), "ended": N_("ended")}
# A phase's name as the competition documents write it: every page and message that names a
# phase asks `display_name`, never shows the key.
PHASE_LABELS = {"theory": N_("Theory exam"), "practical": N_("Practical exam")}


def display_name(name: str) -> Term:
    """The phase's display name (理论知识考试, 实操技能考核), a catalog message that whoever shows
    it translates: as an error's parameter, with the error."""
    return Term(PHASE_LABELS.get(name, name))


def get_phase(session: Session, name: str) -> PhaseRow | None:
    return session.scalar(select(PhaseRow).where(PhaseRow.name == name))


def _check_name(name: str) -> None:
    if name not in PHASE_NAMES:
        raise KioskError(N_("The phase is theory or practical."))


def start(session: Session, name: str, minutes: float, *, actor: audit.Actor, now: datetime,
          at: datetime | None = None) -> PhaseRow:
    """Start now, or schedule for `at`, which is never in the past (a phase scheduled for last
    year would be over before anyone saw it, and could never be started again). A scheduled
    phase may be scheduled again (its start changes) or started now; a started one cannot."""
    _check_name(name)
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
            raise Conflict(N_("%(phase)s has started already."), phase=display_name(name))
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


def cancel(session: Session, name: str, *, actor: audit.Actor, now: datetime) -> PhaseRow:
    """Call off a scheduled start before it begins: the phase is not started again, and can be
    scheduled or started anew."""
    _check_name(name)
    with write_transaction(session):
        row = get_phase(session, name)
        state = clock.phase_state(as_rule(row), now)
        if state == "not_started":
            raise Conflict(N_("%(phase)s is not scheduled."), phase=display_name(name))
        if state != "scheduled":
            raise Conflict(N_("%(phase)s has started already."), phase=display_name(name))
        cancelled = row.starts_at
        row.starts_at = row.ends_at = None
        row.updated_at = now
        audit.record(session, actor, "phase.schedule_cancelled", at=now, subject=name,
                     details={"was_starts_at": clock.iso(cancelled)})
    return row


def _running(session: Session, name: str, now: datetime) -> PhaseRow:
    _check_name(name)
    row = get_phase(session, name)
    if not clock.has_started(as_rule(row), now):
        raise Conflict(N_("%(phase)s has not started."), phase=display_name(name))
    if clock.phase_state(as_rule(row), now) == "ended":
        raise Conflict(N_("%(phase)s has ended."), phase=display_name(name))
    return row


def pause(session: Session, name: str, *, reason: str = "", actor: audit.Actor,
          now: datetime) -> PhaseRow:
    with write_transaction(session):
        row = _running(session, name, now)
        if row.paused_at is not None:
            raise Conflict(N_("%(phase)s is paused already."), phase=display_name(name))
        row.paused_at = now
        row.updated_at = now
        session.add(PhasePause(phase_id=row.id, started_at=now, reason=reason[:500]))
        audit.record(session, actor, "phase.paused", at=now, subject=name,
                     details={"reason": reason[:500]})
    return row


def resume(session: Session, name: str, *, actor: audit.Actor, now: datetime) -> PhaseRow:
    """The end moves by exactly the length of the pause."""
    with write_transaction(session):
        row = _running(session, name, now)
        if row.paused_at is None:
            raise Conflict(N_("%(phase)s is not paused."), phase=display_name(name))
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
    return row


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
        audit.record(session, actor, "phase.extended", at=now, subject=station.code,
                     details={"phase": row.name, "minutes": minutes, "reason": reason[:500],
                              "station_deadline": clock.iso(deadline)})
    return extension


def _phase_for_extension(session: Session, name: str | None, now: datetime) -> PhaseRow:
    names = [name] if name else list(PHASE_NAMES)
    for candidate in reversed(names):
        row = get_phase(session, candidate)
        if row is not None and clock.phase_state(as_rule(row), now) in ("running", "paused"):
            return row
    # Just after the end, a late extension for a failure during the phase is still possible
    # for the phase whose deadline has passed but that nobody ended explicitly.
    for candidate in reversed(names):
        row = get_phase(session, candidate)
        if row is not None and row.starts_at is not None and row.ended_at is None:
            return row
    raise Conflict(N_("No phase is running."))


def pauses(session: Session, phase_id: int) -> list[tuple[datetime, datetime | None]]:
    return [(p.started_at, p.ended_at) for p in session.scalars(
        select(PhasePause).where(PhasePause.phase_id == phase_id).order_by(PhasePause.id))]


def current(session: Session, now: datetime) -> PhaseRow | None:
    """The phase a kiosk should show: running or paused, else scheduled, else the latest
    started."""
    rows = [r for r in session.scalars(select(PhaseRow)) if r.starts_at is not None]
    for wanted in ("running", "paused", "scheduled"):
        matching = [r for r in rows if clock.phase_state(as_rule(r), now) == wanted]
        if matching:
            return min(matching, key=lambda r: r.starts_at)
    return max(rows, key=lambda r: r.starts_at, default=None)
