"""A station's window in a phase: the phase as the timing rules read it and the station's
extensions. The one loader of both; the rules on them are the pure functions in kiosk.clock.

`station_window` reads one station in one statement, compiled once (the answer save, the hot
path, adds its own columns to that same statement, so a save still reads once);
`phase_windows` reads many stations in one query for their extensions, whatever their number
(the dashboard, the grading, the practical working time, "is it over for everyone?").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Float, Integer, Row, TextualSelect, select, text
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.db import UTCDateTime
from kiosk.stations.models import Extension, PhaseRow

# A part's key: letters, digits, - and _ (kiosk.stations.timetable checks it on every
# timetable; the window statement writes it into its SQL).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")


def as_rule(row: PhaseRow | None) -> clock.Phase | None:
    """The phase as stored, as the pure rules read it."""
    if row is None:
        return None
    return clock.Phase(row.name, row.starts_at, row.ends_at, row.paused_at, row.ended_at)


@dataclass(frozen=True)
class StationWindow:
    """One station's window in one phase. `columns` is the row it was read from, with the
    columns a caller's own statement added (see `window_statement`)."""

    phase_id: int | None
    phase: clock.Phase | None
    extensions: tuple[clock.Extension, ...] = ()
    columns: Row | None = None

    def deadline(self, now: datetime) -> datetime | None:
        return clock.station_deadline(self.phase, self.extensions, now)

    def state(self, now: datetime) -> str:
        """This station's own state (`clock.station_state`), what its screen shows."""
        return clock.station_state(self.phase, self.extensions, now)

    def phase_state(self, now: datetime) -> str:
        return clock.phase_state(self.phase, now)

    def refusal(self, now: datetime, grace: timedelta) -> str | None:
        return clock.refusal(self.phase, self.extensions, now, grace)

    def extra_minutes(self) -> float:
        return float(sum(extension.minutes for extension in self.extensions))


_WINDOW_COLUMNS = """
    SELECT p.id AS phase_id, p.starts_at, p.ends_at, p.paused_at, p.ended_at,
           (SELECT COALESCE(SUM(e.minutes), 0) FROM extension e
             WHERE e.phase_id = p.id AND e.station_id = :station) AS extra_minutes"""


_OF_THE_STATIONS_SESSION = """
       AND p.exam_session_id = (SELECT exam_session_id FROM station WHERE id = :station)
"""


def window_statement(phase_name: str, also: str = "", **types) -> TextualSelect:
    """The one read of a station's window (`:station`) in `phase_name` of the station's own
    session (a text statement: kiosk.scope does not see it), to compile once at import.
    `also` adds columns to the same statement (with their `types`): the answer save reads its
    sitting and its last seq in it, and stays at one read per save."""
    if not KEY_PATTERN.fullmatch(phase_name):
        raise ValueError(f"no part {phase_name!r}")  # the key is written into the SQL
    return text(f"{_WINDOW_COLUMNS}{also}\n      FROM phase p WHERE p.name = '{phase_name}'"
                f"{_OF_THE_STATIONS_SESSION}").columns(
        phase_id=Integer, starts_at=UTCDateTime, ends_at=UTCDateTime, paused_at=UTCDateTime,
        ended_at=UTCDateTime, extra_minutes=Float, **types)


# Compiled once per part key, on first use; a day has at most a few parts (callers check a key
# against the timetable first), and the cache stops growing past that anyway.
_WINDOWS: dict[str, TextualSelect] = {}
_WINDOWS_KEPT = 64


def station_window(session: Session, phase_name: str, station_id: int, *,
                   statement: TextualSelect | None = None) -> StationWindow:
    """This station's window in `phase_name`: one statement, `statement` if given (made by
    `window_statement` for the same phase)."""
    if statement is None:
        statement = _WINDOWS.get(phase_name)
        if statement is None:
            statement = window_statement(phase_name)
            if len(_WINDOWS) < _WINDOWS_KEPT:
                _WINDOWS[phase_name] = statement
    found = session.execute(statement, {"station": station_id}).first()
    if found is None:
        return StationWindow(None, None)
    phase = clock.Phase(phase_name, found.starts_at, found.ends_at, found.paused_at,
                        found.ended_at)
    # Summed in SQL: the rules only ever add a station's extensions up.
    extensions = (clock.Extension(found.extra_minutes),) if found.extra_minutes else ()
    return StationWindow(found.phase_id, phase, extensions, found)


@dataclass(frozen=True)
class PhaseWindows:
    """Many stations' windows in one phase (`row`, as stored), read with one query."""

    phase_id: int | None
    phase: clock.Phase | None
    extensions: dict[int, tuple[clock.Extension, ...]] = field(default_factory=dict)

    def of(self, station_id: int) -> StationWindow:
        return StationWindow(self.phase_id, self.phase, self.extensions.get(station_id, ()))

    def over_for_everyone(self, now: datetime) -> bool:
        return clock.over_for_everyone(self.phase, self.extensions.values(), now)

    def last_deadline(self, now: datetime) -> datetime | None:
        """The latest of these stations' deadlines (the phase's own end if none is extended)."""
        deadlines = [clock.station_deadline(self.phase, extensions, now)
                     for extensions in ((), *self.extensions.values())]
        return None if None in deadlines else max(deadlines)


def phase_windows(session: Session, row: PhaseRow | None,
                  station_ids: Iterable[int] | None = None) -> PhaseWindows:
    """The windows of `station_ids` (every station if None) in the phase `row`: its
    extensions in one query, none without a phase."""
    if row is None:
        return PhaseWindows(None, None)
    if station_ids is not None and not (station_ids := list(station_ids)):
        return PhaseWindows(row.id, as_rule(row))  # no station asked: no query
    query = select(Extension.station_id, Extension.minutes).where(Extension.phase_id == row.id)
    if station_ids is not None:
        query = query.where(Extension.station_id.in_(station_ids))
    extensions: dict[int, list[clock.Extension]] = {}
    for station_id, minutes in session.execute(query.order_by(Extension.id)):
        extensions.setdefault(station_id, []).append(clock.Extension(minutes))
    return PhaseWindows(row.id, as_rule(row), {station_id: tuple(found) for station_id, found
                                               in extensions.items()})
