"""One workstation per station: the browser that signed in holds the station's session until a
field judge releases it or rebinds the station to another address."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.orm import Session

from kiosk import audit, clock
from kiosk.db import UTCDateTime, write_transaction
from kiosk.errors import N_, Conflict, KioskError, Unauthorized
from kiosk.group_commit import GroupCommit
from kiosk.network import plain_address
from kiosk.stations.models import Station, StationSession, TelemetryEvent
from kiosk.stations.registry import station_by_code

HEARTBEAT_EVERY = timedelta(seconds=20)


def claim(session: Session, station: Station, *, current_nonce: str | None, address: str,
          user_agent: str, now: datetime) -> str:
    """The station's session for this browser. Another browser holding it: 409, until a field
    judge releases it. The same browser signing in again keeps its session."""
    holder = None
    with write_transaction(session):
        # Two browsers racing for one station: the station row's lock lets one in at a time
        # (PostgreSQL; SQLite's BEGIN IMMEDIATE already does), so the loser sees the winner.
        session.execute(select(Station.id).where(Station.id == station.id).with_for_update())
        held = session.get(StationSession, station.id, populate_existing=True)
        if held is not None and held.nonce != current_nonce:
            holder = held.address
        elif held is None:
            held = StationSession(station_id=station.id, nonce=secrets.token_urlsafe(24),
                                  address=address, user_agent=user_agent[:256],
                                  started_at=now, last_seen=now)
            session.add(held)
        else:
            held.address, held.last_seen = address, now
        nonce = held.nonce
    if holder is not None:
        # Where the other workstation is, is for the field judges (the dashboard), not for
        # whoever stands at this one.
        note_refused_workstation(session, station.id, address, holder, now=now)
        raise Conflict(N_("Station %(station)s is already in use on another workstation. Raise "
                          "your hand: a field judge will help you."), station=station.code)
    return nonce


@dataclass(frozen=True)
class Held:
    """A station's session as the check read it (one row of `_HELD`)."""

    station_id: int
    nonce: str
    address: str
    last_seen: datetime


# The check on every station request and every clock poll, in one statement: the station's
# session and the workstation the station is bound to. A station row is one session's (场次)
# row by its id, so nothing needs scoping (kiosk.scope).
_HELD = text("""
    SELECT ss.nonce, ss.address, ss.last_seen, st.workstation_ip
      FROM station_session ss JOIN station st ON st.id = ss.station_id
     WHERE ss.station_id = :station
""").columns(last_seen=UTCDateTime)


def check_session(session: Session, station_id: int, nonce: str | None,
                  address: str | None = None, *, now: datetime | None = None) -> Held:
    """The station's session, if this browser holds it, from the workstation that signed in
    (and the one the station is bound to, if bound): a session cookie copied to another
    machine is refused on every request, not only at sign-in."""
    found = session.execute(_HELD, {"station": station_id}).first()
    if found is None or nonce is None or found.nonce != nonce:
        raise Unauthorized(N_("This workstation was signed out of the station (released by a "
                              "field judge). Sign in again with the badge."))
    if address is not None:
        bound = found.workstation_ip
        if not same_address(address, found.address) or (bound and
                                                          not same_address(address, bound)):
            note_refused_workstation(session, station_id, address, found.address,
                                     now=now or clock.now())
            raise Unauthorized(N_("This station is signed in on another workstation. Sign in "
                                  "here with the badge, or raise your hand for a field "
                                  "judge."))
    return Held(station_id, found.nonce, found.address, found.last_seen)


def same_address(one: str | None, other: str | None) -> bool:
    """One workstation, however the socket wrote it: `::ffff:10.0.0.5` on a dual-stack
    listener is 10.0.0.5, a zone index names no other machine."""
    # What is no address at all is compared as written.
    return (plain_address(one) or one) == (plain_address(other) or other)


# What the server noticed about a station (beside what the kiosk reports as telemetry): another
# workstation trying to use it. Noted once a minute per station and address, so a workstation
# that keeps trying costs one row a minute, not one per request.
REFUSED_WORKSTATION = "other_workstation"
NOTE_EVERY = 60.0
_noted: dict[tuple[int, int, str], float] = {}
_noted_lock = threading.Lock()


