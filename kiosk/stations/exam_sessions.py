"""The event's sessions (场次): which exist, which one a command or a page is about, and which
one the hall's stations belong to now.

When the hall has fewer stations than contestants the event runs in sessions, drawn at the team
leaders' meeting (seed 000: 竞赛场次签在赛前领队会上抽取). Each session runs the day's timetable
on its own clock, on the hall's stations: a station is one row per session (kiosk.scope), its
badge that session's. An event that defines none runs one implicit session (code ""), and
everything works as it did before sessions existed; the first session defined is that one, so
whatever it already holds stays with it.

The hall's stations serve one session at a time (`current`): the first session until it has
started, then the one whose first part started last, until its day is over for every station;
then the next one, so that its contestants can sign in before its first part starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.config import Settings
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, NotFound, Problem, Term
from kiosk.models import ExamSession
from kiosk.stations import timetable
from kiosk.stations.models import PhaseRow, Station, TimetablePart
from kiosk.stations.window import as_rule

CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,16}")
MAX_NAME = 64
MAX_SESSIONS = 20
ENVIRONMENT_VARIABLE = "KIOSK_SESSION"


class SessionRequired(KioskError):
    """Several sessions exist and the command or page did not say which one."""

    code = "session_required"


class WrongSession(KioskError):
    """A badge of a session the hall's stations do not serve now."""

    code = "wrong_session"
    status = 403


# ----------------------------------------------------------------------------- reading

def every(session: Session) -> list[ExamSession]:
    """Every session of the event, in the day's order (the implicit one alone if none is
    defined)."""
    with scope.event_wide(session):
        return list(session.scalars(select(ExamSession).order_by(ExamSession.position)))


def defined(session: Session) -> list[ExamSession]:
    """The sessions the organisers defined: none in an event of one implicit session."""
    return [s for s in every(session) if s.code]


def is_implicit(exam_session: ExamSession) -> bool:
    return not exam_session.code


def by_code(session: Session, code: str) -> ExamSession:
    """The session `code` (`a` is A), or a 404 that lists the event's sessions."""
    sessions = defined(session)
    wanted = code.strip().upper()
    found = next((s for s in sessions if s.code.upper() == wanted), None)
    if found is None:
        raise NotFound(N_("No session %(session)s; the sessions are %(codes)s."),
                       session=code, codes=", ".join(s.code for s in sessions) or "—")
    return found


def choose(session: Session, code: str | None) -> ExamSession:
    """The session a command or a page is about: `code` if given; the only one if there is
    only one; refused, naming them, when there are several and none was named."""
    if code:
        return by_code(session, code)
    sessions = every(session)
    if len(sessions) == 1:
        return sessions[0]
    raise SessionRequired(N_("This event has several sessions (%(codes)s): name one with "
                             "--session CODE or KIOSK_SESSION."),
                          codes=", ".join(s.code for s in sessions))


def as_scope(exam_session: ExamSession) -> scope.Scope:
    return scope.Scope(exam_session.id, exam_session.code)


def enter(session: Session, exam_session: ExamSession) -> ExamSession:
    """Scope `session` to `exam_session`: from now on it sees that session's rows only."""
    scope.use(session, as_scope(exam_session))
    return exam_session


def chosen(session: Session) -> ExamSession:
    """The session `session` is scoped to (the only one, if it is not scoped)."""
    current_scope = scope.current(session)
    if current_scope is None:
        return choose(session, None)
    with scope.event_wide(session):
        return session.get(ExamSession, current_scope.id)


def in_view(session: Session) -> list[ExamSession]:
    """The sessions a database session looks at: the one it is scoped to, else every one."""
    if scope.current(session) is not None:
        return [chosen(session)]
    return every(session)


def label(exam_session: ExamSession, settings: Settings) -> Term:
    """What people read: its name, else its code; the implicit session is config.toml's
    `session_name`."""
    if is_implicit(exam_session):
        return Term(settings.session_name)
    return Term(exam_session.name or exam_session.code)


def admits(exam_session: ExamSession, group: str) -> bool:
    return not exam_session.groups or group in exam_session.groups


def capacity(session: Session, exam_session: ExamSession) -> int:
    """How many contestants it takes: its own figure, else its stations that are not spare."""
    if exam_session.capacity is not None:
        return exam_session.capacity
    with scope.event_wide(session):
        return session.scalar(select(func.count()).select_from(Station).where(
            Station.exam_session_id == exam_session.id, Station.spare.is_(False))) or 0


# ----------------------------------------------------------------------------- the hall now

@dataclass(frozen=True)
class SessionDay:
    """A session's day as the hall sees it: when its first part started (None: not yet) and
    whether every part of it is over."""

    exam_session: ExamSession
    started_at: datetime | None
    over: bool

    @property
    def state(self) -> str:
        """`not_started`, `running` or `ended`."""
        if self.started_at is None:
            return "not_started"
        return "ended" if self.over else "running"


def days(session: Session, settings: Settings, now: datetime) -> list[SessionDay]:
    """Every session's day, in order (`timetable.day` of each)."""
    found = []
    for exam_session in every(session):
        with scope.within(session, as_scope(exam_session)):
            parts = timetable.day(session, settings, now).parts
        begun = [p.starts_at for p in parts if p.state in ("running", "paused", "ended")]
        over = bool(begun) and all(p.state == "ended" for p in parts)
        found.append(SessionDay(exam_session, min(begun, default=None), over))
    return found


