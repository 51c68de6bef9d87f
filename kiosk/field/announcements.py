"""The chief judge's word to every kiosk and the hall clock (公告)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.db import write_transaction
from kiosk.errors import N_, KioskError, NotFound
from kiosk.field.models import Announcement


def announce(session: Session, text: str, *, actor: audit.Actor, now: datetime) -> Announcement:
    text = text.strip()
    if not text or len(text) > 500:
        raise KioskError(N_("An announcement is 1 to 500 characters."))
    with write_transaction(session):
        item = Announcement(text=text, at=now, by=actor.name)
        session.add(item)
        session.flush()
        audit.record(session, actor, "announcement.posted", at=now, subject=str(item.id),
                     details={"text": text})
    return item


def withdraw(session: Session, announcement_id: int, *, actor: audit.Actor,
             now: datetime) -> None:
    with write_transaction(session):
        item = session.get(Announcement, announcement_id)
        if item is None:
            raise NotFound(N_("No such announcement."))
        item.withdrawn = True
        audit.record(session, actor, "announcement.withdrawn", at=now, subject=str(item.id))


def recent_announcements(session: Session, limit: int = 5) -> list[Announcement]:
    rows = session.scalars(select(Announcement).where(Announcement.withdrawn.is_(False))
                           .order_by(Announcement.id.desc()).limit(limit))
    return list(reversed(list(rows)))
