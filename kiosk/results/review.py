"""复核: the review sample, its outcomes and the 5 % rule.

The sample (抽检复核, from the rules: 总成绩排名30%的所有参赛选手复核；其余抽检不低于15%):
- every station whose total is within the top 30 % (ceil(N × 30 %) places; a tie on the last of
  those places brings everyone sharing it in);
- plus ceil(15 % of the rest), chosen by HMAC-SHA256(seed, station) ascending, the seed being 32
  random bytes recorded with the sample so that anyone can recompute the choice (docs/results.md).

Groups are sealed until the unsealing, so the top 30 % is taken over all stations together:
in an event of several sessions (场次), over every session's stations at once (one sample, one
lock), each named by its seat (`AM/A01`, `results.seats`) in the HMAC and the ties' order.

A reviewer (the supervisor, 监督组) confirms a result or reports an error with the mark it should
be; the chief judge corrects it (裁判长更正成绩并签字确认). When the whole sample has been reviewed
and more than 5 % of it was wrong, every station is added to the review (复核、抽检错误率超过5%，
需对所有成绩进行复核), and the results cannot be locked until all are reviewed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotReady, Problem
from kiosk.models import ExamSession
from kiosk.results import seats, stages, totals
from kiosk.results.mark_entry import differences
from kiosk.results.models import ReviewItem, ReviewSample
from kiosk.stations.models import Station

TOP_SHARE = (3, 10)  # 30 %
RANDOM_SHARE = (15, 100)  # at least 15 %
ERROR_LIMIT = Decimal("0.05")  # more than 5 % wrong: review everything


def _ceil_share(count: int, share: tuple[int, int]) -> int:
    numerator, denominator = share
    return -(-count * numerator // denominator)


def sample_key(seed: bytes, station: str) -> str:
    return hmac.new(seed, station.encode(), hashlib.sha256).hexdigest()


def choose_sample(station_totals: dict[str, Decimal], seed: bytes) -> tuple[list[str], list[str]]:
    """Pure: (top, random). Deterministic for a given seed."""
    ordered = sorted(station_totals, key=lambda code: (-station_totals[code], code))
    top_count = _ceil_share(len(ordered), TOP_SHARE)
    if top_count:
        threshold = station_totals[ordered[top_count - 1]]
        top = [code for code in ordered if station_totals[code] >= threshold]
    else:
        top = []
    rest = sorted((code for code in ordered if code not in set(top)),
                  key=lambda code: sample_key(seed, code))
    return top, sorted(rest[:_ceil_share(len(rest), RANDOM_SHARE)])


def draw_sample(session: Session, *, theory_weight: Decimal, actor: audit.Actor,
                now: datetime) -> ReviewSample:
    """Draw the sample from the totals as they stand, over every session's stations; freezes
    score entry (see totals)."""
    with scope.event_wide(session):
        return _draw_sample(session, theory_weight=theory_weight, actor=actor, now=now)


def _draw_sample(session: Session, *, theory_weight: Decimal, actor: audit.Actor,
                 now: datetime) -> ReviewSample:
    totals.grade_theory(session, now)
    with write_transaction(session):
        stages.require_entry_open(session)
        current = totals.live_results(session, theory_weight=theory_weight, now=now,
                                      grade=False)
        problems = totals.missing_totals(current)
        open_differences = differences(session)
        if open_differences:
            problems.append(Problem(None, N_("%(n)s differences between the two entries are "
                                             "not resolved"), {"n": len(open_differences)}))
        if not current:
            problems.append(Problem(None, N_("There are no results to review.")))
        if problems:
            raise NotReady(N_("The review sample cannot be drawn yet:"), problems)
        seed = secrets.token_bytes(32)
        top, chosen = choose_sample({r.seat: r.total for r in current}, seed)
        ids = seats.keyed_stations(session)
        session.add_all([ReviewItem(station_id=ids[code], why="top") for code in top]
                        + [ReviewItem(station_id=ids[code], why="random") for code in chosen])
        sample = ReviewSample(seed=seed.hex(), population=len(current), top_count=len(top),
                              random_count=len(chosen), drawn_by=actor.name, drawn_at=now)
        session.add(sample)
        audit.record(session, actor, "review.drawn", at=now,
                     details={"seed": seed.hex(), "population": len(current), "top": top,
                              "random": chosen})
    return sample


def _station(session: Session, code: str, session_code: str | None) -> tuple[Station, str]:
    """The station and its seat: `code` is a seat (`AM/A01`) or a station of `session_code`,
    else of the session in scope, else of the only one."""
    station = seats.station(session, code, session_code)
    return station, seats.seat_of(session, station)


def record_outcome(session: Session, code: str, *, correct: bool, mark: Decimal | None = None,
                   note: str = "", session_code: str | None = None, actor: audit.Actor,
                   now: datetime) -> ReviewItem:
    """The reviewer's finding for a sampled station: confirmed, or an error with the right
    practical mark. Reviewing the last pending station applies the 5 % rule (over the whole
    event)."""
    note = note.strip()
    if not correct and (mark is None or not note):
        raise KioskError(N_("An error needs the mark it should be and a note."))
    station, seat = _station(session, code, session_code)
    with write_transaction(session), scope.event_wide(session):
        stages.require_review_stage(session)
        item = session.get(ReviewItem, station.id)
        if item is None:
            raise Conflict(N_("Station %(station)s is not in the review sample."),
                           station=seat)
        if item.status == "corrected":
            raise Conflict(N_("Station %(station)s has been corrected already."),
                           station=seat)
        item.status = "confirmed" if correct else "error"
        item.reviewed_mark = None if correct else mark
        item.note, item.reviewed_by, item.reviewed_at = note[:500], actor.name, now
        audit.record(session, actor, "review.confirmed" if correct else "review.error", at=now,
                     subject=seat,
                     details={"mark": str(mark) if mark is not None else None, "note": note[:500]})
        _apply_error_rule(session, actor, now)
    return item


def correct(session: Session, code: str, mark: Decimal, reason: str, *,
            session_code: str | None = None, actor: audit.Actor, now: datetime) -> ReviewItem:
    """The chief judge's correction (更正成绩并签字确认): of a reported error, or of any
    station the chief judge finds wrong during the review."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("A correction needs a reason."))
    station, seat = _station(session, code, session_code)
    with write_transaction(session), scope.event_wide(session):
        stages.require_review_stage(session)
        item = session.get(ReviewItem, station.id)
        if item is None:
            item = ReviewItem(station_id=station.id, why="chief")
            session.add(item)
        previous = totals.practical_marks(session).get(seat)
        item.status, item.corrected_mark = "corrected", mark
        item.corrected_by, item.corrected_at = actor.name, now
        if not item.note:
            item.note = reason[:500]
        if item.reviewed_at is None:
            item.reviewed_by, item.reviewed_at = actor.name, now
        audit.record(session, actor, "review.corrected", at=now, subject=seat,
                     details={"from": str(previous) if previous is not None else None,
                              "to": str(mark), "reason": reason[:500]})
        session.flush()
        _apply_error_rule(session, actor, now)
    return item