def current(session: Session, settings: Settings, now: datetime) -> ExamSession:
    """The session the hall's stations serve now (see the module's docstring)."""
    sessions = days(session, settings, now)
    started = [d for d in sessions if d.started_at is not None]
    if not started:
        return sessions[0].exam_session
    latest = max(started, key=lambda d: d.started_at)
    if latest.over:
        later = sessions[sessions.index(latest) + 1:]
        waiting = next((d for d in later if d.started_at is None), None)
        if waiting is not None:
            return waiting.exam_session
    return latest.exam_session


def require_current(session: Session, exam_session: ExamSession, settings: Settings,
                    now: datetime) -> None:
    """A badge of `exam_session` signs in only while the hall serves it: else 403, naming
    both sessions."""
    serving = current(session, settings, now)
    if serving.id != exam_session.id:
        raise WrongSession(N_("This badge is for session %(session)s; the stations now serve "
                              "session %(current)s. Keep the badge for your own session."),
                           session=label(exam_session, settings),
                           current=label(serving, settings))


# ----------------------------------------------------------------------------- defining

def add(session: Session, code: str, *, name: str, groups: list[str], capacity: int | None,
        settings: Settings, actor: audit.Actor, now: datetime) -> ExamSession:
    """A new session, last in the day's order. The first one defined takes over the implicit
    session (and whatever it holds); each later one gets the same stations (code, bound
    workstation, spare) and a copy of the first session's timetable. Refused once any part
    of any session has started."""
    code = code.strip()
    problems = _problems(session, code, name, groups, capacity, settings)
    if problems:
        raise ImportErrors(problems)
    with write_transaction(session):
        sessions = every(session)
        with scope.event_wide(session):
            started = [row.name for row in session.scalars(select(PhaseRow))
                       if clock.has_started(as_rule(row), now)]
        if started:
            raise Conflict(N_("Sessions cannot change once the day has begun (%(parts)s has "
                              "started)."), parts=", ".join(sorted(set(started))))
        if len(sessions) >= MAX_SESSIONS:
            raise KioskError(N_("At most %(n)s sessions."), n=MAX_SESSIONS)
        first = sessions[0]
        if is_implicit(first):
            new = first
            new.code, new.name, new.groups, new.capacity = code, name, list(groups), capacity
        else:
            new = ExamSession(position=sessions[-1].position + 1, code=code, name=name,
                              groups=list(groups), capacity=capacity, created_at=now,
                              created_by=actor.name)
            session.add(new)
            session.flush()
            _copy_stations(session, first, new, now)
            _copy_timetable(session, first, new, actor, now)
        session.flush()
        audit.record(session, actor, "sessions.added", at=now, subject=code,
                     details={"session": code, "name": name, "groups": list(groups),
                              "capacity": capacity})
    return new


def _problems(session: Session, code: str, name: str, groups: list[str],
              capacity: int | None, settings: Settings) -> list[Problem]:
    problems = []
    if not CODE_PATTERN.fullmatch(code):
        problems.append(Problem(None, N_("session %(session)s: a code is 1 to 16 letters, "
                                         "digits, - or _"), {"session": code}))
    elif any(s.code.upper() == code.upper() for s in defined(session)):
        problems.append(Problem(None, N_("session %(session)s: already defined"),
                                {"session": code}))
    if len(name) > MAX_NAME:
        problems.append(Problem(None, N_("session %(session)s: a name has at most %(n)s "
                                         "characters"), {"session": code, "n": MAX_NAME}))
    unknown = [g for g in groups if g not in settings.groups]
    if unknown:
        problems.append(Problem(None, N_("session %(session)s: no group %(unknown)s (the "
                                         "groups are %(groups)s)"),
                                {"session": code, "unknown": ", ".join(unknown),
                                 "groups": ", ".join(settings.groups)}))
    if capacity is not None and not 1 <= capacity <= 100_000:
        problems.append(Problem(None, N_("session %(session)s: a capacity is between 1 and "
                                         "100000"), {"session": code}))
    return problems


def _copy_stations(session: Session, source: ExamSession, target: ExamSession,
                   now: datetime) -> None:
    with scope.event_wide(session):
        for station in session.scalars(select(Station).where(
                Station.exam_session_id == source.id).order_by(Station.code)):
            session.add(Station(exam_session_id=target.id, code=station.code,
                                workstation_ip=station.workstation_ip, spare=station.spare,
                                created_at=now))


def _copy_timetable(session: Session, source: ExamSession, target: ExamSession,
                    actor: audit.Actor, now: datetime) -> None:
    with scope.event_wide(session):
        for part in session.scalars(select(TimetablePart).where(
                TimetablePart.exam_session_id == source.id).order_by(TimetablePart.position)):
            session.add(TimetablePart(
                exam_session_id=target.id, position=part.position, key=part.key,
                name=part.name, kind=part.kind, minutes=part.minutes,
                warnings=list(part.warnings), hand_in=part.hand_in,
                reading_minutes=part.reading_minutes, updated_by=actor.name, updated_at=now))


def as_json(session: Session, day: SessionDay, contestants: int) -> dict:
    exam_session = day.exam_session
    return {"code": exam_session.code, "name": exam_session.name,
            "groups": list(exam_session.groups), "capacity": capacity(session, exam_session),
            "contestants": contestants, "state": day.state,
            "started_at": clock.iso(day.started_at)}
