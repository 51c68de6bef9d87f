"""A station's badge (its QR token and typed fallback code, kept only as digests) and the
workstation's sign-in with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.config import Settings
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, Forbidden, TooManyAttempts, Unauthorized
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions
from kiosk.stations.binding import claim, same_address
from kiosk.stations.guessing import BadgeGuard
from kiosk.stations.models import Station

log = logging.getLogger(__name__)

# The typed fallback code: letters and digits that survive being read off a badge and typed
# (no 0/O/Q, 1/I/L, 5/S, 2/Z, 8/B, 6/G, U/V). 12 of 21 ≈ 53 bits: at 20 guesses a minute per
# address (kiosk.stations.guessing), hopeless to guess; the QR text itself carries 136 bits.
FALLBACK_ALPHABET = "ACDEFGHJKMNPRTWXY3479"
FALLBACK_LENGTH = 12
QR_TOKEN_BYTES = 17  # 136 bits -> 28 base32 characters


@dataclass(frozen=True)
class BadgeSecrets:
    """What a freshly printed badge carries; exists only in memory and on paper."""

    station: str
    qr_token: str
    fallback_code: str

    @property
    def fallback_display(self) -> str:
        code = self.fallback_code
        return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def new_badge_secrets(station: str) -> BadgeSecrets:
    # Base32 upper case fits the QR alphanumeric mode: a small code any cheap scanner reads.
    qr_token = base64.b32encode(secrets.token_bytes(QR_TOKEN_BYTES)).decode("ascii").rstrip("=")
    fallback = "".join(secrets.choice(FALLBACK_ALPHABET) for _ in range(FALLBACK_LENGTH))
    return BadgeSecrets(station, qr_token, fallback)


def normalize_token(text: str) -> str:
    """Scanners and people add spaces, dashes and lower case; the tokens have none of them."""
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())


def token_digest(key: bytes, token: str) -> str:
    return hmac.new(key, normalize_token(token).encode("ascii"), hashlib.sha256).hexdigest()


def issue_badges(session: Session, stations: list[Station], *, badge_key: bytes,
                 actor: audit.Actor, now: datetime) -> list[BadgeSecrets]:
    """New badge secrets for these stations; every older badge of theirs stops working."""
    issued = []
    with write_transaction(session):
        for station in stations:
            secret = new_badge_secrets(station.code)
            station.token_hash = token_digest(badge_key, secret.qr_token)
            station.fallback_hash = token_digest(badge_key, secret.fallback_code)
            station.badge_issued_at = now
            station.badge_generation += 1
            issued.append(secret)
        session.flush()
        audit.record(session, actor, "badges.issued", at=now,
                     subject=_station_range([s.code for s in stations]),
                     details={"count": len(stations),
                              "reissued": [s.code for s in stations if s.badge_generation > 1]})
    return issued


def _station_range(codes: list[str]) -> str:
    if not codes:
        return ""
    return codes[0] if len(codes) == 1 else f"{codes[0]}–{codes[-1]} ({len(codes)})"


def login_station(session: Session, token: str, *, badge_key: bytes, guard: BadgeGuard,
                  address: str, settings: Settings, now: datetime,
                  current_nonce: str | None = None, user_agent: str = "") -> tuple[Station, str]:
    """The station and this browser's session nonce; 401 bad badge, 403 wrong workstation or
    a badge of a session the stations do not serve now (`session` is left scoped to the
    badge's session), 409 the station is in use on another browser, 429 too many wrong codes
    from this address (answered from memory: a flood of guesses never reaches the database)."""
    retry_after = guard.admit(address, now)
    if retry_after:
        raise TooManyAttempts(N_("Too many wrong badge codes; try again in %(retry_after)s "
                                 "seconds."), retry_after=retry_after)
    try:
        flush_badge_failures(session, guard, now)
    except Exception:  # a busy database: the tally was put back, the timer writes it later;
        # a contestant with the right badge must not pay for last minute's guesses
        session.rollback()
        log.exception("badge-guess tally not written yet")
    station = None
    if normalize_token(token):
        digest = token_digest(badge_key, token)
        with scope.event_wide(session):  # a badge of any session: told which one, below
            station = session.scalar(select(Station).where(
                or_(Station.token_hash == digest, Station.fallback_hash == digest)))
    if station is None:
        guard.rejected(address, now)  # audited with its minute's others, not one row a guess
        raise Unauthorized(N_("This badge code is not valid. Scan the badge again or type the "
                              "code printed under the QR code."))
    guard.accepted(address)
    own_session = exam_sessions.enter(session, session.get(ExamSession,
                                                           station.exam_session_id))
    try:
        exam_sessions.require_current(session, own_session, settings, now)
    except exam_sessions.WrongSession:
        with write_transaction(session):
            audit.record(session, audit.Actor.station(station.code),
                         "station.login_wrong_session", at=now, subject=station.code,
                         details={"address": address})
        raise
    if station.workstation_ip and not same_address(station.workstation_ip, address):
        with write_transaction(session):
            audit.record(session, audit.Actor.station(station.code),
                         "station.login_wrong_workstation", at=now, subject=station.code,
                         details={"address": address, "bound_to": station.workstation_ip})
        raise Forbidden(N_("Station %(station)s belongs to another workstation; ask a field "
                           "judge."), station=station.code)
    try:
        nonce = claim(session, station, current_nonce=current_nonce, address=address,
                      user_agent=user_agent, now=now)
    except Conflict:
        with write_transaction(session):
            audit.record(session, audit.Actor.station(station.code),
                         "station.login_refused_in_use", at=now, subject=station.code,
                         details={"address": address})
        raise
    with write_transaction(session):
        audit.record(session, audit.Actor.station(station.code), "station.login",
                     at=now, subject=station.code, details={"address": address})
    return station, nonce


def flush_badge_failures(session: Session, guard: BadgeGuard, now: datetime, *,
                         everything: bool = False) -> int:
    """Audit the tallied wrong badge codes: one `station.login_failed` per address and minute
    that is over (every minute, `everything`, when the server stops). The number written."""
    if not everything and not guard.tally.has_completed(now):
        return 0  # the common case costs no statement
    tallies = guard.tally.take(now, everything=everything)
    if not tallies:
        return 0
    try:
        with write_transaction(session):
            for tally in tallies:
                audit.record(session, audit.Actor("?", "station"), "station.login_failed",
                             at=now, details={"address": tally.address,
                                              "minute": clock.iso(tally.minute),
                                              "count": tally.count,
                                              "unchecked": tally.unchecked})
    except Exception:
        guard.tally.put_back(tallies)  # written by the next flush instead
        raise
    return len(tallies)


class BadgeFailureFlusher(threading.Thread):
    """Inside `kiosk serve`: writes the minutes that are over even when no sign-in attempt
    comes to do it, and the current minute when the server stops. Only kill -9 loses counts:
    those of the current minute and at most FLUSH_INTERVAL before it."""

    FLUSH_INTERVAL = timedelta(seconds=15)

    def __init__(self, instance, guard: BadgeGuard) -> None:
        super().__init__(name="kiosk-badge-failures", daemon=True)
        self.instance, self.guard = instance, guard
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.FLUSH_INTERVAL.total_seconds()):
            try:
                self.run_once(clock.now())
            except Exception:  # a busy or absent database must not end the thread
                log.exception("writing the wrong badge codes' tally failed; retrying")

    def run_once(self, now: datetime, *, everything: bool = False) -> int:
        if not everything and not self.guard.tally.has_completed(now):
            return 0
        with self.instance.session() as session:
            return flush_badge_failures(session, self.guard, now, everything=everything)

    def stop(self, now: datetime) -> int:
        self.stopped.set()
        return self.run_once(now, everything=True)
