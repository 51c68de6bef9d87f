"""Roster import and the check-in desk (检录)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope, tabular
from kiosk.checkin import idcard, records, session_draw
from kiosk.checkin.models import CheckinUndo, Contestant, Draw1Assignment
from kiosk.checkpoints import Checkpoint
from kiosk.db import contains_text, search_text, write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, NotFound, Problem
from kiosk.models import StaffUser
from kiosk.progress import NO_PROGRESS, STAGE_SAVING, Progress

ROSTER_COLUMNS = {
    "name": ("姓名", "选手姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "id_number", "id"),
    "organization": ("单位", "工作单位", "学校", "所在单位", "organization"),
    "group": ("组别", "参赛组别", "group"),
}
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def import_roster(session: Session, data: bytes, filename: str, *, groups: list[str],
                  actor: audit.Actor, now: datetime,
                  progress: Progress = NO_PROGRESS) -> list[Contestant]:
    """All rows or none: any problem, and nothing is imported; every problem is listed."""
    rows = tabular.read_table(data, filename, ROSTER_COLUMNS, required=["name", "id_number",
                                                                       "group"],
                              progress=progress)
    progress.stage(STAGE_SAVING)
    # The roster is the event's, whichever session a page is about; new rows wait for the
    # session draw (with one session they are its own).
    with scope.event_wide(session):
        return _import_rows(session, rows, filename, groups=groups, actor=actor, now=now)


def _import_rows(session: Session, rows: list, filename: str, *, groups: list[str],
                 actor: audit.Actor, now: datetime) -> list[Contestant]:
    session_draw.require_roster_open(session)
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


def withdraw(session: Session, id_number: str, reason: str, *, actor: audit.Actor,
             now: datetime) -> Contestant:
    """A contestant who cannot come: recorded with why and by whom, never deleted. They keep
    their session (the draw's result is public and final), are refused at check-in with the
    reason, and so never draw a contestant number or a station."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("A withdrawal needs a reason."))
    with write_transaction(session), scope.event_wide(session):
        contestant = _contestant(session, id_number)
        if contestant.withdrawn_at is not None:
            raise Conflict(N_("%(name)s was withdrawn already at %(time)s (reason: "
                              "%(reason)s)."), name=contestant.name,
                           time=clock.local_display(contestant.withdrawn_at, "%m-%d %H:%M"),
                           reason=contestant.withdrawn_reason or "")
        if contestant.checked_in_at is not None:
            raise Conflict(N_("%(name)s is checked in: a contestant who leaves after check-in "
                              "is an incident for the field judges, not a withdrawal."),
                           name=contestant.name)
        contestant.withdrawn_at = now
        contestant.withdrawn_by = actor.name[:64]
        contestant.withdrawn_reason = reason[:500]
        audit.record(session, actor, "roster.withdrawn", at=now, subject=contestant.name,
                     details={"id_number": idcard.mask(contestant.id_number),
                              "group": contestant.group, "reason": reason[:500]})
    return contestant


# ----------------------------------------------------------------------------- the desk

ID_LIKE = re.compile(r"^[0-9]{6,17}[0-9Xx]?$")
# Longer than any name (64) or ID: nobody types more at a desk, and SQLite refuses a LIKE pattern
# past 50 000 bytes ("LIKE or GLOB pattern too complex").
MAX_QUERY = 64  # a name or an ID: shorter than db.MAX_SEARCH


@dataclass(frozen=True)
class CheckinResult:
    contestant: Contestant
    already: bool  # checked in before this scan: nothing changed
    at: datetime
    by: str  # the staff member who checked them in


def counts_by_session(session: Session) -> dict[int | None, int]:
    """How many roster contestants each session has (None: not drawn into one yet)."""
    with scope.event_wide(session):
        return dict(session.execute(select(Contestant.exam_session_id, func.count())
                                    .group_by(Contestant.exam_session_id)).all())


def find_contestants(session: Session, query: str, limit: int = 20) -> list[Contestant]:
    """A scanned or typed ID finds one person; anything else searches names (`%` and `_` are
    letters like any other). A whole ID whose check digit is wrong is refused with that reason:
    it was mistyped or misread, which "not on the roster" would hide."""
    text = query.strip()
    if not text:
        return []
    search_text(text, limit=MAX_QUERY)
    found = _search(session, text, limit)
    if not found and scope.current(session) is not None:
        # Not in this session: say where they belong rather than "not on the roster".
        with scope.event_wide(session):
            elsewhere = _search(session, text, limit)
        if len(elsewhere) == 1:
            _require_this_session(session, elsewhere[0])
        if elsewhere:
            raise Conflict(N_("Nobody in this session matches %(query)s; in other sessions: "
                              "%(where)s."), query=text[:40],
                           where="、".join(f"{p.name}（{_where(session, p)}）"
                                          for p in elsewhere))
    return found


def _search(session: Session, text: str, limit: int) -> list[Contestant]:
    number = idcard.normalize(text)
    if ID_LIKE.match(number):
        if len(number) == 18:
            if idcard.check_char(number[:17]) != number[17]:
                raise KioskError(N_("%(number)s: check digit is wrong; the number was mistyped "
                                    "or misread. Scan or type it again."), number=number)
            return list(session.scalars(select(Contestant).where(Contestant.id_number == number)))
        return list(session.scalars(select(Contestant).where(
            Contestant.id_number.endswith(number, autoescape=True))
            .order_by(Contestant.id).limit(limit)))
    return list(session.scalars(select(Contestant)
                                .where(contains_text(Contestant.name, text, limit=MAX_QUERY))
                                .order_by(Contestant.name, Contestant.id).limit(limit)))


def check_in(session: Session, contestant_id_or_number: int | str, *, staff_id: int | None,
             actor: audit.Actor, now: datetime) -> CheckinResult:
    """Mark present. A second scan reports the first check-in and changes nothing. Refused
    for a withdrawn contestant (with the reason), for one of another session (saying which),
    and, with several sessions, until the session draw is published."""
    with write_transaction(session):
        with scope.event_wide(session):
            contestant = _contestant(session, contestant_id_or_number)
        if contestant.withdrawn_at is not None:
            raise Conflict(N_("%(name)s has withdrawn (%(time)s, reason: %(reason)s) and "
                              "cannot be checked in."), name=contestant.name,
                           time=clock.local_display(contestant.withdrawn_at, "%m-%d %H:%M"),
                           reason=contestant.withdrawn_reason or "")
        session_draw.require_published_for_checkin(session)
        _require_this_session(session, contestant)
        if contestant.checked_in_at is not None:
            return CheckinResult(contestant, True, contestant.checked_in_at,
                                 _staff_name(session, contestant.checked_in_by))
        contestant.checked_in_at = now
        contestant.checked_in_by = staff_id
        audit.record(session, actor, "checkin.checked_in", at=now, subject=contestant.name,
                     details={"id_number": idcard.mask(contestant.id_number),
                              "group": contestant.group})
    return CheckinResult(contestant, False, now, actor.name)


def undo_check_in(session: Session, contestant_id: int, reason: str, *, actor: audit.Actor,
                  now: datetime) -> Contestant:
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("Undoing a check-in needs a reason."))
    with write_transaction(session):
        with scope.event_wide(session):
            contestant = _contestant(session, contestant_id)
        _require_this_session(session, contestant)
        if contestant.checked_in_at is None:
            raise Conflict(N_("%(name)s is not checked in."), name=contestant.name)
        if session.scalar(select(Draw1Assignment.id)
                          .where(Draw1Assignment.contestant_id == contestant.id)):
            raise Conflict(N_("%(name)s has drawn a contestant number already; a check-in "
                              "cannot be undone after the draw."), name=contestant.name)
        session.add(CheckinUndo(contestant_id=contestant.id,
                                checked_in_at=contestant.checked_in_at, undone_at=now,
                                undone_by=actor.name, reason=reason[:500]))
        contestant.checked_in_at = None
        contestant.checked_in_by = None
        audit.record(session, actor, "checkin.undone", at=now, subject=contestant.name,
                     details={"id_number": idcard.mask(contestant.id_number),
                              "reason": reason[:500]})
    return contestant


