"""Practical marks by station only, entered twice and compared (never averaged).

Two scorekeepers import or type the marks independently (entry 1 and entry 2). Every difference
— per station and task, a missing mark included — is listed until the chief judge resolves it
with a reason. Marks are exact decimals from the file to the total: no float anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, numbers, tabular
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, NotFound, Problem
from kiosk.results import tasks
from kiosk.results.models import MarkEntry, MarkResolution
from kiosk.results.stages import require_entry_open
from kiosk.stations.models import Station

SCORE_COLUMNS = {
    "station": ("赛位号", "工位号", "赛位", "station"),
    "mark": ("分数", "成绩", "总分", "实操成绩", "mark", "score", "total"),
}
TOTAL = ""  # the task name of the practical total


def parse_mark(text: str) -> Decimal | None:
    """A mark as typed or imported: digits, two decimals at most; full-width forms ("８０")
    are normalised (`kiosk.numbers`); anything else is None."""
    return numbers.parse_decimal(text)


def import_marks(session: Session, data: bytes, filename: str, *, entry: int,
                 full_marks: Decimal, actor: audit.Actor, now: datetime) -> int:
    """All rows or none; replaces this scorekeeper's earlier entry. Returns stations imported."""
    if entry not in (1, 2):
        raise KioskError(N_("The entry is 1 or 2 (the first or the second scorekeeper)."))
    rows = tabular.read_table(data, filename, SCORE_COLUMNS, required=["station"],
                              keep_unknown=True)
    stations = dict(session.execute(select(Station.code, Station.id)).all())
    full_marks = tasks.practical_full(session, full_marks)
    task_fulls = tasks.full_marks(session)
    problems: list[Problem] = []
    columns = _task_columns(rows, tasks.practical_parts(session), task_fulls, problems)
    marks: list[tuple[int, str, Decimal]] = []
    seen: dict[str, int] = {}
    for row in rows:
        code = row.get("station").upper()
        given = {name[6:]: text for name, text in row.cells.items()
                 if name.startswith("extra:") and text and name[6:] in columns}
        if code not in stations:
            problems.append(Problem(row.line, N_("unknown station %(station)s"),
                                    {"station": code or "—"}))
            continue
        if code in seen:
            problems.append(Problem(row.line, N_("station %(station)s appears again (first on "
                                                 "line %(first)s)"),
                                    {"station": code, "first": seen[code]}))
            continue
        seen[code] = row.line
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
            continue
        if total is None:
            if not given:
                problems.append(Problem(row.line, N_("no mark for %(station)s"),
                                        {"station": code}))
                continue
            total = sum(task_marks.values(), Decimal(0))
        elif task_marks and sum(task_marks.values(), Decimal(0)) != total:
            problems.append(Problem(row.line, N_("the tasks add up to %(sum)s, not %(total)s"),
                                    {"sum": sum(task_marks.values(), Decimal(0)),
                                     "total": total}))
        if not Decimal(0) <= total <= full_marks:
            problems.append(Problem(row.line, N_("%(value)s is outside 0–%(full)s"),
                                    {"value": total, "full": full_marks}))
        marks.append((stations[code], TOTAL, total))
        marks += [(stations[code], task, value) for task, value in task_marks.items()]
    if not rows:
        problems.append(Problem(None, N_("The file has a header but no marks.")))
    if problems:
        raise ImportErrors(problems)
    with write_transaction(session):
        require_entry_open(session)
        _require_two_people(session, entry, actor)
        session.execute(delete(MarkEntry).where(MarkEntry.entry == entry))
        session.add_all(MarkEntry(station_id=station_id, task=task[:64], entry=entry, mark=mark,
                                  entered_by=actor.name, entered_at=now, source=filename[:128])
                        for station_id, task, mark in marks)
        audit.record(session, actor, "marks.imported", at=now, subject=f"entry {entry}",
                     details={"entry": entry, "stations": len(seen), "file": filename[:128]})
    return len(seen)


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
    """Marks typed on the score-entry page: {station: text}; blank leaves a station as it is.
    Every problem is listed and nothing changes if there is one. A typed total replaces that
    station's earlier total and task marks in this entry."""
    if entry not in (1, 2):
        raise KioskError(N_("The entry is 1 or 2 (the first or the second scorekeeper)."))
    stations = dict(session.execute(select(Station.code, Station.id)).all())
    full_marks = tasks.practical_full(session, full_marks)
    problems: list[Problem] = []
    marks: dict[int, Decimal] = {}
    for code, text in typed.items():
        if not text.strip():
            continue
        value = parse_mark(text)
        if code not in stations:
            problems.append(Problem(None, N_("unknown station %(station)s"), {"station": code}))
        elif value is None or not Decimal(0) <= value <= full_marks:
            problems.append(Problem(None, N_("%(station)s: %(value)s is not a mark between 0 "
                                             "and %(full)s (two decimals at most)"),
                                    {"station": code, "value": text.strip(), "full": full_marks}))
        else:
            marks[stations[code]] = value
    if problems:
        raise ImportErrors(problems)
    if not marks:
        return 0
    with write_transaction(session):
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


