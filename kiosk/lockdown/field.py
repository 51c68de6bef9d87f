"""What the chief and field judges do during the exam: announcements, one browser per station
(release, rebind), kiosk telemetry, early finishes, incident notes, and the dashboard."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, numbers
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotFound, Unauthorized
from kiosk.lockdown import phases
from kiosk.lockdown.models import (
    Announcement,
    EarlyFinish,
    Extension,
    Incident,
    Station,
    StationSession,
    TelemetryEvent,
)

HEARTBEAT_EVERY = timedelta(seconds=20)
ONLINE_WITHIN = timedelta(seconds=45)
TELEMETRY_KINDS = ("blur", "hidden", "fullscreen_exit", "copy", "paste", "cut", "contextmenu",
                   "print", "devtools_key", "selection")
MAX_TELEMETRY_PER_REQUEST = 20


def _station(session: Session, code: str) -> Station:
    station = session.scalar(select(Station).where(Station.code == code.strip().upper()))
    if station is None:
        raise NotFound(N_("No station %(station)s."), station=code)
    return station


# ----------------------------------------------------------------------------- announcements

def announce(session: Session, text: str, *, actor: audit.Actor, now: datetime) -> Announcement:
    text = text.strip()
    if not text or len(text) > 500:
        raise KioskError(N_("An announcement is 1 to 500 characters."))
    with write_transaction(session):
        item = Announcement(text=text, at=now, by=actor.name)
        session.add(item)
        session.flush()
        audit.record(session, actor, "announcement.posted", at=now, subject=str(item.id),
                     details={"text": text})
    return item


def withdraw(session: Session, announcement_id: int, *, actor: audit.Actor,
             now: datetime) -> None:
    with write_transaction(session):
        item = session.get(Announcement, announcement_id)
        if item is None:
            raise NotFound(N_("No such announcement."))
        item.withdrawn = True
        audit.record(session, actor, "announcement.withdrawn", at=now, subject=str(item.id))


def recent_announcements(session: Session, limit: int = 5) -> list[Announcement]:
    rows = session.scalars(select(Announcement).where(Announcement.withdrawn.is_(False))
                           .order_by(Announcement.id.desc()).limit(limit))
    return list(reversed(list(rows)))


# ----------------------------------------------------------------------------- one browser

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


def check_session(session: Session, station_id: int, nonce: str | None,
                  address: str | None = None, *, now: datetime | None = None) -> StationSession:
    """The station's session, if this browser holds it, from the workstation that signed in
    (and the one the station is bound to, if bound): a session cookie copied to another
    machine is refused on every request, not only at sign-in."""
    held = session.get(StationSession, station_id)
    if held is None or nonce is None or held.nonce != nonce:
        raise Unauthorized(N_("This workstation was signed out of the station (released by a "
                              "field judge). Sign in again with the badge."))
    if address is not None:
        bound = session.scalar(select(Station.workstation_ip).where(Station.id == station_id))
        if not same_address(address, held.address) or (bound and
                                                         not same_address(address, bound)):
            note_refused_workstation(session, station_id, address, held.address,
                                     now=now or clock.now())
            raise Unauthorized(N_("This station is signed in on another workstation. Sign in "
                                  "here with the badge, or raise your hand for a field "
                                  "judge."))
    return held


def same_address(one: str | None, other: str | None) -> bool:
    """One workstation, however the socket wrote it: `::ffff:10.0.0.5` on a dual-stack
    listener is 10.0.0.5, a zone index names no other machine."""
    def plain(text):
        try:
            address = ipaddress.ip_address((text or "").split("%")[0])
        except ValueError:
            return text
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return address.ipv4_mapped
        return address

    return plain(one) == plain(other)


# What the server noticed about a station (beside what the kiosk reports as telemetry): another
# workstation trying to use it. Noted once a minute per station and address, so a workstation
# that keeps trying costs one row a minute, not one per request.
REFUSED_WORKSTATION = "other_workstation"
# What each reported kind means, for the dashboard and the station page (a kind missing here is
# shown with its raw name).
TELEMETRY_LABELS = {
    "blur": N_("Left the exam window"),
    "hidden": N_("Exam page hidden"),
    "fullscreen_exit": N_("Left full screen"),
    "copy": N_("Tried to copy"),
    "paste": N_("Tried to paste"),
    "cut": N_("Tried to cut"),
    "contextmenu": N_("Right-click menu"),
    "print": N_("Tried to print"),
    "devtools_key": N_("Developer-tools key"),
    "selection": N_("Text selected"),
    REFUSED_WORKSTATION: N_("Sign-in refused on another workstation"),
}


def telemetry_label(kind: str) -> str | None:
    """The msgid naming a reported kind, or None: the page then shows the raw name."""
    return TELEMETRY_LABELS.get(kind)

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
    held = check_session(session, station_id, nonce, address)
    with _confirmed_lock:
        _confirmed[key] = (held.nonce, address, now)


def forget_confirmed(station_id: int) -> None:
    with _confirmed_lock:
        for key in [k for k in _confirmed if k[1] == station_id]:
            del _confirmed[key]


def heartbeat(session: Session, held: StationSession, now: datetime) -> None:
    """Written at most every 20 s per station: 500 kiosks polling every 5 s cost 25 writes/s."""
    if now - held.last_seen < HEARTBEAT_EVERY:
        return
    with write_transaction(session):
        current = session.get(StationSession, held.station_id)
        if current is not None:
            current.last_seen = now


def release(session: Session, code: str, *, actor: audit.Actor, now: datetime) -> None:
    with write_transaction(session):
        station = _station(session, code)
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
        station = _station(session, code)
        before = station.workstation_ip
        station.workstation_ip = address or None
        audit.record(session, actor, "station.rebound", at=now, subject=station.code,
                     details={"from": before, "to": station.workstation_ip})
    forget_confirmed(station.id)  # the old workstation is refused from its next request
    return station


# ----------------------------------------------------------------------------- telemetry

def record_telemetry(session: Session, station_id: int, events: list, *, now: datetime) -> int:
    kept = []
    for event in events[:MAX_TELEMETRY_PER_REQUEST]:
        if not isinstance(event, dict) or event.get("kind") not in TELEMETRY_KINDS:
            continue
        detail = str(event.get("detail", ""))[:200]
        kept.append(TelemetryEvent(station_id=station_id, kind=event["kind"], at=now,
                                   detail=detail))
    if kept:
        with write_transaction(session):
            session.add_all(kept)
    return len(kept)


# ----------------------------------------------------------------------------- judges' records

def early_finish(session: Session, code: str, *, actor: audit.Actor, now: datetime,
                 phase_name: str = "practical") -> EarlyFinish:
    with write_transaction(session):
        station = _station(session, code)
        row = phases.get_phase(session, phase_name)
        if row is None or row.starts_at is None:
            raise Conflict(N_("%(phase)s has not started."),
                           phase=phases.display_name(phase_name))
        if session.scalar(select(EarlyFinish.id).where(EarlyFinish.phase_id == row.id,
                                                       EarlyFinish.station_id == station.id)):
            raise Conflict(N_("%(station)s has finished early already."), station=station.code)
        finish = EarlyFinish(phase_id=row.id, station_id=station.id, at=now,
                             recorded_by=actor.name)
        session.add(finish)
        audit.record(session, actor, "phase.early_finish", at=now, subject=station.code,
                     details={"phase": phase_name})
    return finish


def note_incident(session: Session, code: str, rule: str, *, note: str = "",
                  deduction: str = "", actor: audit.Actor, now: datetime) -> Incident:
    rule = rule.strip()
    if not rule:
        raise KioskError(N_("Name the rule that was broken."))
    deduction = numbers.proposed_deduction(deduction)  # "abc%" refused, "５％" kept as "5%"
    with write_transaction(session):
        station = _station(session, code)
        incident = Incident(station_id=station.id, at=now, rule=rule[:500], note=note[:2000],
                            deduction=deduction, recorded_by=actor.name)
        session.add(incident)
        session.flush()
        audit.record(session, actor, "incident.noted", at=now, subject=station.code,
                     details={"rule": rule[:500], "deduction": deduction})
    return incident


# ----------------------------------------------------------------------------- the dashboard

@dataclass
class StationRow:
    code: str
    spare: bool
    occupied: bool
    bound_ip: str | None
    online: bool = False
    address: str | None = None
    last_seen: datetime | None = None
    answered: int = 0
    submitted_at: datetime | None = None
    extra_minutes: float = 0
    deadline: datetime | None = None
    flags: dict[str, int] = field(default_factory=dict)
    last_flag_at: datetime | None = None
    incidents: int = 0
    early_finish: datetime | None = None
    hand_ins: int = 0
    last_hand_in: datetime | None = None
    alarm: bool = False  # offline when it should be online: see offline_alarm


def offline_alarm(row: StationRow, phase_state: str, now: datetime) -> bool:
    """Is this station's being offline something a field judge must act on now? Only while the
    phase runs (or is paused) and the station's own time is not over, for a station someone
    sits at: drawn, or used today. Before the exam, stations that have not connected yet are
    normal, and after it, gone home is normal."""
    if row.online or phase_state not in ("running", "paused"):
        return False
    if row.deadline is not None and now > row.deadline:
        return False
    return row.occupied or row.last_seen is not None


def dashboard(session: Session, now: datetime) -> tuple[list[StationRow], object]:
    from kiosk.theory_exam.models import CurrentAnswer, Sitting

    current = phases.current(session, now)
    rule = phases.as_rule(current)
    stations = list(session.scalars(select(Station).order_by(Station.code)))
    rows = {s.id: StationRow(s.code, s.spare, s.occupied, s.workstation_ip) for s in stations}
    for held in session.scalars(select(StationSession)):
        row = rows.get(held.station_id)
        if row:
            row.online = now - held.last_seen <= ONLINE_WITHIN
            row.address, row.last_seen = held.address, held.last_seen
    for station_id, count in session.execute(
            select(CurrentAnswer.station_id, func.count()).where(CurrentAnswer.choice.is_not(None))
            .group_by(CurrentAnswer.station_id)):
        if station_id in rows:
            rows[station_id].answered = count
    for station_id, submitted in session.execute(select(Sitting.station_id,
                                                        Sitting.submitted_at)):
        if station_id in rows:
            rows[station_id].submitted_at = submitted
    if current is not None:
        for station_id, minutes in session.execute(
                select(Extension.station_id, func.sum(Extension.minutes))
                .where(Extension.phase_id == current.id).group_by(Extension.station_id)):
            if station_id in rows:
                rows[station_id].extra_minutes = float(minutes or 0)
        for row in rows.values():
            row.deadline = clock.station_deadline(
                rule, [clock.Extension(row.extra_minutes)] if row.extra_minutes else [], now)
        for station_id, at in session.execute(select(EarlyFinish.station_id, EarlyFinish.at)
                                              .where(EarlyFinish.phase_id == current.id)):
            if station_id in rows:
                rows[station_id].early_finish = at
    for station_id, kind, count, last in session.execute(
            select(TelemetryEvent.station_id, TelemetryEvent.kind, func.count(),
                   func.max(TelemetryEvent.at))
            .group_by(TelemetryEvent.station_id, TelemetryEvent.kind)):
        row = rows.get(station_id)
        if row:
            row.flags[kind] = count
            row.last_flag_at = max(filter(None, [row.last_flag_at, last]))
    for station_id, count in session.execute(select(Incident.station_id, func.count())
                                             .group_by(Incident.station_id)):
        if station_id in rows:
            rows[station_id].incidents = count
    from kiosk.collect.models import HandIn

    for station_id, count, last in session.execute(
            select(HandIn.station_id, func.count(), func.max(HandIn.received_at))
            .group_by(HandIn.station_id)):
        if station_id in rows:
            rows[station_id].hand_ins, rows[station_id].last_hand_in = count, last
    state = clock.phase_state(rule, now)
    for row in rows.values():
        row.alarm = offline_alarm(row, state, now)
    return list(rows.values()), current


def station_log(session: Session, code: str) -> tuple[Station, list, list, list]:
    station = _station(session, code)
    telemetry = list(session.scalars(select(TelemetryEvent).where(
        TelemetryEvent.station_id == station.id).order_by(TelemetryEvent.id.desc()).limit(200)))
    incidents = list(session.scalars(select(Incident).where(Incident.station_id == station.id)
                                     .order_by(Incident.id)))
    extensions = list(session.scalars(select(Extension).where(Extension.station_id == station.id)
                                      .order_by(Extension.id)))
    return station, telemetry, incidents, extensions
