"""Roster import and check-in. (The draws and sealing arrive with issue 3.)"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit, tabular
from kiosk.checkin import idcard
from kiosk.checkin.models import Contestant
from kiosk.db import write_transaction
from kiosk.errors import N_, ImportErrors, Problem

ROSTER_COLUMNS = {
    "name": ("姓名", "选手姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "id_number", "id"),
    "organization": ("单位", "工作单位", "学校", "所在单位", "organization"),
    "group": ("组别", "参赛组别", "group"),
}
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def import_roster(session: Session, data: bytes, filename: str, *, groups: list[str],
                  actor: audit.Actor, now: datetime) -> list[Contestant]:
    """All rows or none: any problem, and nothing is imported; every problem is listed."""
    rows = tabular.read_table(data, filename, ROSTER_COLUMNS, required=["name", "id_number",
                                                                       "group"])
    problems: list[Problem] = []
    existing = {number for (number,) in session.execute(select(Contestant.id_number))}
    seen: dict[str, int] = {}
    contestants = []
    for row in rows:
        row_problems = []
        name = row.get("name")
        raw_id = row.get("id_number")
        group = row.get("group")
        if not name:
            row_problems.append(Problem(row.line, N_("name is empty")))
        elif len(name) > 64:
            row_problems.append(Problem(row.line, N_("name is longer than 64 characters")))
        id_number = idcard.normalize(raw_id)
        if row.raw_types.get("id_number") == "number" or SCIENTIFIC.match(raw_id):
            row_problems.append(Problem(row.line, N_(
                "Excel stored the ID number %(value)s as a number and lost digits; format the "
                "column as Text and type the numbers again"), {"value": raw_id}))
        elif not id_number:
            row_problems.append(Problem(row.line, N_("ID number is empty")))
        else:
            reason = idcard.problem(id_number, now.date())
            if reason:
                row_problems.append(Problem(row.line, reason, {"length": len(id_number)}))
            elif id_number in seen:
                row_problems.append(Problem(row.line, N_(
                    "ID number %(masked)s appears again (first on line %(first)s)"),
                    {"masked": idcard.mask(id_number), "first": seen[id_number]}))
            elif id_number in existing:
                row_problems.append(Problem(row.line, N_(
                    "ID number %(masked)s is on the roster already"),
                    {"masked": idcard.mask(id_number)}))
            seen.setdefault(id_number, row.line)
        if group not in groups:
            row_problems.append(Problem(row.line, N_(
                "unknown group %(group)s; the groups are %(groups)s"),
                {"group": group or "—", "groups": "、".join(groups)}))
        problems.extend(row_problems)
        if not row_problems:
            contestants.append(Contestant(name=name, id_number=id_number, group=group,
                                          organization=row.get("organization")[:128],
                                          roster_line=row.line))
    if not rows:
        problems.append(Problem(None, N_("The file has a header but no contestants.")))
    if problems:
        raise ImportErrors(problems)
    with write_transaction(session):
        session.add_all(contestants)
        session.flush()
        audit.record(session, actor, "roster.imported", at=now, subject=filename[:128],
                     details={"rows": len(contestants)})
    return contestants


def roster_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contestant)) or 0
