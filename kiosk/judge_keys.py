"""Judges' public keys: `crypt1` and `crypt2` seal the draw records, `archive` opens hand-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, crypto
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError
from kiosk.models import JUDGE_KEY_ROLES, JudgeKey


def add_judge_key(session: Session, name: str, recipient: str, role: str, *,
                  actor: audit.Actor, now: datetime) -> JudgeKey:
    if role not in JUDGE_KEY_ROLES:
        raise KioskError(N_("Unknown key role %(role)s; use crypt1, crypt2 or archive."),
                         role=role)
    if not name.strip():
        raise KioskError(N_("A judge key needs the name of its holder."))
    crypto.parse_recipient(recipient)
    recipient = recipient.strip()
    with write_transaction(session):
        if session.scalar(select(JudgeKey.id).where(JudgeKey.recipient == recipient)):
            raise Conflict(N_("This public key is registered already."))
        key = JudgeKey(name=name.strip()[:128], role=role, recipient=recipient, added_at=now)
        session.add(key)
        session.flush()
        audit.record(session, actor, "judge_key.added", at=now, subject=name.strip()[:128],
                     details={"role": role, "recipient": recipient})
    return key


def recipients_for(session: Session, role: str) -> list[str]:
    return list(session.scalars(select(JudgeKey.recipient).where(JudgeKey.role == role)
                                .order_by(JudgeKey.id)))
