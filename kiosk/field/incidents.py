"""The field judges' records of a station: an early finish (提前结束) and an incident (违规记录)
with the rule and the proposed deduction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, clock, numbers
from kiosk.config import Settings
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError
from kiosk.field.models import Incident
from kiosk.stations import phases, timetable
from kiosk.stations.models import EarlyFinish
from kiosk.stations.registry import station_by_code
from kiosk.stations.window import as_rule


def early_finish(session: Session, code: str, *, actor: audit.Actor, now: datetime,
                 settings: Settings, phase_name: str | None = None) -> EarlyFinish:
    """Record that `code` finished `phase_name` early; by default the practical part running
    now (or the one that ran last: the judge may record it just after the end)."""
    if phase_name is None:
        phase_name = _running_practical(session, now, settings)
    with write_transaction(session):
        station = station_by_code(session, code)
        row = phases.get_phase(session, phase_name)
        if row is None or not clock.has_started(as_rule(row), now):
            raise Conflict(N_("%(phase)s has not started."),
                           phase=phases.display_name(session, phase_name))
        if session.scalar(select(EarlyFinish.id).where(EarlyFinish.phase_id == row.id,
                                                       EarlyFinish.station_id == station.id)):
            raise Conflict(N_("%(station)s has finished early already."), station=station.code)
        finish = EarlyFinish(phase_id=row.id, station_id=station.id, at=now,
                             recorded_by=actor.name)
        session.add(finish)
        audit.record(session, actor, "phase.early_finish", at=now, subject=station.code,
                     details={"phase": phase_name})
    return finish


def _running_practical(session: Session, now: datetime, settings: Settings) -> str:
    chosen = timetable.day(session, settings, now).last_started(
        lambda part: part.kind == "practical")
    if chosen is None:
        raise Conflict(N_("No practical part is running."))
    return chosen.key


def note_incident(session: Session, code: str, rule: str, *, note: str = "",
                  deduction: str = "", actor: audit.Actor, now: datetime) -> Incident:
    rule = rule.strip()
    if not rule:
        raise KioskError(N_("Name the rule that was broken."))
    deduction = numbers.proposed_deduction(deduction)  # "abc%" refused, "５％" kept as "5%"
    with write_transaction(session):
        station = station_by_code(session, code)
        incident = Incident(station_id=station.id, at=now, rule=rule[:500], note=note[:2000],
                            deduction=deduction, recorded_by=actor.name)
        session.add(incident)
        session.flush()
        audit.record(session, actor, "incident.noted", at=now, subject=station.code,
                     details={"rule": rule[:500], "deduction": deduction})
    return incident
