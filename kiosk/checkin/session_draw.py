"""The session draw (场次抽签) at the team leaders' meeting: who sits in which session.

Seed 000: 竞赛场次签在赛前领队会上抽取. Verifiable like the station draws (commit to a secret
seed, then public entropy, then an HKDF ranking: `verifiable_draw.place_in_sessions`), but
public: the result is announced, so the seed is kept and printed once drawn, and anyone can
recompute the result from the seed, the entropy and the roster (docs/draw.md).

Every contestant on the roster who has not withdrawn gets a session that admits their group,
within its capacity; a draw that cannot place everyone is refused with the reason and changes
nothing. The result is written on the contestants (`Contestant.exam_session_id`) when it is
first shown (published: the page, the record sheet, `--json`); from then on it is final: no
redraw, no new session, no new roster rows. Before that a redraw needs a reason (audited).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.checkin import verifiable_draw as rules
from kiosk.checkin.models import Contestant, SessionDrawRound
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions

REASON_LIMIT = 500


# ----------------------------------------------------------------------------- reading

def current_round(session: Session) -> SessionDrawRound | None:
    """The live round (committed or drawn); superseded rounds are history."""
    return session.scalar(select(SessionDrawRound)
                          .where(SessionDrawRound.status != "superseded")
                          .order_by(SessionDrawRound.id.desc()).limit(1))


def history(session: Session) -> list[SessionDrawRound]:
    return list(session.scalars(select(SessionDrawRound).order_by(SessionDrawRound.id)))


def published(session: Session) -> SessionDrawRound | None:
    """The published round (its result shown), if any: final."""
    round_ = current_round(session)
    return round_ if round_ is not None and round_.shown_at is not None else None


def require_open(session: Session) -> None:
    """Refused once the session draw is published: sessions can no longer change (`kiosk
    sessions add` asks this)."""
    round_ = published(session)
    if round_ is not None:
        raise Conflict(N_("The session draw was published at %(time)s and is final; sessions "
                          "can no longer be added."),
                       time=clock.local_display(round_.shown_at, "%m-%d %H:%M"))


def require_roster_open(session: Session) -> None:
    """Refused once the session draw is published: a contestant added then would have no
    session, and the draw cannot run again."""
    round_ = published(session)
    if round_ is not None:
        raise Conflict(N_("The session draw was published at %(time)s; the roster can no longer "
                          "grow (a contestant who cannot come is withdrawn, not replaced)."),
                       time=clock.local_display(round_.shown_at, "%m-%d %H:%M"))


def await_the_draw(session: Session) -> int:
    """Once the event has several sessions and before the session draw is published, the
    roster's contestants wait for it in none: the first session took over the implicit one,
    and with it everyone imported before, who are not its contestants until drawn. Kept where
    anyone is checked in already (then the draw is refused anyway, naming why). Returns how
    many now wait."""
    if not needed(session) or published(session) is not None:
        return 0
    with write_transaction(session), scope.event_wide(session):
        if session.scalar(select(Contestant.id).where(
                Contestant.checked_in_at.is_not(None)).limit(1)) is not None:
            return 0
        return session.execute(update(Contestant).where(
            Contestant.exam_session_id.is_not(None)).values(exam_session_id=None)).rowcount


def needed(session: Session) -> bool:
    """Whether the event needs a session draw before check-in: it has several sessions."""
    return len(exam_sessions.every(session)) > 1


def require_published_for_checkin(session: Session) -> None:
    if needed(session) and published(session) is None:
        raise Conflict(N_("The session draw has not been published yet: check-in opens once "
                          "every contestant knows their session."))


# ----------------------------------------------------------------------------- the inputs

def _slots(session: Session) -> list[rules.Slot]:
    return [rules.Slot(es.code, tuple(es.groups or ()), exam_sessions.capacity(session, es))
            for es in exam_sessions.defined(session)]


def _people(session: Session) -> dict[str, str]:
    """Who the draw places: every roster contestant not withdrawn, ID number → group."""
    with scope.event_wide(session):
        return dict(session.execute(select(Contestant.id_number, Contestant.group)
                                    .where(Contestant.withdrawn_at.is_(None))).all())


def _fingerprint(people: dict[str, str], slots: list[rules.Slot]) -> str:
    document = {"contestants": sorted(people.items()),
                "sessions": [[s.code, list(s.groups), s.capacity] for s in slots]}
    return hashlib.sha256(json.dumps(document, ensure_ascii=False, sort_keys=True)
                          .encode("utf-8")).hexdigest()


def _sessions_json(session: Session, slots: list[rules.Slot]) -> list[dict]:
    names = {es.code: es.name for es in exam_sessions.defined(session)}
    return [{"code": s.code, "name": names.get(s.code, ""), "groups": list(s.groups),
             "capacity": s.capacity} for s in slots]


# ----------------------------------------------------------------------------- commit and draw

def commit(session: Session, *, actor: audit.Actor, now: datetime,
           reason: str = "") -> SessionDrawRound:
    """A new round with a secret seed; its SHA-256 is shown before the entropy. Replacing a
    round (committed or drawn, not yet published) needs `reason`."""
    with write_transaction(session):
        if not exam_sessions.defined(session):
            raise Conflict(N_("The event runs as one session: there is no session draw. Add "
                              "the sessions first (kiosk sessions add)."))
        live = _replaceable(session, reason)
        people, slots = _people(session), _slots(session)
        if not people:
            raise Conflict(N_("The roster is empty: import it before the session draw."))
        with scope.event_wide(session):
            checked_in = session.scalar(select(Contestant.id).where(
                Contestant.checked_in_at.is_not(None)).limit(1))
        if checked_in is not None:
            raise Conflict(N_("Contestants are checked in already: the session draw comes "
                              "before check-in."))
        _refuse_impossible(people, slots)
        if live is not None:
            _supersede(session, live, reason, actor, now)
        seed = secrets.token_bytes(rules.SEED_BYTES)
        round_ = SessionDrawRound(status="committed", seed=seed,
                                  commitment=rules.commitment(seed),
                                  inputs_sha256=_fingerprint(people, slots),
                                  committed_at=now, committed_by=actor.name)
        session.add(round_)
        session.flush()
        audit.record(session, actor, "sessions.draw_committed", at=now, subject="session draw",
                     details={"round": round_.id, "commitment": round_.commitment,
                              "contestants": len(people),
                              "sessions": [s.code for s in slots]})
    return round_


def _replaceable(session: Session, reason: str) -> SessionDrawRound | None:
    live = current_round(session)
    if live is None:
        return None
    if live.shown_at is not None:
        raise Conflict(N_("The session draw was published at %(time)s and is final; it cannot "
                          "be drawn again."),
                       time=clock.local_display(live.shown_at, "%m-%d %H:%M"))
    if not reason.strip():
        raise KioskError(N_("A session draw is under way (commitment %(commitment)s): "
                            "replacing it needs a reason."), commitment=live.commitment)
    return live


def _supersede(session: Session, round_: SessionDrawRound, reason: str, actor: audit.Actor,
               now: datetime) -> None:
    round_.status = "superseded"
    round_.superseded_at = now
    round_.redraw_reason = reason.strip()[:REASON_LIMIT]
    audit.record(session, actor, "sessions.draw_superseded", at=now, subject="session draw",
                 details={"round": round_.id, "commitment": round_.commitment,
                          "entropy": round_.entropy, "reason": round_.redraw_reason})


def _refuse_impossible(people: dict[str, str], slots: list[rules.Slot]) -> None:
    need: dict[str, int] = {}
    for group in people.values():
        need[group] = need.get(group, 0) + 1
    problem = rules.shortfall(need, slots, {s.code: s.capacity for s in slots})
    if problem is not None:
        raise Conflict(N_("The sessions cannot take everyone: %(groups)s has %(n)s contestants, "
                          "but the sessions open to it (%(sessions)s) hold %(capacity)s."),
                       groups="、".join(problem.groups), n=problem.contestants,
                       sessions=", ".join(problem.sessions) or "—", capacity=problem.capacity)


def draw(session: Session, entropy: str, *, commitment: str, actor: audit.Actor,
         now: datetime) -> SessionDrawRound:
    """Run the committed round with the public entropy from the leaders' meeting; refused
    against another commitment than the one waiting, with the entropy of a replaced round,
    or if the roster or the sessions changed since the commitment."""
    entropy = rules.canonical_entropy(entropy)
    if not entropy:
        raise KioskError(N_("Enter the public entropy (for example the dice rolls, in order)."))
    with write_transaction(session):
        round_ = current_round(session)
        if round_ is None or round_.status != "committed" or round_.seed is None:
            raise Conflict(N_("The session draw has no commitment waiting for entropy; make "
                              "the commitment first."))
        if (commitment or "").strip().lower() != round_.commitment:
            raise Conflict(N_("The entropy was entered against another commitment than the one "
                              "waiting for it (%(commitment)s); show that commitment first, "
                              "then enter new entropy."), commitment=round_.commitment)
        used = {rules.canonical_entropy(text) for text in session.scalars(
            select(SessionDrawRound.entropy).where(SessionDrawRound.status == "superseded",
                                                   SessionDrawRound.entropy.is_not(None)))}
        if entropy in used:
            raise Conflict(N_("This entropy was already used by a replaced round of the session "
                              "draw: it was public before the commitment. Enter new entropy."))
        people, slots = _people(session), _slots(session)
        if _fingerprint(people, slots) != round_.inputs_sha256:
            raise Conflict(N_("The roster or the sessions changed since the commitment; make a "
                              "new commitment (with a reason)."))
        try:
            placed = rules.place_in_sessions(round_.seed, entropy, people, slots)
        except rules.DrawError as exc:  # refused at the commitment already; kept safe here
            raise Conflict(N_("The draw cannot run: %(reason)s"), reason=str(exc)) from exc
        round_.entropy = entropy
        round_.status = "drawn"
        round_.drawn_at, round_.drawn_by = now, actor.name
        round_.sessions = _sessions_json(session, slots)
        round_.assignments = dict(sorted(placed.items()))
        audit.record(session, actor, "sessions.drawn", at=now, subject="session draw",
                     details={"round": round_.id, "commitment": round_.commitment,
                              "entropy": entropy, "counts": _counts(placed)})
    return round_


def _counts(placed: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in placed.values():
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


# ----------------------------------------------------------------------------- the result

@dataclass(frozen=True)
class Placement:
    contestant: Contestant
    session_code: str | None  # None: withdrawn before the draw, in no session


@dataclass
class Result:
    round: SessionDrawRound
    placements: list[Placement]
    replaced: list[SessionDrawRound]

    def counts(self) -> dict[str, int]:
        return _counts({p.contestant.id_number: p.session_code for p in self.placements
                        if p.session_code})

    def as_json(self) -> dict:
        round_ = self.round
        return {"commitment": round_.commitment, "entropy": round_.entropy,
                "seed": round_.seed.hex() if round_.seed else None,
                "algorithm": rules.ALGORITHM, "sessions": round_.sessions,
                "assignments": [{"id_number": p.contestant.id_number, "session": p.session_code}
                                for p in self.placements if p.session_code]}


def drawn_result(session: Session) -> Result:
    """The drawn round's result, not yet marked as shown (for counts on a console)."""
    round_ = current_round(session)
    if round_ is None or round_.status != "drawn":
        raise Conflict(N_("The session draw has not been drawn yet."))
    with scope.event_wide(session):
        people = list(session.scalars(select(Contestant).order_by(Contestant.group,
                                                                  Contestant.organization,
                                                                  Contestant.roster_line,
                                                                  Contestant.id)))
    order = {s["code"]: n for n, s in enumerate(round_.sessions or [])}
    placements = sorted((Placement(p, round_.assignments.get(p.id_number)) for p in people),
                        key=lambda p: order.get(p.session_code, len(order)))
    replaced = [r for r in history(session) if r.status == "superseded" and r.entropy]
    return Result(round_, placements, replaced)


