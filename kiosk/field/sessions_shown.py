"""Which session (场次) the hall's screens and the staff pages say they are about, and what the
chief judge is told at the change-over between sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kiosk import scope
from kiosk.config import Settings
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions


def clock_session(session: Session, settings: Settings) -> dict | None:
    """`"session"` of `GET /api/v1/clock`: the session the request is about (a workstation's
    own, else the one the hall serves), `{"code", "name"}`; null in an event without
    sessions (and for a database session about none of several: the web scopes every request)."""
    about = scope.current(session)
    if about is not None and not about.code:
        return None  # a workstation of the implicit session: no query on the poll
    if about is None and len(exam_sessions.every(session)) > 1:
        return None
    chosen = exam_sessions.chosen(session)
    if exam_sessions.is_implicit(chosen):
        return None
    return {"code": chosen.code, "name": str(exam_sessions.label(chosen, settings))}


@dataclass(frozen=True)
class ChangeOver:
    """The chosen session's day against the hall's: over (then which session comes next, if
    any), and which session the hall's stations serve now."""

    over: bool
    following: ExamSession | None
    serving: ExamSession


def change_over(session: Session, chosen: ExamSession, settings: Settings,
                now: datetime) -> ChangeOver:
    days = exam_sessions.days(session, settings, now)
    mine = next(d for d in days if d.exam_session.id == chosen.id)
    later = days[days.index(mine) + 1:]
    following = next((d.exam_session for d in later if d.state == "not_started"), None)
    return ChangeOver(mine.state == "ended", following,
                      exam_sessions.current(session, settings, now))