class OtherSession(Conflict):
    """A contestant of another session at this session's desk."""

    code = "other_session"


def _where(session: Session, contestant: Contestant) -> str:
    exam_session = session_draw.session_of(session, contestant)
    if exam_session is None:
        return "—"
    if exam_session.name and exam_session.code:
        return f"{exam_session.name}（{exam_session.code}）"
    return exam_session.name or exam_session.code


def _require_this_session(session: Session, contestant: Contestant) -> None:
    """The desk of one session checks in its own contestants only; one of another session is
    told where they belong (looked up across the event)."""
    here = scope.current(session)
    if here is None or contestant.exam_session_id == here.id:
        return
    if contestant.exam_session_id is None:
        raise OtherSession(N_("%(name)s is in no session (withdrawn before the session draw, "
                              "or not drawn yet)."), name=contestant.name)
    raise OtherSession(N_("%(name)s belongs to session %(session)s; check them in at that "
                          "session."), name=contestant.name,
                       session=_where(session, contestant))


def _contestant(session: Session, key: int | str) -> Contestant:
    if isinstance(key, int):
        contestant = session.get(Contestant, key)
    else:
        contestant = session.scalar(select(Contestant).where(
            Contestant.id_number == idcard.normalize(key)))
    if contestant is None:
        raise NotFound(N_("Not on the roster: %(who)s"),
                       who=idcard.mask(idcard.normalize(key)) if isinstance(key, str) else key)
    return contestant


