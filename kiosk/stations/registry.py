"""The stations (赛位) of the hall: adding them, and finding one by the code people type."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, KioskError, NotFound
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station


def station_by_code(session: Session, code: str) -> Station:
    """The station a judge typed (`a01 ` is A01), or a 404 naming what was typed."""
    station = session.scalar(select(Station).where(Station.code == code.strip().upper()))
    if station is None:
        raise NotFound(N_("No station %(station)s."), station=code)
    return station


def add_stations(session: Session, count: int, *, prefix: str, first_ip: str | None,
                 actor: audit.Actor, now: datetime) -> list[Station]:
    """Stations prefix01… after the highest existing number of that prefix, in every session;
    returned: the first session's."""
    prefix = prefix.strip().upper()
    if not re.fullmatch(r"[A-Z]{1,4}", prefix):
        raise KioskError(N_("A station prefix is one to four letters, e.g. A."))
    try:
        ip = ipaddress.ip_address(first_ip) if first_ip else None
    except ValueError as exc:
        raise KioskError(N_("%(ip)s is not an IP address."), ip=first_ip) from exc
    with write_transaction(session), scope.event_wide(session):
        existing = {code for (code,) in session.execute(select(Station.code))}
        width = max(2, len(str(count)))
        numbers = [int(code[len(prefix):]) for code in existing
                   if code.startswith(prefix) and code[len(prefix):].isdigit()]
        start = max(numbers, default=0) + 1
        created = []
        # The hall's seats serve every session: one row in each (kiosk.scope).
        for exam_session in reversed(exam_sessions.every(session)):
            created = []
            for offset in range(count):
                code = f"{prefix}{start + offset:0{width}d}"
                station = Station(code=code, created_at=now, exam_session_id=exam_session.id,
                                  workstation_ip=str(ip + offset) if ip else None)
                session.add(station)
                created.append(station)
        session.flush()
        audit.record(session, actor, "stations.added", at=now,
                     subject=f"{created[0].code}–{created[-1].code}" if created else "",
                     details={"count": count, "first_ip": first_ip})
    return created
