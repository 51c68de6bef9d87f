"""逐层解密: the unsealing ceremony.

Only after the station-number results are locked (裁判长正式提交赛位号评分结果并复核无误后), and
always layer by layer under a supervisor: the second encryption judge opens stage 2 (station →
contestant number), then the first opens stage 1 (contestant number → person). Each layer is
recomputed from its sealed seed and entropy and compared with the printed commitment; the result
is recorded either way, so a mismatch is evidence, never hidden. What the layers reveal is kept
(`StationLink`) for the final results.

In an event of several sessions (场次) each session's draws were its own, and so are its two
layers: they are opened session by session (`--session`, or the page's session), each with its
own judges' identities and a supervisor; the final results wait until every session that has
results is open.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.checkin import opening
from kiosk.checkin.models import Contestant
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, Forbidden, KioskError
from kiosk.models import ExamSession
from kiosk.permissions import OPEN_LAYER
from kiosk.results import seats
from kiosk.results.models import ResultsLock, StationLink, UnsealedStage
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station


def opened(session: Session) -> dict[int, UnsealedStage]:
    """stage → its opening, of the one session in view (the only one, unscoped)."""
    with _one_session(session):
        return {row.stage: row for row in session.scalars(select(UnsealedStage))}


def _one_session(session: Session):
    """`session` scoped to the session a layer is about: the one in scope, else the only one
    (several and none chosen: SessionRequired, naming them)."""
    return scope.within(session, exam_sessions.as_scope(exam_sessions.chosen(session)))


def next_stage(session: Session) -> int | None:
    done = opened(session)
    for stage in (2, 1):
        if stage not in done:
            return stage
    return None


def is_unsealed(session: Session) -> bool:
    """Both layers open in the session in view: names may be shown with its results."""
    return len(opened(session)) == 2


def unsealed_sessions(session: Session) -> set[str]:
    """The codes of the sessions whose two layers are both open."""
    with scope.event_wide(session):
        counts: dict[str, int] = {}
        for code in session.scalars(select(ExamSession.code).join(
                UnsealedStage, UnsealedStage.exam_session_id == ExamSession.id)):
            counts[code] = counts.get(code, 0) + 1
    return {code for code, count in counts.items() if count == 2}


def open_layer(session: Session, stage: int, identities: list, *, actor: audit.Actor,
               supervisor: str, now: datetime, actor_role: str | None = None) -> UnsealedStage:
    """Open one layer with the judge's identities, in the presence of `supervisor` (already
    checked by the caller: a signed-in supervisor account). `actor_role`, when given (a page),
    must be the stage's encryption judge. The layer is the session in view's (the only one,
    unscoped)."""
    with _one_session(session):
        return _open_layer(session, stage, identities, actor=actor, supervisor=supervisor,
                           now=now, actor_role=actor_role)


def _open_layer(session: Session, stage: int, identities: list, *, actor: audit.Actor,
                supervisor: str, now: datetime, actor_role: str | None) -> UnsealedStage:
    if actor_role is not None and not OPEN_LAYER[stage].granted_to(actor_role):
        raise Forbidden(N_("Stage %(stage)s is opened by its own encryption judge."),
                        stage=stage)
    if not supervisor:
        raise KioskError(N_("The unsealing needs a supervisor present and signed in."))
    if session.scalar(select(ResultsLock.id)) is None:
        raise Conflict(N_("Unsealing waits until the station-number results are locked "
                          "(评分结果锁定)."))
    expected = next_stage(session)
    if expected is None:
        raise Conflict(N_("Both layers are already open."))
    if stage != expected:
        raise Conflict(N_("Layer by layer: stage %(expected)s is opened next."),
                       expected=expected)
    result = opening.open_stage(session, stage, identities)
    if result is None:
        raise KioskError(N_("These keys do not open the stage %(stage)s record."), stage=stage)
    with write_transaction(session):
        if stage in opened(session):
            raise Conflict(N_("Both layers are already open."))
        stations = dict(session.execute(select(Station.code, Station.id)).all())
        if stage == 2:
            session.add_all(StationLink(station_id=stations[a["station"]],
                                        contestant_no=a["contestant_no"])
                            for a in result.assignments if a["station"] in stations)
        else:
            people = dict(session.execute(select(Contestant.id_number, Contestant.id)).all())
            # This session's stations only: its numbers are its own draw's.
            own = list(stations.values())
            for a in result.assignments:
                session.execute(update(StationLink)
                                .where(StationLink.contestant_no == a["contestant_no"],
                                       StationLink.station_id.in_(own))
                                .values(contestant_id=people.get(a["id_number"])))
        row = UnsealedStage(stage=stage, round_id=result.round_id,
                            sealed_sha256=result.sealed_sha256, verified=result.verified,
                            problems=json.dumps(result.problems, ensure_ascii=False),
                            opened_by=actor.name, supervisor=supervisor[:64], opened_at=now)
        session.add(row)
        audit.record(session, actor, "results.unsealed", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "verified": result.verified,
                              "problems": result.problems, "supervisor": supervisor[:64],
                              "pairs": len(result.assignments),
                              "sealed_sha256": result.sealed_sha256})
    return row


def open_what_opens(session: Session, identities: list, *, actor: audit.Actor, supervisor: str,
                    now: datetime) -> list[UnsealedStage]:
    """The command line: open every next layer these identities open (2, then 1), of the
    session in view."""
    done: list[UnsealedStage] = []
    while (stage := next_stage(session)) is not None:
        try:
            done.append(open_layer(session, stage, identities, actor=actor,
                                   supervisor=supervisor, now=now))
        except KioskError:
            if done:
                break  # the next layer is not these judges' to open
            raise
    return done


def links(session: Session) -> dict[str, dict]:
    """seat → what is known of its contestant after unsealing, of the stations in view."""
    found = {}
    for session_code, code, number, contestant in session.execute(
            select(ExamSession.code, Station.code, StationLink.contestant_no, Contestant)
            .join(Station, Station.id == StationLink.station_id)
            .join(ExamSession, ExamSession.id == Station.exam_session_id)
            .outerjoin(Contestant, Contestant.id == StationLink.contestant_id)):
        found[seats.key(session_code, code)] = {"contestant_no": number,
                       "name": contestant.name if contestant else None,
                       "id_number": contestant.id_number if contestant else None,
                       "organization": contestant.organization if contestant else None,
                       "group": contestant.group if contestant else None}
    return found
