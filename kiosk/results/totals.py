"""Results by station: the theory score, the practical mark, the deductions and the total
(`results.arithmetic`), live before the lock and the frozen copy after it
(`results.submission`).

In an event of several sessions (场次) each result is a seat's (`results.seats`): its session
and station. The theory score and the working time are read in the station's own session (its
own clock: the theory part's window, the practical parts' starts, pauses and early finishes);
the marks, deductions and review corrections are keyed by the station row, so they are that
session's by construction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.errors import N_, Problem
from kiosk.models import ExamSession
from kiosk.results import mark_entry, seats
from kiosk.results.arithmetic import compute_total
from kiosk.results.mark_entry import agreed_marks
from kiosk.results.models import (
    Deduction,
    MarkEntry,
    ResultsLock,
    ReviewItem,
)
from kiosk.stations import exam_sessions, phases, timetable
from kiosk.stations.models import EarlyFinish, PhasePause, PhaseRow, Station
from kiosk.stations.timetable import THEORY_KEY
from kiosk.stations.window import as_rule, phase_windows
from kiosk.theory_exam import exam, paper_fallback
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
    time_used_s: float | None  # theory + practical working time (every part's)
    problems: tuple[str, ...] = ()  # N_ messages: why there is no total yet
    tasks: dict[str, Decimal] = field(default_factory=dict)  # agreed mark per part or task
    session: str = ""  # the session's code ("" for the implicit one)

    @property
    def seat(self) -> str:
        return seats.key(self.session, self.station)

    def to_json(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
        data["problems"] = list(self.problems)
        data["tasks"] = {task: str(mark) for task, mark in self.tasks.items()}
        if not self.session:
            # The implicit session's results read (and lock) exactly as before sessions.
            del data["session"]
        return data

    @classmethod
    def from_json(cls, data: dict) -> StationResult:
        def number(key: str) -> Decimal | None:
            return Decimal(data[key]) if data.get(key) is not None else None

        return cls(data["station"], number("theory"), number("theory_full"),
                   number("theory_weighted"), number("practical"), Decimal(data["deduction"]),
                   number("total"), data.get("time_used_s"), tuple(data.get("problems", ())),
                   {task: Decimal(mark) for task, mark in data.get("tasks", {}).items()},
                   data.get("session", ""))


def scored_station_ids(session: Session) -> dict[int, str]:
    """Stations to score, in view: drawn (occupied), or with a theory sitting or a practical
    mark (a contestant moved to a spare seat); station id → seat, in the day's order of the
    sessions, then by station code."""
    ids = set(session.scalars(select(Station.id).where(Station.occupied)))
    ids |= set(session.scalars(select(Sitting.station_id)))
    ids |= set(session.scalars(select(MarkEntry.station_id)))
    places = seats.positions(session)
    # Every station in view, then those: not 500 ids sent back as literals of a query.
    return dict(sorted(((station_id, seat) for station_id, seat in
                        seats.seats_by_id(session).items() if station_id in ids),
                       key=lambda pair: seats.order(pair[1], places)))


def practical_marks(session: Session) -> dict[str, Decimal]:
    """seat → the practical mark in force: a review correction, else the agreed double
    entry."""
    return _corrections_applied(session, agreed_marks(session))


def _corrections_applied(session: Session, marks: dict[str, Decimal]) -> dict[str, Decimal]:
    for session_code, code, mark in session.execute(
            select(ExamSession.code, Station.code, ReviewItem.corrected_mark)
            .join(Station, Station.id == ReviewItem.station_id)
            .join(ExamSession, ExamSession.id == Station.exam_session_id)
            .where(ReviewItem.status == "corrected")):
        marks[seats.key(session_code, code)] = mark
    return marks


def day_parts(session: Session) -> list[tuple[str, str]]:
    """(key, kind) of the day's parts in order (the timetable's outline)."""
    return [(part.key, part.kind) for part in timetable.outline(session)]


def has_theory(parts: list[tuple[str, str]]) -> bool:
    """A day without a theory part (seed 000) has no theory score at all, not zeros."""
    return any(kind == "theory" for _key, kind in parts)


def _practical_rows(session: Session) -> list[PhaseRow]:
    keys = [key for key, kind in day_parts(session) if kind == "practical"]
    rows = {row.name: row for row in session.scalars(select(PhaseRow)
                                                     .where(PhaseRow.name.in_(keys)))}
    return [rows.get(key) for key in keys]


def _practical_seconds(session: Session, station_ids: dict[int, str],
                       now: datetime) -> dict[int, float]:
    """Working time summed over the practical parts that have started: each from its start to
    the station's early finish (提前结束), else to its own deadline in that part (extensions
    included, so it may exceed the part's length), else now; minus that part's pauses. A few
    queries per part, whatever the number of stations."""
    started = [row for row in _practical_rows(session)
               if row is not None and clock.has_started(as_rule(row), now)]
    if not started:
        return {}
    ids = [row.id for row in started]
    pause_lists: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for phase_id, begun, ended in session.execute(
            select(PhasePause.phase_id, PhasePause.started_at, PhasePause.ended_at)
            .where(PhasePause.phase_id.in_(ids)).order_by(PhasePause.id)):
        pause_lists.setdefault(phase_id, []).append((begun, ended))
    finished = {(phase_id, station_id): at for phase_id, station_id, at in session.execute(
        select(EarlyFinish.phase_id, EarlyFinish.station_id, EarlyFinish.at)
        .where(EarlyFinish.phase_id.in_(ids)))}
    seconds = dict.fromkeys(station_ids, 0.0)
    for row in started:
        windows = phase_windows(session, row)
        pause_list = pause_lists.get(row.id, [])
        worked: dict[datetime, float] = {}  # until → seconds: most stations share their end
        for station_id in station_ids:
            deadline = windows.of(station_id).deadline(now)
            until = finished.get((row.id, station_id)) or min(deadline or now, now)
            if until not in worked:
                worked[until] = clock.seconds_used(windows.phase, pause_list, until)
            seconds[station_id] += worked[until]
    return {station_id: round(total, 3) for station_id, total in seconds.items()}


def practical_open(session: Session, now: datetime) -> bool:
    """Some practical part has started and the practical is not over: a part still runs for
    some station (its extensions included), or a later practical part has not run yet. A day
    whose practical parts were never clocked here (scored on paper) is not open. Several
    sessions in view: open in any of them."""
    return any(_practical_open(session, now) for _s in seats.each_session(session))


def _practical_open(session: Session, now: datetime) -> bool:
    rows = _practical_rows(session)
    started = [row for row in rows if row is not None and clock.has_started(as_rule(row), now)]
    if not started:
        return False
    return len(started) < len(rows) or not all(
        phase_windows(session, row).over_for_everyone(now) for row in started)


def theory_over(session: Session, now: datetime) -> bool:
    """The theory exam is over for every station (`clock.over_for_everyone`). Before that a
    station may still change its answers, and a total would move under the review. A day
    without a theory part has nothing to wait for. Several sessions in view: over in every
    one (each on its own clock)."""
    return all(_theory_over(session, now) for _s in seats.each_session(session))


def _theory_over(session: Session, now: datetime) -> bool:
    if THEORY_KEY not in timetable.keys(session):
        return True
    return phase_windows(session, phases.get_phase(session, exam.PHASE)).over_for_everyone(now)


def grade_theory(session: Session, now: datetime) -> None:
    """Grade every theory paper once the exam has ended, session by session (its own write
    transaction)."""
    for _exam_session in seats.each_session(session):
        if _theory_over(session, now):
            exam.grade_all(session, now=now)


def live_results(session: Session, *, theory_weight: Decimal, now: datetime,
                 grade: bool = True) -> list[StationResult]:
    """Every scored station's result from the live marks, of the sessions in view (every
    session's, unscoped), in the day's order of the sessions; the theory papers are graded
    first unless `grade` is False (the caller did it). A station without a total says why in
    `problems`. A day without a theory part gives no theory score (None) and weights nothing:
    the total is the practical mark less the deductions."""
    if grade:
        grade_theory(session, now)
    deductions: dict[int, list[tuple[str, Decimal]]] = {}
    for station_id, unit, amount in session.execute(
            select(Deduction.station_id, Deduction.unit, Deduction.amount)):
        deductions.setdefault(station_id, []).append((unit, amount))
    fulls = dict(session.execute(select(Paper.station_id, Paper.full_marks)).all())
    agreed, agreed_tasks = mark_entry.agreed(session)
    marks = _Marks(_corrections_applied(session, agreed), _corrected(session), agreed_tasks,
                   deductions, fulls, max(fulls.values(), default=Decimal(100)))
    results = []
    for exam_session in seats.each_session(session):
        results += _session_results(session, exam_session.code, marks,
                                    theory_weight=theory_weight, now=now)
    return results


@dataclass(frozen=True)
class _Marks:
    """What the results read keyed by seat or station row, whichever session it is of."""

    practical: dict[str, Decimal]
    corrected: set[str]
    by_task: dict[str, dict[str, Decimal]]
    deductions: dict[int, list[tuple[str, Decimal]]]
    fulls: dict[int, Decimal]
    default_full: Decimal


def _session_results(session: Session, session_code: str, marks: _Marks, *,
                     theory_weight: Decimal, now: datetime) -> list[StationResult]:
    """The results of one session's stations (`session` scoped to it): its own clock."""
    station_ids = scored_station_ids(session)
    with_theory = has_theory(day_parts(session))
    over = with_theory and _theory_over(session, now)
    # The graded sittings as columns, not 500 ORM objects.
    graded = {station_id: (score, time_used) for station_id, score, time_used in session.execute(
        select(Sitting.station_id, Sitting.score, Sitting.time_used_s)
        .join(Station, Station.id == Sitting.station_id)
        .where(Sitting.score.is_not(None)))} if over else {}
    # A station answering on paper has no theory score until its answer sheet is agreed.
    sheet_pending = paper_fallback.pending_station_ids(session) if over else set()
    practical_seconds = _practical_seconds(session, station_ids, now)
    still_open = _practical_open(session, now)
    results = []
    for station_id, seat in station_ids.items():
        code = seats.split(seat)[1]
        problems = []
        full = marks.fulls.get(station_id, marks.default_full) if with_theory else None
        if not with_theory:
            theory = None
        elif not theory_weight:
            theory = Decimal(0)
        elif station_id in sheet_pending:
            theory = None
            problems.append(N_("its paper answer sheet is not agreed yet"))
        elif over:
            # Nobody answered at this station: the theory exam was missed and scores 0.
            theory = graded[station_id][0] if station_id in graded else Decimal(0)
        else:
            theory = None
            problems.append(N_("the theory exam has not ended"))
        if still_open:
            problems.append(N_("the practical exam has not ended"))
        mark = marks.practical.get(seat)
        if mark is None:
            problems.append(N_("no agreed practical mark"))
        # A review correction replaces the practical total; its old breakdown no longer adds up.
        task_marks = {} if seat in marks.corrected else marks.by_task.get(seat, {})
        theory_time = graded[station_id][1] if station_id in graded else None
        times = [t for t in (theory_time, practical_seconds.get(station_id)) if t is not None]
        time_used = round(sum(times), 3) if times else None
        if not problems:
            total = compute_total(theory or Decimal(0), full or Decimal(1),
                                  theory_weight if with_theory else Decimal(0), mark,
                                  marks.deductions.get(station_id, []))
            results.append(StationResult(
                code, theory, full, total.theory_weighted if with_theory else None, mark,
                total.deduction, total.total, time_used, (), task_marks, session_code))
        else:
            results.append(StationResult(code, theory, full, None, mark, Decimal(0), None,
                                         time_used, tuple(problems), task_marks, session_code))
    return results