def entry_marks(session: Session, entry: int) -> dict[str, tuple[Decimal, str]]:
    """station → (total, who entered it) for one entry."""
    return {code: (mark, who) for code, mark, who in session.execute(
        select(Station.code, MarkEntry.mark, MarkEntry.entered_by)
        .join(Station, Station.id == MarkEntry.station_id)
        .where(MarkEntry.entry == entry, MarkEntry.task == TOTAL))}


@dataclass(frozen=True)
class Difference:
    station: str
    task: str
    first: Decimal | None
    second: Decimal | None


def _entries(session: Session) -> dict[tuple[str, str], dict[int, Decimal]]:
    marks: dict[tuple[str, str], dict[int, Decimal]] = {}
    for code, task, entry, mark in session.execute(
            select(Station.code, MarkEntry.task, MarkEntry.entry, MarkEntry.mark)
            .join(Station, Station.id == MarkEntry.station_id)):
        marks.setdefault((code, task), {})[entry] = mark
    return marks


def _resolutions(session: Session) -> dict[tuple[str, str], Decimal]:
    return {(code, task): mark for code, task, mark in session.execute(
        select(Station.code, MarkResolution.task, MarkResolution.mark)
        .join(Station, Station.id == MarkResolution.station_id))}


def _with_tasks(entries: dict[tuple[str, str], dict[int, Decimal]]) -> set[str]:
    """Stations marked per part or task in either entry: their total is the tasks' sum."""
    return {code for code, task in entries if task != TOTAL}


def differences(session: Session) -> list[Difference]:
    """Every station and task where the entries disagree or one is missing, unresolved. A
    station marked per task is compared per task; its total follows from them."""
    resolved = _resolutions(session)
    entries = _entries(session)
    by_task = _with_tasks(entries)
    found = []
    for (code, task), marks in sorted(entries.items()):
        if (code, task) in resolved or (task == TOTAL and code in by_task):
            continue
        first, second = marks.get(1), marks.get(2)
        if first is None or second is None or first != second:
            found.append(Difference(code, task, first, second))
    return found


def resolve(session: Session, station_code: str, mark: Decimal, reason: str, *,
            task: str = TOTAL, actor: audit.Actor, now: datetime) -> MarkResolution:
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("Resolving a difference needs a reason."))
    if task != TOTAL:
        # 模块B or b is part B's mark, as in a marks file's header.
        task = tasks.column_task(task, tasks.practical_parts(session), tasks.full_marks(session))
    with write_transaction(session):
        require_entry_open(session)
        station = session.scalar(select(Station).where(Station.code == station_code.upper()))
        if station is None:
            raise NotFound(N_("No station %(station)s."), station=station_code)
        existing = session.scalar(select(MarkResolution).where(
            MarkResolution.station_id == station.id, MarkResolution.task == task))
        resolution = existing or MarkResolution(station_id=station.id, task=task)
        resolution.mark, resolution.reason = mark, reason[:500]
        resolution.resolved_by, resolution.resolved_at = actor.name, now
        session.add(resolution)
        audit.record(session, actor, "marks.resolved", at=now, subject=station.code,
                     details={"task": task, "mark": str(mark), "reason": reason[:500]})
    return resolution


def agreed_marks(session: Session) -> dict[str, Decimal]:
    """The practical total of every station where both entries agree or the chief judge
    decided; stations still in dispute are left out. A station marked per part or task gets
    the sum of its tasks once every task is agreed (a decision on the total itself wins)."""
    resolved = _resolutions(session)
    entries = _entries(session)
    by_task = _with_tasks(entries)
    tasks_agreed = agreed_task_marks(session)
    marks = {}
    for code in {code for code, _task in entries}:
        if code in by_task:
            wanted = {task for c, task in entries if c == code and task != TOTAL}
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
    return marks


def agreed_task_marks(session: Session) -> dict[str, dict[str, Decimal]]:
    """station → task → the agreed mark (both entries equal, or the chief judge's decision),
    for the tasks entered per part or task; the total ("") is `agreed_marks`."""
    resolved = _resolutions(session)
    marks: dict[str, dict[str, Decimal]] = {}
    for (code, task), entries in _entries(session).items():
        if task == TOTAL:
            continue
        if (code, task) in resolved:
            marks.setdefault(code, {})[task] = resolved[(code, task)]
        elif entries.get(1) is not None and entries.get(1) == entries.get(2):
            marks.setdefault(code, {})[task] = entries[1]
    return marks
