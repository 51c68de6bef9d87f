"""The audit log: append-only and hash-chained, written in the transaction of the change it records.

Each event's hash covers the previous event's hash and its own canonical content. Appends lock the
single `audit_head` row (SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serializes writers), so two servers on one database still build one unbroken chain.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiosk import scope
from kiosk.clock import iso, local_display
from kiosk.db import contains_text, starts_with_text
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

    @classmethod
    def station(cls, code: str) -> Actor:
        """A contestant's workstation, written as "station:A01" (read back by `actor_text`)."""
        return cls(f"{STATION_ACTOR_PREFIX}{code}", "station")


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
    # In an event of several sessions the same station code is in each: say whose it was.
    about = scope.current(session)
    if about is not None and about.code and "session" not in (details or {}):
        details = {**(details or {}), "session": about.code}
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
                limit: int = 200, before_seq: int | None = None,
                actions: Sequence[str] = ()) -> list[AuditEvent]:
    """Newest first, filtered; `before_seq` pages back through the log. An event matches the
    action filter when its code starts with `action` or is one of `actions` (the codes whose
    labels match what was typed: `actions_matching`)."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if action or actions:
        query = query.where(or_(starts_with_text(AuditEvent.action, action),
                                AuditEvent.action.in_(list(actions))) if action
                            else AuditEvent.action.in_(list(actions)))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if subject:
        query = query.where(contains_text(AuditEvent.subject, subject))
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.execute(query).scalars())


# ----------------------------------------------------------------------------- how it reads
# Labels only: nothing here changes what is stored or hashed. An action or a detail key missing
# from these tables is shown with its raw name.

ACTION_LABELS: dict[str, str] = {
    "announcement.posted": N_("Announcement posted"),
    "announcement.withdrawn": N_("Announcement withdrawn"),
    "badges.issued": N_("Station badges printed"),
    "hall.layout_imported": N_("Hall map imported"),
    "bank.disabled": N_("Question disabled"),
    "bank.enabled": N_("Question enabled"),
    "bank.imported": N_("Question bank imported"),
    "checkin.checked_in": N_("Checked in"),
    "checkin.undone": N_("Check-in undone"),
    "collect.exported": N_("Hand-ins exported"),
    "collect.received": N_("Work handed in"),
    "deduction.added": N_("Deduction recorded"),
    "deduction.withdrawn": N_("Deduction withdrawn"),
    "draw.committed": N_("Draw: commitment made"),
    "draw.drawn": N_("Draw made"),
    "draw.late_assigned": N_("Late arrival given a lot"),
    "draw.result_shown": N_("Draw result shown (final from now on)"),
    "draw.seal_prepared": N_("Record sheet printed for sealing"),
    "draw.sealed": N_("Draw record sealed"),
    "draw.superseded": N_("Draw set aside for a redraw"),
    "exam.graded": N_("Theory papers graded: scores recorded"),
    "exam.submitted": N_("Theory paper handed in"),
    "incident.noted": N_("Incident recorded"),
    "judge_key.added": N_("Judge's public key registered"),
    "marks.entered": N_("Marks entered"),
    "marks.imported": N_("Marks imported"),
    "marks.resolved": N_("Difference between the entries resolved"),
    "paper.built": N_("Theory papers built"),
    "paper.printed": N_("Paper theory papers printed"),
    "paper.sheet_agreed": N_("Answer sheet agreed: graded from paper"),
    "paper.sheet_entered": N_("Answer sheet typed in"),
    "paper.sheet_resolved": N_("Answer sheet difference resolved"),
    "paper.switched": N_("Station switched to its paper answer sheet"),
    "paper.spec_set": N_("Paper spec set"),
    "material.added": N_("Task book added"),
    "material.fetched": N_("Task book fetched"),
    "material.removed": N_("Task book removed"),
    "phase.early_finish": N_("Finished early"),
    "phase.ended": N_("Phase ended"),
    "phase.extended": N_("Extra time granted"),
    "phase.paused": N_("Phase paused"),
    "phase.rescheduled": N_("Phase start moved"),
    "phase.resumed": N_("Phase resumed"),
    "phase.schedule_cancelled": N_("Scheduled start cancelled"),
    "phase.scheduled": N_("Phase start scheduled"),
    "phase.started": N_("Phase started"),
    "results.locked": N_("Station-number results locked"),
    "results.unlocked": N_("Results unlocked"),
    "results.unsealed": N_("Draw record unsealed"),
    "review.confirmed": N_("Review: correct"),
    "review.corrected": N_("Mark corrected by the chief judge"),
    "review.drawn": N_("Review sample drawn"),
    "review.error": N_("Review: error reported"),
    "review.escalated": N_("Error rate over 5%: every station is reviewed"),
    "roster.imported": N_("Roster imported"),
    "scores.tasks_set": N_("Task full marks set"),
    "staff.cosign": N_("Co-signature"),
    "staff.cosign_failed": N_("Co-signature failed: wrong username or password"),
    "staff.cosign_refused": N_("Co-signature refused: not an account of the required role"),
    "staff.login": N_("Signed in"),
    "staff.login_failed": N_("Sign-in failed"),
    "staff.logout": N_("Signed out"),
    "staff.user_added": N_("Staff account added"),
    "station.login": N_("Station signed in"),
    "station.login_wrong_session": N_("Badge of another session refused"),
    "sessions.added": N_("Session added"),
    "roster.withdrawn": N_("Contestant withdrawn"),
    "sessions.draw_committed": N_("Session draw: commitment made"),
    "sessions.drawn": N_("Session draw made"),
    "sessions.draw_published": N_("Session draw published (final from now on)"),
    "sessions.draw_superseded": N_("Session draw set aside for a redraw"),
    "station.login_failed": N_("Wrong station badge codes"),
    "station.login_refused_in_use": N_("Station sign-in refused: in use on another workstation"),
    "station.login_wrong_workstation": N_("Station sign-in refused: not its workstation"),
    "station.rebound": N_("Station bound to another workstation"),
    "station.released": N_("Station released"),
    "stations.added": N_("Stations added"),
    "timetable.set": N_("Timetable set"),
}

DETAIL_LABELS: dict[str, str] = {
    "added": N_("Added"), "address": N_("Address"), "after_seal": N_("After sealing"),
    "amount": N_("Amount"), "answered": N_("Questions answered"),
    "approved_by": N_("Approved by"), "assigned": N_("Assigned"), "bound_to": N_("Bound to"),
    "commitment": N_("Commitment"), "cosigned_by": N_("Co-signed by"), "count": N_("Count"),
    "deduction": N_("Proposed deduction"),
    "device": N_("Trusted device"), "duplicate_stems": N_("Duplicate questions"),
    "ends_at": N_("Ends at"), "entropy": N_("Public entropy"), "entry": N_("Entry"),
    "error_rate": N_("Error rate"), "file": N_("File"), "first_ip": N_("First IP"),
    "from": N_("From"), "group": N_("Group"), "hand_ins": N_("Hand-ins"), "id": N_("No."),
    "id_number": N_("ID number"), "inputs": N_("Inputs"), "late": N_("Late"),
    "manifest_sha256": N_("Manifest SHA-256"), "mark": N_("Mark"),
    "master_seed_sha256": N_("Seed SHA-256"), "method": N_("Method"), "minute": N_("Minute"),
    "minutes": N_("Minutes"), "note": N_("Note"), "papers": N_("Papers"),
    "paused_seconds": N_("Paused for (seconds)"), "pairs": N_("Pairs"),
    "part": N_("Part"), "parts": N_("Parts"), "after_pause_of": N_("Moved after the pause of"),
    "per_category": N_("Per category"), "phase": N_("Phase"), "pool": N_("Pool"),
    "population": N_("Number of stations"), "problems": N_("Problems"),
    "paper_sha256": N_("Paper SHA-256 by station"), "question": N_("Question number"),
    "questions": N_("Questions"),
    "random": N_("At random"), "reason": N_("Reason"), "receipt_no": N_("Receipt"),
    "recipient": N_("Public key"), "recipients": N_("Public keys"),
    "reissued": N_("Printed again"), "role": N_("Role"), "round": N_("Round"),
    "rows": N_("Rows"), "rule": N_("Rule broken"), "same_questions": N_("Same questions"),
    "sealed_sha256": N_("Sealed record SHA-256"), "seed": N_("Seed"), "sha256": N_("SHA-256"),
    "single": N_("Single-choice questions"), "single_points": N_("Points per single-choice"),
    "session": N_("Session"), "groups": N_("Groups"), "capacity": N_("Capacity"),
    "size": N_("Size"), "stage": N_("Stage"), "starts_at": N_("Starts at"),
    "was_starts_at": N_("Previously scheduled start"), "shown_at": N_("Result shown at"),
    "station_deadline": N_("Station's deadline"), "stations": N_("Number of stations"),
    "stem": N_("Question"), "supervisor": N_("Supervisor"), "task": N_("Task"),
    "text": N_("Text"), "tf": N_("True/false questions"),
    "tf_points": N_("Points per true/false"), "to": N_("To"), "top": N_("Top 30%"),
    "unchecked": N_("Not checked"), "undrawn": N_("Station nobody drew (confirmed)"),
    "unit": N_("Unit"), "verified": N_("Verified"),
    "version": N_("Version"), "via": N_("Via"),
}

VALUE_LABELS: dict[str, dict[str, str]] = {
    "method": {"computer": N_("computer draw"), "lots": N_("drawn lots")},
    "unit": {"percent": N_("percent of the total"), "points": N_("points")},
    "via": {"kiosk": N_("workstation"), "desk": N_("collection desk")},
}

_YES, _NO, _NONE = N_("yes"), N_("no"), "—"


def action_label(action: str) -> str | None:
    """The msgid naming an action, or None: the page then shows the raw name."""
    return ACTION_LABELS.get(action)


def actions_matching(text: str, translate: Callable[[str], str] = str) -> list[str]:
    """The action codes whose label, as shown (`translate`) or as written, contains `text`:
    what a person types into the filter ("暂停", "重新抽签") finds what the page calls so."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    return sorted(action for action, label in ACTION_LABELS.items()
                  if wanted in translate(label).casefold() or wanted in label.casefold())


