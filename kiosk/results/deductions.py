"""Deductions (扣分) by station: a percentage of the total or points, with the reason and who
approved it; added and withdrawn only while the results are in entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, numbers
from kiosk.db import write_transaction
from kiosk.errors import N_, KioskError, NotFound
from kiosk.models import ExamSession
from kiosk.results import seats
from kiosk.results.models import Deduction
from kiosk.results.stages import require_entry_open
from kiosk.stations.models import Station


def add_deduction(session: Session, station_code: str, text: str, reason: str, approved_by: str,
                  *, session_code: str | None = None, actor: audit.Actor,
                  now: datetime) -> Deduction:
    """A deduction for a station: `station_code` is a seat (`AM/A01`) or a station of
    `session_code`, else of the session in scope, else of the only one."""
    parsed = numbers.parse_deduction(text)
    if parsed is None:
        raise KioskError(N_("%(value)s is not a deduction: give a percentage of the total "
                            "(e.g. 5%%) or points (e.g. 2)."), value=text)
    reason, approved_by = reason.strip(), approved_by.strip()
    if not reason or not approved_by:
        raise KioskError(N_("A deduction needs a reason and the name of whoever approved it."))
    unit, amount = parsed
    with write_transaction(session):
        require_entry_open(session)
        station = seats.station(session, station_code, session_code)
        seat = seats.seat_of(session, station)
        deduction = Deduction(station_id=station.id, unit=unit, amount=amount,
                              reason=reason[:500], approved_by=approved_by[:64],
                              entered_by=actor.name, entered_at=now)
        session.add(deduction)
        session.flush()
        audit.record(session, actor, "deduction.added", at=now, subject=seat,
                     details={"id": deduction.id, "unit": unit, "amount": str(amount),
                              "reason": reason[:500], "approved_by": approved_by[:64]})
    return deduction


def withdraw_deduction(session: Session, deduction_id: int, reason: str, *, actor: audit.Actor,
                       now: datetime) -> None:
    if not reason.strip():
        raise KioskError(N_("Withdrawing a deduction needs a reason."))
    with write_transaction(session):
        require_entry_open(session)
        deduction = session.get(Deduction, deduction_id)
        if deduction is None:
            raise NotFound(N_("No such deduction."))
        code = seats.seat_of(session, session.get(Station, deduction.station_id))
        session.execute(delete(Deduction).where(Deduction.id == deduction_id))
        audit.record(session, actor, "deduction.withdrawn", at=now, subject=code,
                     details={"id": deduction_id, "unit": deduction.unit,
                              "amount": str(deduction.amount), "reason": reason.strip()[:500]})


def list_deductions(session: Session) -> list[tuple[Deduction, str]]:
    """(deduction, seat) of the stations in view, in the day's order of the sessions."""
    return [(deduction, seats.key(session_code, code)) for deduction, session_code, code in
            session.execute(select(Deduction, ExamSession.code, Station.code)
                            .join(Station, Station.id == Deduction.station_id)
                            .join(ExamSession, ExamSession.id == Station.exam_session_id)
                            .order_by(ExamSession.position, Station.code, Deduction.id))]