def _corrected(session: Session) -> set[str]:
    return {seats.key(session_code, code) for session_code, code in session.execute(
        select(ExamSession.code, Station.code)
        .join(ReviewItem, ReviewItem.station_id == Station.id)
        .join(ExamSession, ExamSession.id == Station.exam_session_id)
        .where(ReviewItem.status == "corrected"))}


def locked_results(session: Session) -> tuple[ResultsLock, list[StationResult]] | None:
    """The lock and its frozen results (every session's: there is one lock)."""
    lock = session.scalar(select(ResultsLock))
    if lock is None:
        return None
    return lock, [StationResult.from_json(item) for item in json.loads(lock.snapshot)]


def results(session: Session, *, theory_weight: Decimal, now: datetime) -> list[StationResult]:
    """The locked copy once locked; the live results before (of the sessions in view)."""
    locked = locked_results(session)
    if locked is not None:
        shown = {s.code for s in exam_sessions.in_view(session)}
        return [r for r in locked[1] if r.session in shown]
    return live_results(session, theory_weight=theory_weight, now=now)


def missing_totals(current: list[StationResult]) -> list[Problem]:
    missing = [r.seat for r in current if r.total is None]
    if not missing:
        return []
    return [Problem(None, N_("No total yet for %(n)s stations: %(stations)s"),
                    {"n": len(missing), "stations": ", ".join(missing[:20])
                     + (" …" if len(missing) > 20 else "")})]
