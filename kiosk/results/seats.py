"""Stations as the results see them: across the event's sessions (场次).

A station is one row per session (kiosk.scope), so its code names it only within a session:
AM's A01 and PM's A01 are two contestants. Scoring is event-wide (one review sample, one lock,
one ranking per group), so everywhere the results key, list or look up a station they use its
seat: the session's code and the station's, written `AM/A01` (the implicit session of an event
that defines none has no code: its seats are the station codes, `A01`, as before sessions
existed). A seat is what the review sample's HMAC is taken over (docs/results.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import scope
from kiosk.config import Settings
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.registry import station_by_code

SEPARATOR = "/"


def key(session_code: str, station_code: str) -> str:
    """The seat of `station_code` in the session `session_code` ("" for the implicit one)."""
    return f"{session_code}{SEPARATOR}{station_code}" if session_code else station_code


def split(seat: str) -> tuple[str, str]:
    """(session code, station code) of a seat; "" for the session of `A01`."""
    session_code, _sep, code = seat.strip().rpartition(SEPARATOR)
    return session_code.strip(), code.strip().upper()




def each_session(session: Session, *, event_wide: bool = False) -> Iterator[ExamSession]:
    """Each session in view (every one if `event_wide`), with `session` scoped to it while
    the caller works on it (a session's clock, its parts, its stations' windows are its own)."""
    sessions = exam_sessions.every(session) if event_wide else exam_sessions.in_view(session)
    for exam_session in sessions:
        with scope.within(session, exam_sessions.as_scope(exam_session)):
            yield exam_session


def several(session: Session) -> bool:
    """The event defines more than one session: pages and sheets show the 场次."""
    return len(exam_sessions.every(session)) > 1


def keyed_stations(session: Session) -> dict[str, int]:
    """seat → station id, for the stations in view (kiosk.scope)."""
    return {key(session_code, code): station_id for session_code, code, station_id in
            session.execute(select(ExamSession.code, Station.code, Station.id)
                            .join(ExamSession, ExamSession.id == Station.exam_session_id))}


def seats_by_id(session: Session, station_ids=None) -> dict[int, str]:
    """station id → seat, for the stations in view (only `station_ids` if given)."""
    query = (select(Station.id, ExamSession.code, Station.code)
             .join(ExamSession, ExamSession.id == Station.exam_session_id))
    if station_ids is not None:
        query = query.where(Station.id.in_(list(station_ids)))
    return {station_id: key(session_code, code)
            for station_id, session_code, code in session.execute(query)}


def seat_of(session: Session, station: Station) -> str:
    with scope.event_wide(session):
        return key(session.get(ExamSession, station.exam_session_id).code, station.code)


def station(session: Session, text: str, session_code: str | None = None) -> Station:
    """The station a judge named: `AM/A01`, or `A01` in the session `session_code`, else in
    the session `session` is scoped to, else in the only one (several and none named: refused
    with SessionRequired, naming them)."""
    named, code = split(text)
    wanted = session_code or named
    if not wanted and scope.current(session) is not None:
        return station_by_code(session, code)
    exam_session = exam_sessions.choose(session, wanted or None)
    with scope.within(session, exam_sessions.as_scope(exam_session)):
        return station_by_code(session, code)


def session_labels(session: Session, settings: Settings) -> dict[str, str]:
    """session code → what people read (its name, else its code; the implicit session's is
    config.toml's session_name)."""
    return {s.code: str(exam_sessions.label(s, settings)) for s in exam_sessions.every(session)}


def order(seat: str, positions: dict[str, int]) -> tuple[int, str]:
    """Sort key: the session's place in the day, then the station code."""
    session_code, code = split(seat)
    return positions.get(session_code, 0), code


def positions(session: Session) -> dict[str, int]:
    return {s.code: s.position for s in exam_sessions.every(session)}