# Subjects written as codes ("stage 1": the first draw) and as the pages name them.
SUBJECT_LABELS: dict[str, str] = {
    "stage 1": N_("First draw"), "stage 2": N_("Second draw"),
    "entry 1": N_("Entry 1"), "entry 2": N_("Entry 2"),
}
STATION_ACTOR_PREFIX = "station:"  # a contestant's station writes as "station:A01"


def subject_label(subject: str) -> str | None:
    """The msgid naming a coded subject, or None: the subject is shown as stored."""
    return SUBJECT_LABELS.get(subject)


def actor_text(actor: str, translate: Callable[[str], str] = str) -> str:
    """Who wrote an event, for people: "station:A01" reads "工位机 A01"; names as they are."""
    if actor.startswith(STATION_ACTOR_PREFIX):
        return translate(N_("Workstation %(station)s")) % {
            "station": actor.removeprefix(STATION_ACTOR_PREFIX)}
    return actor


def actor_code(typed: str, translate: Callable[[str], str] = str) -> str:
    """What the 操作人 filter looks for: "工位机 A01" (as `actor_text` shows it) is "station:A01";
    anything else as typed."""
    typed = typed.strip()
    prefix, _sep, _rest = translate(N_("Workstation %(station)s")).partition("%(station)s")
    if prefix.strip() and typed.startswith(prefix.strip()):
        code = typed.removeprefix(prefix.strip()).strip()
        if code:
            return STATION_ACTOR_PREFIX + code.upper()
    return typed


