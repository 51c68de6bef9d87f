"""The stages the results move through, each freezing what came before:
entry (marks, differences, deductions) → review (the sample is drawn; only review outcomes and
the chief judge's corrections change marks) → locked (a frozen copy; unsealing may begin)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.errors import N_, Conflict
from kiosk.results.models import ResultsLock, ReviewSample


def stage(session: Session) -> str:
    """entry, review or locked."""
    if session.scalar(select(ResultsLock.id)) is not None:
        return "locked"
    if session.scalar(select(ReviewSample.id)) is not None:
        return "review"
    return "entry"


def require_entry_open(session: Session) -> None:
    """Marks, resolutions and deductions change only before the review sample is drawn:
    afterwards every change goes through the review, so the sample stays meaningful."""
    current = stage(session)
    if current == "review":
        raise Conflict(N_("The review sample has been drawn: marks change only through the "
                          "review now (a correction by the chief judge)."))
    if current == "locked":
        raise Conflict(N_("The results are locked; nothing changes any more."))


def require_review_stage(session: Session) -> None:
    """Review outcomes and corrections are recorded only between the sample and the lock."""
    current = stage(session)
    if current == "entry":
        raise Conflict(N_("The review sample has not been drawn yet."))
    if current == "locked":
        raise Conflict(N_("The results are locked; nothing changes any more."))
