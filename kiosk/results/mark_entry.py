"""Practical marks by station only, entered twice and compared (never averaged).

Two scorekeepers import or type the marks independently (entry 1 and entry 2). Every difference
— per station and task, a missing mark included — is listed until the chief judge resolves it
with a reason. Marks are exact decimals from the file to the total: no float anywhere.

In an event of several sessions (场次) a mark is a seat's (`results.seats`: the session and the
station): a marks file gives `场次, 赛位号, 分数`, the 场次 cell being a session's code or its
name. A file may hold several sessions' rows; an import restricted to one session (`--session`,
a database session scoped to it) takes that session's rows only, and the 场次 column may then be
left out. An import replaces this entry's marks of the sessions it holds, no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, numbers, scope, tabular
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, Problem
from kiosk.models import ExamSession
from kiosk.progress import NO_PROGRESS, STAGE_SAVING, Progress
from kiosk.results import seats, tasks
from kiosk.results.models import MarkEntry, MarkResolution
from kiosk.results.stages import require_entry_open
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station

SCORE_COLUMNS = {
    "station": ("赛位号", "工位号", "赛位", "station"),
    "mark": ("分数", "成绩", "总分", "实操成绩", "mark", "score", "total"),
}
SESSION_COLUMN = {"session": ("场次", "session")}  # read once the event defines sessions
TOTAL = ""  # the task name of the practical total


def parse_mark(text: str) -> Decimal | None:
    """A mark as typed or imported: digits, two decimals at most; full-width forms ("８０")
    are normalised (`kiosk.numbers`); anything else is None."""
    return numbers.parse_decimal(text)


def import_marks(session: Session, data: bytes, filename: str, *, entry: int,
                 full_marks: Decimal, actor: audit.Actor, now: datetime,
                 progress: Progress = NO_PROGRESS) -> int:
    """All rows or none; replaces this scorekeeper's earlier entry of the sessions the file
    holds (every session of an event without sessions). Returns stations imported."""
    if entry not in (1, 2):
        raise KioskError(N_("The entry is 1 or 2 (the first or the second scorekeeper)."))
    sessions = exam_sessions.in_view(session)
    every = exam_sessions.every(session)
    with_sessions = any(s.code for s in every)
    rows = tabular.read_table(data, filename, {**SCORE_COLUMNS, **(SESSION_COLUMN if
                                                                   with_sessions else {})},
                              required=["station"], keep_unknown=True, progress=progress)
    progress.stage(STAGE_SAVING)
    with scope.event_wide(session):
        stations = seats.keyed_stations(session)
        full_marks = tasks.practical_full(session, full_marks)
        task_fulls = tasks.full_marks(session)
        parts = tasks.practical_parts(session)
    problems: list[Problem] = []
    columns = _task_columns(rows, parts, task_fulls, problems)
    session_of = _row_sessions(rows, sessions, every if with_sessions else [], problems)
    marks: list[tuple[int, str, Decimal]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.line not in session_of:
            continue
        exam_session = session_of[row.line]
        code = row.get("station").upper()
        seat = seats.key(exam_session.code, code)
        if seat not in stations:
            problems.append(_unknown_station(row.line, code, exam_session, with_sessions))
            continue
        if seat in seen:
            problems.append(Problem(row.line, N_("station %(station)s appears again (first on "
                                                 "line %(first)s)"),
                                    {"station": seat, "first": seen[seat]}))
            continue
        seen[seat] = row.line
        found = _row_marks(row, columns, task_fulls, full_marks, problems)
        if found is not None:
            total, task_marks = found
            marks.append((stations[seat], TOTAL, total))
            marks += [(stations[seat], task, value) for task, value in task_marks.items()]
    if not rows:
        problems.append(Problem(None, N_("The file has a header but no marks.")))
    if problems:
        raise ImportErrors(problems)
    held = {exam_session.id for exam_session in session_of.values()}
    with write_transaction(session), scope.event_wide(session):
        require_entry_open(session)
        _require_two_people(session, entry, actor)
        replaced = select(Station.id).where(Station.exam_session_id.in_(held))
        session.execute(delete(MarkEntry).where(MarkEntry.entry == entry,
                                                MarkEntry.station_id.in_(replaced)))
        session.add_all(MarkEntry(station_id=station_id, task=task[:64], entry=entry, mark=mark,
                                  entered_by=actor.name, entered_at=now, source=filename[:128])
                        for station_id, task, mark in marks)
        details = {"entry": entry, "stations": len(seen), "file": filename[:128]}
        if with_sessions:
            details["sessions"] = sorted(s.code for s in session_of.values())
        audit.record(session, actor, "marks.imported", at=now, subject=f"entry {entry}",
                     details=details)
    return len(seen)


def _row_sessions(rows: list[tabular.Row], sessions: list[ExamSession],
                  defined: list[ExamSession], problems: list[Problem]) -> dict[int, ExamSession]:
    """line → the session of each row: its 场次 cell (a code or a name), else the only session
    the import is about (`sessions`: those in view; `defined`: the event's, none in an event
    without sessions). A file without the 场次 column while several sessions are in view is
    one problem on the header."""
    if not defined or not rows:
        return {row.line: sessions[0] for row in rows}
    has_column = any("session" in row.cells for row in rows)
    if not has_column and len(sessions) > 1:
        problems.append(Problem(1, N_("no 场次 column: this event has several sessions "
                                      "(%(codes)s); give each row its session, or import one "
                                      "session with --session"),
                                {"codes": ", ".join(s.code for s in sessions)}))
        return {}
    found = {}
    for row in rows:
        text = row.get("session").strip()
        if not text and len(sessions) == 1:
            found[row.line] = sessions[0]
            continue
        match = next((s for s in sessions if _names(s, text)), None)
        if match is not None:
            found[row.line] = match
        elif not text:
            problems.append(Problem(row.line, N_("no 场次 (session) given"), {}))
        elif any(_names(s, text) for s in defined):
            problems.append(Problem(row.line, N_("session %(session)s: this import is for "
                                                 "session %(chosen)s only"),
                                    {"session": text, "chosen": sessions[0].code}))
        else:
            problems.append(Problem(row.line, N_("unknown session %(session)s (the sessions "
                                                 "are %(codes)s)"),
                                    {"session": text,
                                     "codes": ", ".join(s.code for s in sessions)}))
    return found


def _names(exam_session: ExamSession, text: str) -> bool:
    """A 场次 cell names the session by its code (any case) or its name."""
    return bool(text) and bool(exam_session.code) and (
        exam_session.code.upper() == text.upper() or exam_session.name == text)


def _unknown_station(line: int, code: str, exam_session: ExamSession,
                     with_sessions: bool) -> Problem:
    if with_sessions:
        return Problem(line, N_("no station %(station)s in session %(session)s"),
                       {"station": code or "—", "session": exam_session.code})
    return Problem(line, N_("unknown station %(station)s"), {"station": code or "—"})


def _row_marks(row: tabular.Row, columns: dict[str, str], task_fulls: dict[str, Decimal],
               full_marks: Decimal,
               problems: list[Problem]) -> tuple[Decimal, dict[str, Decimal]] | None:
    """(total, task marks) of one row; None (and its problems added) if there is no total."""
    given = {name[6:]: text for name, text in row.cells.items()
             if name.startswith("extra:") and text and name[6:] in columns}
    task_marks: dict[str, Decimal] = {}
    for header, text in given.items():
        task, value = columns[header], parse_mark(text)
        if value is None or value < 0:
            problems.append(Problem(row.line, N_("%(task)s: %(value)s is not a mark"),
                                    {"task": header, "value": text}))
        elif task in task_fulls and value > task_fulls[task]:
            problems.append(Problem(row.line, N_("%(task)s: %(value)s is above its full "
                                                 "marks %(full)s"),
                                    {"task": header, "value": text,
                                     "full": task_fulls[task]}))
        else:
            task_marks[task] = value
    total = parse_mark(row.get("mark")) if row.get("mark") else None
    if row.get("mark") and total is None:
        problems.append(Problem(row.line, N_("%(value)s is not a mark (two decimals at "
                                             "most)"), {"value": row.get("mark")}))
        return None
    if total is None:
        if not given:
            problems.append(Problem(row.line, N_("no mark for %(station)s"),
                                    {"station": row.get("station").upper()}))
            return None
        total = sum(task_marks.values(), Decimal(0))
    elif task_marks and sum(task_marks.values(), Decimal(0)) != total:
        problems.append(Problem(row.line, N_("the tasks add up to %(sum)s, not %(total)s"),
                                {"sum": sum(task_marks.values(), Decimal(0)),
                                 "total": total}))
    if not Decimal(0) <= total <= full_marks:
        problems.append(Problem(row.line, N_("%(value)s is outside 0–%(full)s"),
                                {"value": total, "full": full_marks}))
    return total, task_marks


def _task_columns(rows: list[tabular.Row], parts: list[tasks.PracticalPart],
                  known: dict[str, Decimal], problems: list[Problem]) -> dict[str, str]:
    """header → task for every task column (a practical part's by its key, name or short
    name; any other by its header). Two columns for one task are a problem on the header."""
    headers = dict.fromkeys(name[6:] for row in rows for name in row.cells
                            if name.startswith("extra:"))
    columns: dict[str, str] = {}
    for header in headers:
        task = tasks.column_task(header, parts, known)
        first = next((h for h, t in columns.items() if t == task), None)
        if first is not None:
            problems.append(Problem(1, N_("columns %(first)s and %(again)s are both %(task)s"),
                                    {"first": first, "again": header, "task": task}))
            continue
        columns[header] = task
    return columns


def _require_two_people(session: Session, entry: int, actor: audit.Actor) -> None:
    """Two scorekeepers means two people: whoever typed one entry may not type the other (the
    command line is one operator importing two people's files, so it is not checked)."""
    if actor.role == "cli":
        return
    if entered_the_other(session, entry, actor.name):
        raise Conflict(OTHER_ENTRY)


OTHER_ENTRY = N_("You entered the other entry; the second entry must come from another "
                 "scorekeeper.")


def entered_the_other(session: Session, entry: int, username: str) -> bool:
    """Whether `username` typed marks in the other entry (then this one is not theirs)."""
    return session.scalar(select(MarkEntry.id).where(MarkEntry.entry == 3 - entry,
                                                     MarkEntry.entered_by == username)
                          .limit(1)) is not None


def enter_marks(session: Session, typed: dict[str, str], *, entry: int, full_marks: Decimal,
                actor: audit.Actor, now: datetime) -> int:
    """Marks typed on the score-entry page: {seat: text} (`A01`, or `AM/A01` in an event of
    sessions); blank leaves a station as it is. Every problem is listed and nothing changes if
    there is one. A typed total replaces that station's earlier total and task marks in this
    entry."""
    if entry not in (1, 2):
        raise KioskError(N_("The entry is 1 or 2 (the first or the second scorekeeper)."))
    with scope.event_wide(session):
        stations = seats.keyed_stations(session)
        full_marks = tasks.practical_full(session, full_marks)
    problems: list[Problem] = []
    marks: dict[int, Decimal] = {}
    for seat, text in typed.items():
        if not text.strip():
            continue
        value = parse_mark(text)
        if seat not in stations:
            problems.append(Problem(None, N_("unknown station %(station)s"), {"station": seat}))
        elif value is None or not Decimal(0) <= value <= full_marks:
            problems.append(Problem(None, N_("%(station)s: %(value)s is not a mark between 0 "
                                             "and %(full)s (two decimals at most)"),
                                    {"station": seat, "value": text.strip(), "full": full_marks}))
        else:
            marks[stations[seat]] = value
    if problems:
        raise ImportErrors(problems)
    if not marks:
        return 0
    with write_transaction(session), scope.event_wide(session):
        require_entry_open(session)
        _require_two_people(session, entry, actor)
        session.execute(delete(MarkEntry).where(MarkEntry.entry == entry,
                                                MarkEntry.station_id.in_(marks)))
        session.add_all(MarkEntry(station_id=station_id, task=TOTAL, entry=entry, mark=mark,
                                  entered_by=actor.name, entered_at=now, source="page")
                        for station_id, mark in marks.items())
        audit.record(session, actor, "marks.entered", at=now, subject=f"entry {entry}",
                     details={"entry": entry, "stations": len(marks)})
    return len(marks)


def _seated(query):
    """`query` over MarkEntry or MarkResolution, with each row's seat's two codes first."""
    return query.join(ExamSession, ExamSession.id == Station.exam_session_id)


def entry_marks(session: Session, entry: int) -> dict[str, tuple[Decimal, str]]:
    """seat → (total, who entered it) for one entry, of the stations in view."""
    return {seats.key(session_code, code): (mark, who)
            for session_code, code, mark, who in session.execute(_seated(
                select(ExamSession.code, Station.code, MarkEntry.mark, MarkEntry.entered_by)
                .join(Station, Station.id == MarkEntry.station_id))
                .where(MarkEntry.entry == entry, MarkEntry.task == TOTAL))}


@dataclass(frozen=True)
class Difference:
    station: str
    task: str
    first: Decimal | None
    second: Decimal | None
    session: str = ""  # the session's code ("" for the implicit one)

    @property
    def seat(self) -> str:
        return seats.key(self.session, self.station)


def _entries(session: Session) -> dict[tuple[str, str], dict[int, Decimal]]:
    marks: dict[tuple[str, str], dict[int, Decimal]] = {}
    for session_code, code, task, entry, mark in session.execute(_seated(
            select(ExamSession.code, Station.code, MarkEntry.task, MarkEntry.entry,
                   MarkEntry.mark).join(Station, Station.id == MarkEntry.station_id))):
        marks.setdefault((seats.key(session_code, code), task), {})[entry] = mark
    return marks


def _resolutions(session: Session) -> dict[tuple[str, str], Decimal]:
    return {(seats.key(session_code, code), task): mark
            for session_code, code, task, mark in session.execute(_seated(
                select(ExamSession.code, Station.code, MarkResolution.task, MarkResolution.mark)
                .join(Station, Station.id == MarkResolution.station_id)))}


def _with_tasks(entries: dict[tuple[str, str], dict[int, Decimal]]) -> set[str]:
    """Stations marked per part or task in either entry: their total is the tasks' sum."""
    return {code for code, task in entries if task != TOTAL}


def differences(session: Session) -> list[Difference]:
    """Every station and task where the entries disagree or one is missing, unresolved, of the
    stations in view (every session's, unscoped), in the day's order of the sessions. A station
    marked per task is compared per task; its total follows from them."""
    resolved = _resolutions(session)
    entries = _entries(session)
    by_task = _with_tasks(entries)
    places = seats.positions(session)
    found = []
    for (seat, task), marks in sorted(entries.items(),
                                      key=lambda item: (seats.order(item[0][0], places),
                                                        item[0][1])):
        if (seat, task) in resolved or (task == TOTAL and seat in by_task):
            continue
        first, second = marks.get(1), marks.get(2)
        if first is None or second is None or first != second:
            session_code, code = seats.split(seat)
            found.append(Difference(code, task, first, second, session_code))
    return found


def resolve(session: Session, station_code: str, mark: Decimal, reason: str, *,
            task: str = TOTAL, session_code: str | None = None, actor: audit.Actor,
            now: datetime) -> MarkResolution:
    """The chief judge's decision on a difference: `station_code` is a seat (`AM/A01`) or a
    station of `session_code`, else of the session in scope, else of the only one."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("Resolving a difference needs a reason."))
    if task != TOTAL:
        # 模块B or b is part B's mark, as in a marks file's header.
        with scope.event_wide(session):
            task = tasks.column_task(task, tasks.practical_parts(session),
                                     tasks.full_marks(session))
    with write_transaction(session):
        require_entry_open(session)
        station = seats.station(session, station_code, session_code)
        seat = seats.seat_of(session, station)
        existing = session.scalar(select(MarkResolution).where(
            MarkResolution.station_id == station.id, MarkResolution.task == task))
        resolution = existing or MarkResolution(station_id=station.id, task=task)
        resolution.mark, resolution.reason = mark, reason[:500]
        resolution.resolved_by, resolution.resolved_at = actor.name, now
        session.add(resolution)
        audit.record(session, actor, "marks.resolved", at=now, subject=seat,
                     details={"task": task, "mark": str(mark), "reason": reason[:500]})
    return resolution


def agreed_marks(session: Session) -> dict[str, Decimal]:
    """seat → the practical total of every station in view where both entries agree or the
    chief judge decided; stations still in dispute are left out. A station marked per part or
    task gets the sum of its tasks once every task is agreed (a decision on the total itself
    wins)."""
    return agreed(session)[0]


def agreed_task_marks(session: Session) -> dict[str, dict[str, Decimal]]:
    """seat → task → the agreed mark (both entries equal, or the chief judge's decision),
    for the tasks entered per part or task; the total ("") is `agreed_marks`."""
    return _agreed_tasks(_entries(session), _resolutions(session))


def agreed(session: Session) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """(`agreed_marks`, `agreed_task_marks`) from one read of the entries and the decisions
    (the overview needs both; each read them twice before)."""
    resolved = _resolutions(session)
    entries = _entries(session)
    tasks_of: dict[str, set[str]] = {}  # the stations marked per task: their tasks
    for code, task in entries:
        if task != TOTAL:
            tasks_of.setdefault(code, set()).add(task)
    tasks_agreed = _agreed_tasks(entries, resolved)
    marks = {}
    for code in {code for code, _task in entries}:
        if code in tasks_of:
            wanted = tasks_of[code]
            agreed = tasks_agreed.get(code, {})
            if wanted <= set(agreed):
                marks[code] = sum((agreed[task] for task in wanted), Decimal(0))
            continue
        both = entries.get((code, TOTAL), {})
        if both.get(1) is not None and both.get(1) == both.get(2):
            marks[code] = both[1]
    for (code, task), mark in resolved.items():
        if task == TOTAL:
            marks[code] = mark
    return marks, tasks_agreed


def _agreed_tasks(entries: dict[tuple[str, str], dict[int, Decimal]],
                  resolved: dict[tuple[str, str], Decimal]) -> dict[str, dict[str, Decimal]]:
    marks: dict[str, dict[str, Decimal]] = {}
    for (code, task), by_entry in entries.items():
        if task == TOTAL:
            continue
        if (code, task) in resolved:
            marks.setdefault(code, {})[task] = resolved[(code, task)]
        elif by_entry.get(1) is not None and by_entry.get(1) == by_entry.get(2):
            marks.setdefault(code, {})[task] = by_entry[1]
    return marks