def readable_details(details: str, translate: Callable[[str], str] = str,
                     values: Mapping[str, Mapping[str, str]] | None = None
                     ) -> list[tuple[str, str]]:
    """An event's details as (label, value) lines for people: keys in words, values formatted,
    long hashes shortened. `values` adds names for the values of some keys (roles, phases)."""
    try:
        data = json.loads(details) if details else {}
    except ValueError:
        return [("", details)]
    if not isinstance(data, dict):
        return [("", _value(data, "", translate, {}))]
    names = {**VALUE_LABELS, **(values or {})}
    return [(translate(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key,
             _value(value, key, translate, names)) for key, value in data.items()]


def _value(value: object, key: str, translate: Callable[[str], str],
           names: Mapping[str, Mapping[str, str]]) -> str:
    if value is None or value == "":
        return _NONE
    if isinstance(value, bool):
        return translate(_YES if value else _NO)
    if isinstance(value, list):
        return ", ".join(_value(v, key, translate, names) for v in value) or _NONE
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v, k, translate, names)}" for k, v in value.items())
    if key in names and str(value) in names[key]:
        return translate(str(names[key][str(value)]))
    if key == "size" and isinstance(value, int):
        return _size(value)
    text = str(value)
    if key.endswith(("_at", "deadline")):
        try:
            return local_display(datetime.fromisoformat(text))
        except ValueError:
            return text
    if len(text) >= 32 and all(c in "0123456789abcdef" for c in text):
        return text[:16] + "…"  # a hash: enough to compare with a printed one
    return text


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