def note_refused_workstation(session: Session, station_id: int, address: str, holder: str | None,
                             *, now: datetime) -> None:
    key, moment = (id(session.get_bind()), station_id, address[:64]), time.monotonic()
    with _noted_lock:
        if moment - _noted.get(key, -NOTE_EVERY) < NOTE_EVERY:
            return
        if len(_noted) > 10_000:
            _noted.clear()
        _noted[key] = moment
    session.rollback()
    with write_transaction(session):
        session.add(TelemetryEvent(station_id=station_id, kind=REFUSED_WORKSTATION, at=now,
                                   detail=f"{address[:64]} → {holder or '—'}"))


# Every station request asks "is this still the station's browser?". Answering from the database
# each time cost a third of the save throughput; a release takes effect within CONFIRMED_FOR
# instead (at once in the process that released it).
CONFIRMED_FOR = 2.0
_confirmed: dict[tuple[int, int], tuple[str, str, float]] = {}
_confirmed_lock = threading.Lock()


def check_session_fast(session: Session, station_id: int, nonce: str | None,
                       address: str) -> None:
    key = (id(session.get_bind()), station_id)
    now = time.monotonic()
    with _confirmed_lock:
        cached = _confirmed.get(key)
    if cached is not None and nonce is not None and cached[:2] == (nonce, address) and \
            now - cached[2] < CONFIRMED_FOR:
        return
    check_session_confirmed(session, station_id, nonce, address)


def check_session_confirmed(session: Session, station_id: int, nonce: str | None,
                            address: str, *, now: datetime | None = None) -> Held:
    """`check_session`, always from the database, remembered as `check_session_fast`
    remembers it (the clock poll checks every time, and the station's next requests need not
    check again for CONFIRMED_FOR)."""
    held = check_session(session, station_id, nonce, address, now=now)
    with _confirmed_lock:
        _confirmed[(id(session.get_bind()), station_id)] = (held.nonce, address,
                                                            time.monotonic())
    return held


def forget_confirmed(station_id: int) -> None:
    with _confirmed_lock:
        for key in [k for k in _confirmed if k[1] == station_id]:
            del _confirmed[key]


_HEARTBEAT = text("UPDATE station_session SET last_seen = :now "
                  "WHERE station_id = :station AND last_seen < :now"
                  ).bindparams(bindparam("now", type_=UTCDateTime))


def heartbeat(session: Session, held: Held, now: datetime,
              saves: GroupCommit | None = None) -> None:
    """Written at most every 20 s per station: 500 kiosks polling every 5 s cost 25 writes/s;
    in the answer saves' transactions (`saves`: kiosk.group_commit) when given, sharing their
    fsync, else in one of its own."""
    if now - held.last_seen < HEARTBEAT_EVERY:
        return
    params = {"station": held.station_id, "now": now}
    if saves is not None:
        saves.run(lambda shared: shared.execute(_HEARTBEAT, params),
                  order=(held.station_id, "", -1))
        return
    with write_transaction(session):
        session.execute(_HEARTBEAT, params)


def release(session: Session, code: str, *, actor: audit.Actor, now: datetime) -> None:
    with write_transaction(session):
        station = station_by_code(session, code)
        session.execute(delete(StationSession).where(StationSession.station_id == station.id))
        audit.record(session, actor, "station.released", at=now, subject=station.code)
    forget_confirmed(station.id)


def rebind(session: Session, code: str, address: str | None, *, actor: audit.Actor,
           now: datetime) -> Station:
    if address:
        try:
            address = str(ipaddress.ip_address(address.strip()))
        except ValueError as exc:
            raise KioskError(N_("%(ip)s is not an IP address."), ip=address) from exc
    with write_transaction(session):
        station = station_by_code(session, code)
        before = station.workstation_ip
        station.workstation_ip = address or None
        audit.record(session, actor, "station.rebound", at=now, subject=station.code,
                     details={"from": before, "to": station.workstation_ip})
    forget_confirmed(station.id)  # the old workstation is refused from its next request
    return station
