"""The hall's progress during a part, per minute, from what is stored anyway: the answer saves
(`answer_event.received_at`, every click the save path recorded and applied), the theory's
hand-ins (交卷: `sitting.submitted_at`) and the practical's (`hand_in.received_at`). Nothing
is written for it: the save path stays as it is.

Counted in the database (one GROUP BY per table, a row per minute), whatever the number of
stations; of the session (场次) the database session is scoped to (through the station row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from kiosk.collect.models import HandIn
from kiosk.config import Settings
from kiosk.stations import timetable
from kiosk.stations.models import Station
from kiosk.theory_exam.models import AnswerEvent, Sitting

MAX_MINUTES = 12 * 60  # a part longer than this is shown from its last 12 hours


@dataclass(frozen=True)
class Progress:
    part: str  # the part's key
    state: str  # its state now (running, paused, ended)
    start: datetime  # minute 0
    minutes: int
    answers: tuple[int, ...]  # answer saves per minute
    submissions: tuple[int, ...]  # theory papers handed in (交卷) per minute
    hand_ins: tuple[int, ...]  # practical hand-ins per minute

    def at(self, minute: int) -> datetime:
        return self.start + timedelta(minutes=minute)


def parts_begun(session: Session, settings: Settings, now: datetime) -> list[timetable.PartNow]:
    """The parts that began, in the day's order (the page's choice)."""
    return [p for p in timetable.day(session, settings, now).parts if p.starts_at is not None
            and p.state != "scheduled"]


def hall_progress(session: Session, settings: Settings, now: datetime,
                  part_key: str | None = None) -> Progress | None:
    """Per minute of one part (the one named, else the one under way or that began last),
    from its start to now or to its last station's deadline; None before any part began."""
    day = timetable.day(session, settings, now)
    part = day.of(part_key) if part_key else day.last_started()
    if part is None or part.starts_at is None or part.starts_at > now:
        return None
    start = part.starts_at.replace(second=0, microsecond=0)
    end = now if part.state in ("running", "paused") else min(
        now, max(part.last_deadline or part.ends_at or now, part.ends_at or now)
        + timedelta(minutes=1))
    minutes = max(1, min(MAX_MINUTES, math.ceil((end - start).total_seconds() / 60)))
    start = max(start, end - timedelta(minutes=minutes))
    stop = start + timedelta(minutes=minutes)
    first = _epoch_minute(session, start)

    def per_minute(column, *where) -> tuple[int, ...]:
        counts = [0] * minutes
        bucket = _minute_expression(session, column)
        statement = select(bucket, func.count()).join(Station, Station.id == column.class_
                                                      .station_id) \
            .where(column >= start, column < stop, *where).group_by(bucket)
        for minute, count in session.execute(statement):
            index = int(minute) - first
            if 0 <= index < minutes:
                counts[index] += count
        return tuple(counts)

    return Progress(part.key, part.state, start, minutes,
                    per_minute(AnswerEvent.received_at, AnswerEvent.applied),
                    per_minute(Sitting.submitted_at),
                    per_minute(HandIn.received_at))


def _epoch_minute(session: Session, moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def _minute_expression(session: Session, column):
    """Minutes since 1970 (UTC) of a stored moment, in the database's own SQL."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return cast(func.strftime("%s", column), Integer) // 60
    return func.floor(func.extract("epoch", column) / 60)
