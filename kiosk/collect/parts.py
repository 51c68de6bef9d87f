"""Which part of the day's timetable a hand-in is for (模块A, 模块B …).

Each practical part with `hand_in` has its own hand-in box: its own versions, and its own
deadline (the part's clock and the station's extensions in that part) decides which version is
judged. A hand-in names its part; without one it goes to the practical part under way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kiosk.config import Settings
from kiosk.errors import N_, Conflict, Term
from kiosk.stations import timetable
from kiosk.stations.timetable import Part

# What a hand-in made before the timetable had parts is for (the default day's practical).
DEFAULT_PART = "practical"


class NoHandIn(Conflict):
    """A part that takes no hand-in: the theory exam, or a practical part with hand_in = false."""

    code = "no_hand_in"


def takes_hand_in(part: Part) -> bool:
    return part.kind == "practical" and part.hand_in


def hand_in_parts(session: Session, settings: Settings) -> list[Part]:
    """The day's parts that have a hand-in box, in the day's order."""
    return [p for p in timetable.parts(session, settings) if takes_hand_in(p)]


def for_hand_in(session: Session, settings: Settings, key: str | None, now: datetime) -> Part:
    """The part a hand-in is filed under: `key` (404 if the day has no such part, 409 if it
    takes no hand-in), else the practical part under way (`default_part`)."""
    if not key:
        return default_part(session, settings, now)
    part = timetable.get(session, settings, key)
    if not takes_hand_in(part):
        raise NoHandIn(N_("%(part)s takes no hand-in; hand in for one of: %(parts)s."),
                       part=part.label, parts=_keys(session, settings))
    return part


def default_part(session: Session, settings: Settings, now: datetime) -> Part:
    """The practical part under way; between parts the one that ran last (its grace, then its
    refusal, say the rest), before any the next one (its "has not started"): the station's
    state then answers as it did when the day had one practical phase."""
    day = timetable.day(session, settings, now)
    boxes = [p for p in day.parts if takes_hand_in(p.part)]
    if not boxes:
        raise NoHandIn(N_("No part of the day's timetable takes a hand-in."))
    ran = day.last_started(takes_hand_in)
    if ran is not None:
        return ran.part
    scheduled = [p for p in boxes if p.state == "scheduled"]
    if scheduled:
        return min(scheduled, key=lambda p: p.starts_at).part
    return boxes[0].part


def names(session: Session, settings: Settings) -> dict[str, Term]:
    """Every part's name as people read it, by key (a hand-in of a part since removed from
    the timetable keeps its key as its name)."""
    return {p.key: p.label for p in timetable.parts(session, settings)}


def name_of(session: Session, key: str) -> Term:
    return timetable.display_name(session, key)


def _keys(session: Session, settings: Settings) -> str:
    return ", ".join(p.key for p in hand_in_parts(session, settings)) or "-"