def show_result(session: Session, *, actor: audit.Actor, now: datetime) -> Result:
    """The result, for people to see (the page, the record sheet, `--json`). The first time
    publishes it: each contestant's session is set, and the draw is final."""
    result = drawn_result(session)
    if result.round.shown_at is None:
        with write_transaction(session):
            round_ = session.get(SessionDrawRound, result.round.id)
            if round_.shown_at is None:  # another screen may have shown it meanwhile
                if _fingerprint(_people(session), _slots(session)) != round_.inputs_sha256:
                    raise Conflict(N_("The roster or the sessions changed since the draw; it "
                                      "cannot be published. Redraw (with a reason)."))
                _publish(session, round_)
                round_.shown_at, round_.shown_by = now, actor.name
                audit.record(session, actor, "sessions.draw_published", at=now,
                             subject="session draw",
                             details={"round": round_.id, "commitment": round_.commitment,
                                      "counts": _counts(round_.assignments)})
    return result


def _publish(session: Session, round_: SessionDrawRound) -> None:
    ids = {es.code: es.id for es in exam_sessions.defined(session)}
    with scope.event_wide(session):
        session.execute(update(Contestant).values(exam_session_id=None))
        by_session: dict[int, list[str]] = {}
        for id_number, code in round_.assignments.items():
            by_session.setdefault(ids[code], []).append(id_number)
        for session_id, numbers in by_session.items():
            for start in range(0, len(numbers), 500):
                session.execute(update(Contestant)
                                .where(Contestant.id_number.in_(numbers[start:start + 500]))
                                .values(exam_session_id=session_id))
        session.expire_all()


def session_of(session: Session, contestant: Contestant) -> ExamSession | None:
    if contestant.exam_session_id is None:
        return None
    with scope.event_wide(session):
        return session.get(ExamSession, contestant.exam_session_id)
