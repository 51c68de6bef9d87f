"""The lock that submits the results by station number (赛位号评分结果提交) before anything is
unsealed: a frozen copy and its SHA-256, and the unlock while nothing is unsealed yet. One lock
for the event, over every session's stations (each result names its session)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotReady, Problem
from kiosk.results import review, totals
from kiosk.results.models import ResultsLock, UnsealedStage
from kiosk.results.stages import stage
from kiosk.results.totals import StationResult, grade_theory, live_results


def lock_problems(session: Session, current: list[StationResult]) -> list[Problem]:
    """Why the results cannot be locked yet; empty when they can."""
    problems: list[Problem] = []
    if not current:
        problems.append(Problem(None, N_("There are no results to lock.")))
    problems += totals.missing_totals(current)
    problems += review.completion_problems(session)
    return problems


def lock(session: Session, *, theory_weight: Decimal, actor: audit.Actor,
         now: datetime) -> ResultsLock:
    """Submit the station-number results: freeze a copy and its SHA-256 (printed on the sheet
    that the chief judge and the supervisor sign). Unsealing needs this. One lock for the
    whole event: every session's stations."""
    with scope.event_wide(session):
        return _lock(session, theory_weight=theory_weight, actor=actor, now=now)


def _lock(session: Session, *, theory_weight: Decimal, actor: audit.Actor,
          now: datetime) -> ResultsLock:
    grade_theory(session, now)
    with write_transaction(session):
        if stage(session) == "locked":
            raise Conflict(N_("The results are already locked."))
        current = live_results(session, theory_weight=theory_weight, now=now, grade=False)
        problems = lock_problems(session, current)
        if problems:
            raise NotReady(N_("The results cannot be locked yet:"), problems)
        snapshot = json.dumps([r.to_json() for r in current], ensure_ascii=False,
                              sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(snapshot.encode()).hexdigest()
        row = ResultsLock(snapshot=snapshot, sha256=digest, locked_by=actor.name, locked_at=now)
        session.add(row)
        audit.record(session, actor, "results.locked", at=now,
                     details={"sha256": digest, "stations": len(current)})
    return row


def unlock(session: Session, reason: str, *, actor: audit.Actor, now: datetime) -> None:
    """Reopen the review, only while nothing is unsealed (names must not meet open marks)."""
    if not reason.strip():
        raise KioskError(N_("Unlocking needs a reason."))
    with write_transaction(session), scope.event_wide(session):
        row = session.scalar(select(ResultsLock))
        if row is None:
            raise Conflict(N_("The results are not locked."))
        if session.scalar(select(UnsealedStage.stage)) is not None:
            raise Conflict(N_("The draw records are being unsealed; the results stay locked."))
        session.delete(row)
        audit.record(session, actor, "results.unlocked", at=now,
                     details={"sha256": row.sha256, "reason": reason.strip()[:500]})
