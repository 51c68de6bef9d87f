"""Scores by module: the tasks of the practical mark and their full marks.

A practical part of the timetable (模块A …) is a task of its own: a marks file's column named by
the part's key (`A`), by its name as the timetable gives it (`模块A：生成式人工智能系统数据处理`)
or by that name's head before the colon (`模块A`) is that part's mark, stored under its key.
Any other column is a task by its header (模块D, scored throughout, is no timed part). The full
marks of each task are the results' own setting (`kiosk scores tasks set "A=25,B=30,C=40,
模块D=5"`); once set, the practical's full marks are their sum. The timetable file is left
as it is: points are a scoring matter, not the day's clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, numbers, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, ImportErrors, Problem
from kiosk.results import seats
from kiosk.results.models import MarkEntry, ScoreTask
from kiosk.results.stages import require_entry_open
from kiosk.stations import timetable
from kiosk.stations.models import Station
from kiosk.tabular import normalize_header

TASK_MAX = 64  # MarkEntry.task
_NAME_HEAD = re.compile(r"[:：]")


@dataclass(frozen=True)
class PracticalPart:
    key: str
    name: str

    @property
    def short_name(self) -> str:
        """模块A from 模块A：生成式人工智能系统数据处理: what a marks sheet's column says."""
        return _NAME_HEAD.split(self.name, maxsplit=1)[0].strip() or self.key


def practical_parts(session: Session) -> list[PracticalPart]:
    """The timetable's practical parts in the day's order. The default day's one practical
    part is the whole practical mark, not a task: none then. The tasks are the event's (one
    ranking over every session): each session's parts, the first session's order first, a
    key once."""
    found: dict[str, PracticalPart] = {}
    for _exam_session in seats.each_session(session, event_wide=True):
        for part in timetable.outline(session):
            if part.kind == "practical" and not part.default and part.key not in found:
                found[part.key] = PracticalPart(part.key, part.name)
    return list(found.values())


def column_task(header: str, parts: Iterable[PracticalPart], known: Iterable[str] = ()) -> str:
    """The task a marks column is for: a practical part's key when the header names the part
    (by key, name or the name's head; width and case folded), a task set with full marks
    (`known`) written the same way, else the header itself."""
    wanted = normalize_header(header)
    for part in parts:
        if wanted in {normalize_header(part.key), normalize_header(part.name),
                      normalize_header(part.short_name)}:
            return part.key
    return next((task for task in known if normalize_header(task) == wanted),
                header.strip()[:TASK_MAX])


def full_marks(session: Session) -> dict[str, Decimal]:
    """task → its full marks, in the order set; empty when none were set."""
    return dict(session.execute(select(ScoreTask.key, ScoreTask.full_marks)
                                .order_by(ScoreTask.position)).all())


def practical_full(session: Session, configured: Decimal) -> Decimal:
    """The practical's full marks: the sum of the tasks' once set, else `practical_full_marks`."""
    fulls = full_marks(session)
    return sum(fulls.values(), Decimal(0)) if fulls else configured


def labels(session: Session) -> dict[str, str]:
    """A task's column heading on the pages and sheets: a part's short name (模块A), else the
    task as named."""
    return {part.key: part.short_name for part in practical_parts(session)}


def order(session: Session, seen: Iterable[str]) -> list[str]:
    """The task columns to show: the timetable's practical parts in the day's order first, then
    the tasks set with full marks, then any other task entered, by name."""
    seen = set(seen)
    parts = [p.key for p in practical_parts(session)]
    configured = [key for key in full_marks(session) if key not in parts]
    listed = [key for key in parts + configured if key in seen or key in configured]
    return listed + sorted(seen - set(listed))


def parse_spec(text: str, parts: list[PracticalPart]) -> list[tuple[str, Decimal]]:
    """`A=25,B=30,C=40,模块D=5` (commas, full-width commas or semicolons between) as (task,
    full marks) in order; ImportErrors lists every problem."""
    problems: list[Problem] = []
    found: list[tuple[str, Decimal]] = []
    for item in filter(None, (piece.strip() for piece in re.split(r"[,，;；\n]", text))):
        name, sep, points = item.partition("=")
        value = numbers.parse_decimal(points) if sep else None
        task = column_task(name, parts) if name.strip() else ""
        if not task or value is None or value <= 0:
            problems.append(Problem(None, N_("%(item)s: write TASK=POINTS, e.g. A=25"),
                                    {"item": item}))
        elif task in dict(found):
            problems.append(Problem(None, N_("%(task)s is listed twice"), {"task": task}))
        else:
            found.append((task, value))
    if problems:
        raise ImportErrors(problems)
    return found


def set_tasks(session: Session, text: str, *, actor: audit.Actor,
              now: datetime) -> list[tuple[str, Decimal]]:
    """Replace the tasks and their full marks (an empty text removes them), while marks may
    still change; refused, listing them, if a mark already entered is above its new full
    marks."""
    wanted = parse_spec(text, practical_parts(session))
    with write_transaction(session):
        require_entry_open(session)
        limits = dict(wanted)
        with scope.event_wide(session):
            above = session.execute(
                select(Station.id, MarkEntry.task, MarkEntry.mark)
                .join(Station, Station.id == MarkEntry.station_id)
                .where(MarkEntry.task.in_(limits)).order_by(Station.code)).all()
            named = seats.seats_by_id(session, {row[0] for row in above})
        problems = [Problem(None, N_("%(station)s: %(task)s %(value)s is above its full marks "
                                     "%(full)s"),
                            {"station": named[station_id], "task": task, "value": mark,
                             "full": limits[task]})
                    for station_id, task, mark in above if mark > limits[task]]
        if problems:
            raise ImportErrors(problems)
        session.execute(delete(ScoreTask))
        session.flush()
        session.add_all(ScoreTask(position=position, key=task, full_marks=points,
                                  updated_by=actor.name, updated_at=now)
                        for position, (task, points) in enumerate(wanted, start=1))
        audit.record(session, actor, "scores.tasks_set", at=now, subject="tasks",
                     details={"tasks": {task: str(points) for task, points in wanted}})
    return wanted
