"""The audit log: append-only and hash-chained, written in the transaction of the change it records.

Each event's hash covers the previous event's hash and its own canonical content. Appends lock the
single `audit_head` row (SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serializes writers), so two servers on one database still build one unbroken chain.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.clock import iso
from kiosk.errors import N_
from kiosk.models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, a station, or the command line."""

    name: str
    role: str = ""

    @classmethod
    def cli(cls) -> Actor:
        return cls("cli", "cli")


def canonical_details(details: dict | None) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def event_hash(prev_hash: str, seq: int, at: datetime, actor: str, role: str, action: str,
               subject: str, details: str) -> str:
    content = json.dumps([seq, iso(at), actor, role, action, subject, details],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def record(session: Session, actor: Actor, action: str, *, at: datetime, subject: str = "",
           details: dict | None = None) -> AuditEvent:
    """Append one event. Call inside the write transaction of the change it records."""
    # The head row is created by the first migration; locking it orders all appends.
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    # Microsecond precision is what every backend stores; hash what will be read back.
    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    details_text = canonical_details(details)
    seq = head.last_seq + 1
    event = AuditEvent(
        seq=seq, at=at, actor=actor.name, role=actor.role, action=action, subject=subject,
        details=details_text, prev_hash=head.last_hash,
        hash=event_hash(head.last_hash, seq, at, actor.name, actor.role, action, subject,
                        details_text),
    )
    session.add(event)
    head.last_seq = seq
    head.last_hash = event.hash
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify_chain(session: Session, batch: int = 2000,
                 anchor: tuple[int, str] | None = None) -> ChainReport:
    """Replay the chain from the start; name the first event that does not fit.

    `anchor` is (seq, hash) from a signed checkpoint: the chain must still hold that event with
    that hash. It catches what the head row cannot, because the head lives in the same database:
    a cut tail with the head rewound, or a change with every later hash recomputed."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in _events_in_order(session, batch):
        if event.seq != expected_seq:
            return ChainReport(count, expected_seq, N_("an event is missing before this one"))
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.seq, N_("it does not follow the previous event"))
        recomputed = event_hash(event.prev_hash, event.seq, event.at, event.actor, event.role,
                                event.action, event.subject, event.details)
        if recomputed != event.hash:
            return ChainReport(count, event.seq, N_("its content was changed after it was written"))
        if anchor is not None and event.seq == anchor[0] and event.hash != anchor[1]:
            # A consistent chain that disagrees with the checkpoint was rewritten from the
            # start: which event changed cannot be known, only that it is this one or earlier.
            return ChainReport(count, event.seq, N_(
                "the log no longer holds the checkpoint's event as it was: this event or an "
                "earlier one was changed, removed or inserted"))
        expected_prev = event.hash
        expected_seq += 1
        count += 1
    if anchor is not None and count < anchor[0]:
        return ChainReport(count, count + 1, N_(
            "the log ends before the checkpoint's event: events from here on were removed"))
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != expected_prev):
        return ChainReport(count, count + 1 if head.last_seq > count else count,
                           N_("events at the end of the log were removed"))
    return ChainReport(count)


def _events_in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def event_line(event: AuditEvent) -> str:
    """One event as a JSON line: `at` and `details` exactly as `event_hash` hashes them."""
    return json.dumps({"seq": event.seq, "at": iso(event.at), "actor": event.actor,
                       "role": event.role, "action": event.action, "subject": event.subject,
                       "details": event.details, "prev_hash": event.prev_hash,
                       "hash": event.hash}, ensure_ascii=False, separators=(",", ":"))


def export_events(session: Session, out: Path, batch: int = 2000) -> int:
    """Write the whole log as JSON Lines (UTF-8), oldest first; a partial file never stays."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8", newline="\n") as handle:
        for event in _events_in_order(session, batch):
            handle.write(event_line(event) + "\n")
            count += 1
    os.replace(partial, out)
    return count


def list_events(session: Session, *, action: str = "", actor: str = "", subject: str = "",
                since: datetime | None = None, until: datetime | None = None,
                limit: int = 200, before_seq: int | None = None) -> list[AuditEvent]:
    """Newest first, filtered; `before_seq` pages back through the log."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if subject:
        query = query.where(AuditEvent.subject.contains(subject))
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.execute(query).scalars())
