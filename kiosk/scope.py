"""Which session (场次) a unit of work is about: the one home of "what does this query see?".

An event may run in several sessions through one server (the session draw at the leaders'
meeting decides who sits in which). Everything of one session's day carries its session
(`PerSession`): its stations (a station of the hall is one row per session, so a station's
answers, hand-ins, receipts and marks, all keyed by the station row, never mix across
sessions), its timetable and the parts' clocks, its draws, its contestants, its task books,
announcements and incidents.

A database session is scoped once, where the request or the command begins (`use`): the
station's own session for a workstation, the chosen one for staff, `--session` for a command.
From then on every ORM statement on a `PerSession` table sees only that session's rows (SQLAlchemy's
`with_loader_criteria`, added on `do_orm_execute`), and a new row is filed under it at the flush.
What looks across sessions (the roster, the session draw, the review sample, the ranking) says
so with `event_wide`. An unscoped database session sees every row; a new row then goes to the
only session there is, and is refused when there are several (nobody guessed for it).

Text statements are not ORM statements: the few that read a per-session table (the station's
window) scope themselves through the station row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Delete, ForeignKey, Select, Update, event, select
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

from kiosk.models import ExamSession

_KEY = "kiosk.exam_session"


@dataclass(frozen=True)
class Scope:
    """The session a unit of work is about: its id and code ("" for the implicit one)."""

    id: int
    code: str


class PerSession:
    """A table of one session's day: its rows belong to one `exam_session`."""

    @declared_attr
    def exam_session_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("exam_session.id"), index=True)


class NoSessionChosen(RuntimeError):
    """A row of one session's day was written with no session chosen, while there are several:
    a defect of the caller (the entry points choose one)."""


def use(session: Session, scope: Scope | None) -> None:
    """Scope `session` to one exam session (None: see every row)."""
    if scope is None:
        session.info.pop(_KEY, None)
    else:
        session.info[_KEY] = scope


def current(session: Session) -> Scope | None:
    return session.info.get(_KEY)


@contextmanager
def event_wide(session: Session) -> Iterator[Session]:
    """Look across every session for a moment (the roster, the session draw, the ranking)."""
    kept = session.info.pop(_KEY, None)
    try:
        yield session
    finally:
        if kept is not None:
            session.info[_KEY] = kept


@contextmanager
def within(session: Session, scope: Scope) -> Iterator[Session]:
    """Look at one session for a moment (each session's day, on a page about all of them)."""
    kept = session.info.get(_KEY)
    session.info[_KEY] = scope
    try:
        yield session
    finally:
        use(session, kept)


@event.listens_for(Session, "do_orm_execute")
def _only_this_session(state: ORMExecuteState) -> None:
    scope = state.session.info.get(_KEY)
    if scope is None or state.is_column_load or state.is_relationship_load:
        return
    if not isinstance(state.statement, Select | Update | Delete):
        return
    session_id = scope.id
    state.statement = state.statement.options(with_loader_criteria(
        PerSession, lambda cls: cls.exam_session_id == session_id, include_aliases=True))


@event.listens_for(Session, "before_flush")
def _file_new_rows(session: Session, _context, _instances) -> None:
    new = [row for row in session.new
           if isinstance(row, PerSession) and row.exam_session_id is None]
    if not new:
        return
    scope = session.info.get(_KEY)
    if scope is not None:
        session_id = scope.id
    else:
        ids = list(session.scalars(select(ExamSession.id).limit(2)))
        if len(ids) != 1:
            # A row that may wait for its session (a contestant before the session draw)
            # waits; any other is a caller's defect.
            waiting = [row for row in new if type(row).__table__.c.exam_session_id.nullable]
            if len(waiting) != len(new):
                raise NoSessionChosen(f"{type(new[0]).__name__} written with no session chosen")
            return
        session_id = ids[0]
    for row in new:
        row.exam_session_id = session_id
