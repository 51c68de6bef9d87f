"""Station login and binding. (Phases and deadlines: issue 5, on kiosk.clock's pure rules.)"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.db import write_transaction
from kiosk.errors import N_, Forbidden, KioskError, TooManyAttempts, Unauthorized
from kiosk.lockdown.models import Station
from kiosk.models import LoginAttempt
from kiosk.staff import throttle_wait

# Letters and digits that survive being read off a badge and typed: no 0/O, 1/I/L.
TOKEN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # noqa: S105
TOKEN_LENGTH = 12  # 31^12 ≈ 7.9e17: guessing one at 20 per minute per address is hopeless
BADGE_GUESSES_PER_MINUTE = 20


def new_login_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def normalize_token(text: str) -> str:
    """Scanners and people add spaces, dashes and lower case; the token has none of them."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def login_station(session: Session, token: str, *, address: str, now: datetime) -> Station:
    key = f"badge:{address}"
    retry_after = throttle_wait(session, now, [(key, BADGE_GUESSES_PER_MINUTE)])
    if retry_after:
        raise TooManyAttempts(N_("Too many wrong badge codes; try again in %(retry_after)s "
                                 "seconds."), retry_after=retry_after)
    wanted = normalize_token(token)
    station = None
    if wanted:
        station = session.scalar(select(Station).where(Station.login_token == wanted))
    if station is None or not hmac.compare_digest(station.login_token, wanted):
        with write_transaction(session):
            session.add(LoginAttempt(key=key, at=now))
            audit.record(session, audit.Actor("?", "station"), "station.login_failed", at=now,
                         details={"address": address})
        raise Unauthorized(N_("This badge code is not valid."))
    if station.workstation_ip and station.workstation_ip != address:
        with write_transaction(session):
            audit.record(session, audit.Actor(f"station:{station.code}", "station"),
                         "station.login_wrong_workstation", at=now, subject=station.code,
                         details={"address": address, "bound_to": station.workstation_ip})
        raise Forbidden(N_("Station %(station)s belongs to another workstation; ask a field "
                           "judge."), station=station.code)
    with write_transaction(session):
        audit.record(session, audit.Actor(f"station:{station.code}", "station"), "station.login",
                     at=now, subject=station.code, details={"address": address})
    return station


def add_stations(session: Session, count: int, *, prefix: str, first_ip: str | None,
                 actor: audit.Actor, now: datetime) -> list[Station]:
    """Stations prefix01… after the highest existing number of that prefix."""
    prefix = prefix.strip().upper()
    if not re.fullmatch(r"[A-Z]{1,4}", prefix):
        raise KioskError(N_("A station prefix is one to four letters, e.g. A."))
    try:
        ip = ipaddress.ip_address(first_ip) if first_ip else None
    except ValueError as exc:
        raise KioskError(N_("%(ip)s is not an IP address."), ip=first_ip) from exc
    with write_transaction(session):
        existing = {code for (code,) in session.execute(select(Station.code))}
        width = max(2, len(str(count)))
        numbers = [int(code[len(prefix):]) for code in existing
                   if code.startswith(prefix) and code[len(prefix):].isdigit()]
        start = max(numbers, default=0) + 1
        created = []
        for offset in range(count):
            code = f"{prefix}{start + offset:0{width}d}"
            station = Station(code=code, login_token=new_login_token(), created_at=now,
                              workstation_ip=str(ip + offset) if ip else None)
            session.add(station)
            created.append(station)
        session.flush()
        audit.record(session, actor, "stations.added", at=now,
                     subject=f"{created[0].code}–{created[-1].code}" if created else "",
                     details={"count": count, "first_ip": first_ip})
    return created