def _staff_name(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return "cli"
    user = session.get(StaffUser, staff_id)
    return (user.display_name or user.username) if user else "?"


@dataclass(frozen=True)
class Counts:
    total: int
    present: int
    by_group: dict[str, tuple[int, int]]  # group -> (present, total)

    @property
    def absent(self) -> int:
        return self.total - self.present


def counts(session: Session) -> Counts:
    rows = session.execute(select(Contestant.group, func.count(),
                                  func.count(Contestant.checked_in_at))
                           .group_by(Contestant.group).order_by(Contestant.group)).all()
    by_group = {group: (int(present), int(total)) for group, total, present in rows}
    return Counts(sum(t for _, t in by_group.values()), sum(p for p, _ in by_group.values()),
                  by_group)


def absent(session: Session) -> list[Contestant]:
    return list(session.scalars(select(Contestant).where(Contestant.checked_in_at.is_(None))
                                .order_by(Contestant.group, Contestant.roster_line,
                                          Contestant.id)))


def roster(session: Session) -> list[Contestant]:
    return list(session.scalars(select(Contestant).order_by(Contestant.group,
                                                            Contestant.roster_line,
                                                            Contestant.id)))


def checkin_sheet_pdf(session: Session, *, event_name: str, session_name: str,
                      checkpoint: Checkpoint, font_config: str = "") -> bytes:
    """检录单 of the whole roster (the layout is records.checkin_sheet_pdf)."""
    staff_names = {u.id: (u.display_name or u.username) for u in session.scalars(
        select(StaffUser))}
    rows = [records.CheckinRow(m.name, m.id_number, m.organization, m.group, m.checked_in_at,
                               staff_names.get(m.checked_in_by, "") if m.checked_in_by
                               else ("命令行" if m.checked_in_at else ""),
                               withdrawn=m.withdrawn_at is not None)
            for m in roster(session)]
    return records.checkin_sheet_pdf(rows, event_name=event_name, session_name=session_name,
                                     printed_at=clock.now(), checkpoint=checkpoint,
                                     font_config=font_config)