@dataclass(frozen=True)
class Progress:
    sample: ReviewSample | None
    total: int
    pending: int
    confirmed: int
    errors: int  # reported, waiting for the chief judge's correction
    corrected: int

    @property
    def reviewed(self) -> int:
        return self.total - self.pending

    @property
    def error_rate(self) -> Decimal | None:
        wrong = self.errors + self.corrected
        return Decimal(wrong) / Decimal(self.reviewed) if self.reviewed else None


def progress(session: Session) -> Progress:
    counts = dict(session.execute(select(ReviewItem.status, func.count())
                                  .group_by(ReviewItem.status)).all())
    return Progress(session.scalar(select(ReviewSample)), sum(counts.values()),
                    counts.get("pending", 0), counts.get("confirmed", 0),
                    counts.get("error", 0), counts.get("corrected", 0))


def needs_full_review(wrong: int, reviewed: int) -> bool:
    """More than 5 % of the reviewed results were wrong (exactly 5 % is not more)."""
    return reviewed > 0 and Decimal(wrong) / Decimal(reviewed) > ERROR_LIMIT


def _apply_error_rule(session: Session, actor: audit.Actor, now: datetime) -> None:
    state = progress(session)
    sample = state.sample
    if sample is None or sample.full_review or state.pending:
        return
    if needs_full_review(state.errors + state.corrected, state.reviewed):
        sampled = set(session.scalars(select(ReviewItem.station_id)))
        added = [station_id for station_id in totals.scored_station_ids(session)
                 if station_id not in sampled]
        session.add_all(ReviewItem(station_id=station_id, why="all") for station_id in added)
        sample.full_review = True
        audit.record(session, actor, "review.escalated", at=now,
                     details={"error_rate": str(state.error_rate.quantize(Decimal("0.0001"))),
                              "added": len(added)})


def completion_problems(session: Session) -> list[Problem]:
    state = progress(session)
    if state.sample is None:
        return [Problem(None, N_("The review sample (复核) has not been drawn."))]
    problems = []
    if state.pending:
        problems.append(Problem(None, N_("%(n)s stations are still to be reviewed."),
                                {"n": state.pending}))
    if state.errors:
        problems.append(Problem(None, N_("%(n)s reported errors await the chief judge's "
                                         "correction."), {"n": state.errors}))
    return problems


def statuses(session: Session) -> dict[str, str]:
    """seat → its review status, for the whole sample (every session's): the overview's
    column, read as columns rather than as the sample's items."""
    with scope.event_wide(session):
        return {seats.key(session_code, code): status for status, session_code, code in
                session.execute(select(ReviewItem.status, ExamSession.code, Station.code)
                                .join(Station, Station.id == ReviewItem.station_id)
                                .join(ExamSession, ExamSession.id == Station.exam_session_id))}


def items(session: Session) -> list[tuple[ReviewItem, str]]:
    """(item, seat) of the whole sample, every session's, in the day's order of the
    sessions."""
    with scope.event_wide(session):
        return [(item, seats.key(session_code, code)) for item, session_code, code in
                session.execute(select(ReviewItem, ExamSession.code, Station.code)
                                .join(Station, Station.id == ReviewItem.station_id)
                                .join(ExamSession, ExamSession.id == Station.exam_session_id)
                                .order_by(ExamSession.position, Station.code))]
