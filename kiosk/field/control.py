"""The chief judge's control of the exam's parts, where it needs more than a phase: starting the
theory builds the papers that are still missing first, so that no station meets a started exam
without its paper. The control page and `kiosk phase start` both call it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.stations import phases
from kiosk.stations.models import PhaseRow
from kiosk.theory_exam.papers import ensure_papers


def start_phase(session: Session, name: str, minutes: float, *, actor: audit.Actor,
                now: datetime, at: datetime | None = None) -> PhaseRow:
    """Start `name` now, or schedule it for `at` (again on a scheduled phase: a new start)."""
    if name == "theory":
        ensure_papers(session, actor=actor, now=now)
    return phases.start(session, name, minutes, actor=actor, now=now, at=at)
