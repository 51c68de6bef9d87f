"""Results by station: the theory score, the practical mark, the deductions and the total
(`results.arithmetic`), live before the lock and the frozen copy after it
(`results.submission`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.errors import N_, Problem
from kiosk.results.arithmetic import compute_total
from kiosk.results.mark_entry import agreed_marks
from kiosk.results.models import (
    Deduction,
    MarkEntry,
    ResultsLock,
    ReviewItem,
)
from kiosk.stations import phases
from kiosk.stations.models import EarlyFinish, Station
from kiosk.stations.window import phase_windows
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper, Sitting

# ----------------------------------------------------------------------------- station results

@dataclass(frozen=True)
class StationResult:
    station: str
    theory: Decimal | None  # the raw score on the paper
    theory_full: Decimal | None
    theory_weighted: Decimal | None
    practical: Decimal | None
    deduction: Decimal
    total: Decimal | None
    time_used_s: float | None  # theory + practical working time
    problems: tuple[str, ...] = ()  # N_ messages: why there is no total yet

    def to_json(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
        data["problems"] = list(self.problems)
        return data

    @classmethod
    def from_json(cls, data: dict) -> StationResult:
        def number(key: str) -> Decimal | None:
            return Decimal(data[key]) if data.get(key) is not None else None

        return cls(data["station"], number("theory"), number("theory_full"),
                   number("theory_weighted"), number("practical"), Decimal(data["deduction"]),
                   number("total"), data.get("time_used_s"), tuple(data.get("problems", ())))


def scored_station_ids(session: Session) -> dict[int, str]:
    """Stations to score: drawn (occupied), or with a theory sitting or a practical mark (a
    contestant moved to a spare seat)."""
    ids = set(session.scalars(select(Station.id).where(Station.occupied)))
    ids |= set(session.scalars(select(Sitting.station_id)))
    ids |= set(session.scalars(select(MarkEntry.station_id)))
    return dict(sorted(session.execute(select(Station.id, Station.code)
                                       .where(Station.id.in_(ids))).all(),
                       key=lambda pair: pair[1]))


def practical_marks(session: Session) -> dict[str, Decimal]:
    """The practical mark in force: a review correction, else the agreed double entry."""
    marks = agreed_marks(session)
    for code, mark in session.execute(
            select(Station.code, ReviewItem.corrected_mark)
            .join(Station, Station.id == ReviewItem.station_id)
            .where(ReviewItem.status == "corrected")):
        marks[code] = mark
    return marks


def _practical_seconds(session: Session, station_ids: dict[int, str],
                       now: datetime) -> dict[int, float]:
    row = phases.get_phase(session, "practical")
    windows = phase_windows(session, row)
    if not clock.has_started(windows.phase, now):
        return {}
    pause_list = phases.pauses(session, row.id)
    finished = dict(session.execute(select(EarlyFinish.station_id, EarlyFinish.at)
                                    .where(EarlyFinish.phase_id == row.id)).all())
    seconds = {}
    for station_id in station_ids:
        deadline = windows.of(station_id).deadline(now)
        until = finished.get(station_id) or min(deadline or now, now)
        seconds[station_id] = round(clock.seconds_used(windows.phase, pause_list, until), 3)
    return seconds


def theory_over(session: Session, now: datetime) -> bool:
    """The theory exam is over for every station (`clock.over_for_everyone`). Before that a
    station may still change its answers, and a total would move under the review."""
    return phase_windows(session, phases.get_phase(session, exam.PHASE)).over_for_everyone(now)


def grade_theory(session: Session, now: datetime) -> None:
    """Grade every theory paper once the exam has ended (its own write transaction)."""
    if theory_over(session, now):
        exam.grade_all(session, now=now)


def live_results(session: Session, *, theory_weight: Decimal, now: datetime,
                 grade: bool = True) -> list[StationResult]:
    """Every scored station's result from the live marks; the theory papers are graded first
    unless `grade` is False (the caller did it). A station without a total says why in
    `problems`."""
    if grade:
        grade_theory(session, now)
    station_ids = scored_station_ids(session)
    over = theory_over(session, now)
    graded = {code: sitting for sitting, code in session.execute(
        select(Sitting, Station.code).join(Station, Station.id == Sitting.station_id)
        .where(Sitting.score.is_not(None)))} if over else {}
    fulls = dict(session.execute(select(Paper.station_id, Paper.full_marks)).all())
    default_full = max(fulls.values(), default=Decimal(100))
    practical = practical_marks(session)
    deductions: dict[int, list[tuple[str, Decimal]]] = {}
    for station_id, unit, amount in session.execute(
            select(Deduction.station_id, Deduction.unit, Deduction.amount)):
        deductions.setdefault(station_id, []).append((unit, amount))
    practical_seconds = _practical_seconds(session, station_ids, now)
    results = []
    for station_id, code in station_ids.items():
        problems = []
        full = fulls.get(station_id, default_full)
        if not theory_weight:
            theory = Decimal(0)
        elif over:
            # Nobody answered at this station: the theory exam was missed and scores 0.
            theory = graded[code].score if code in graded else Decimal(0)
        else:
            theory = None
            problems.append(N_("the theory exam has not ended"))
        mark = practical.get(code)
        if mark is None:
            problems.append(N_("no agreed practical mark"))
        theory_time = graded[code].time_used_s if code in graded else None
        times = [t for t in (theory_time, practical_seconds.get(station_id)) if t is not None]
        time_used = round(sum(times), 3) if times else None
        if theory is not None and mark is not None:
            total = compute_total(theory, full, theory_weight, mark, deductions.get(station_id, []))
            results.append(StationResult(code, theory, full, total.theory_weighted, mark,
                                         total.deduction, total.total, time_used))
        else:
            results.append(StationResult(code, theory, full, None, mark, Decimal(0), None,
                                         time_used, tuple(problems)))
    return results


def locked_results(session: Session) -> tuple[ResultsLock, list[StationResult]] | None:
    lock = session.scalar(select(ResultsLock))
    if lock is None:
        return None
    return lock, [StationResult.from_json(item) for item in json.loads(lock.snapshot)]


def results(session: Session, *, theory_weight: Decimal, now: datetime) -> list[StationResult]:
    """The locked copy once locked; the live results before."""
    locked = locked_results(session)
    if locked is not None:
        return locked[1]
    return live_results(session, theory_weight=theory_weight, now=now)


def missing_totals(current: list[StationResult]) -> list[Problem]:
    missing = [r.station for r in current if r.total is None]
    if not missing:
        return []
    return [Problem(None, N_("No total yet for %(n)s stations: %(stations)s"),
                    {"n": len(missing), "stations": ", ".join(missing[:20])
                     + (" …" if len(missing) > 20 else "")})]
