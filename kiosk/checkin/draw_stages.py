"""The two draw stages, from commitment to seal, and the unsealing.

Stage 1 (一次抽签, the first encryption judge): identity → contestant number (参赛编号).
Stage 2 (二次抽签, the second encryption judge): contestant number → station (赛位号).

Plaintext pairs exist only between a stage's draw and its seal. Sealing encrypts them, with the
seed and entropy, to the age recipients registered for the stage and deletes them in the same
transaction. Audit events of the draws hold commitments, entropy and counts, never pairs. After the
seal nothing in plaintext orders the free items: a late arrival draws from a fresh secret
permutation, sealed with their pair in a supplement.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyrage
from sqlalchemy import case, delete, func, select, true, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.checkin import verifiable_draw as rules
from kiosk.checkin.models import (
    Contestant,
    ContestantNumber,
    Draw1Assignment,
    Draw2Assignment,
    DrawRound,
    SealedSupplement,
)
from kiosk.crypto import parse_recipient
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, Problem
from kiosk.judge_keys import recipients_for
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station

SEALED_FORMAT = "kiosk-sealed-draw-v1"
SUPPLEMENT_FORMAT = "kiosk-sealed-supplement-v1"
OPEN_STATUSES = ("committed", "drawn", "prepared")
REASON_LIMIT = 500


@dataclass(frozen=True)
class Redraw:
    """A redraw after the result was shown: the supervisor who co-signed it (their password
    checked by the caller, through the sign-in throttle: `staff.cosign`) and why."""

    cosigner: str
    reason: str


def _stage_role(stage: int) -> str:
    if stage not in (1, 2):
        raise KioskError(N_("The draw stage is 1 or 2."))
    return f"crypt{stage}"


def current_round(session: Session, stage: int) -> DrawRound | None:
    """The stage's live round: open or sealed (superseded rounds are history)."""
    return session.scalar(select(DrawRound).where(DrawRound.stage == stage,
                                                  DrawRound.status != "superseded")
                          .order_by(DrawRound.id.desc()).limit(1))


def history(session: Session, stage: int) -> list[DrawRound]:
    return list(session.scalars(select(DrawRound).where(DrawRound.stage == stage)
                                .order_by(DrawRound.id)))


# ----------------------------------------------------------------------------- inputs and pools

def stage_inputs(session: Session, stage: int) -> list[str]:
    """Who takes part in a fresh draw: stage 1, the checked-in contestants' ID numbers; stage 2,
    the contestant numbers in use."""
    if stage == 1:
        return sorted(session.scalars(select(Contestant.id_number)
                                      .where(Contestant.checked_in_at.is_not(None))))
    return sorted(session.scalars(select(ContestantNumber.no)))


def stage_pool(session: Session, stage: int) -> list[str]:
    if stage == 1:
        return rules.number_pool(**_number_range(session))
    return sorted(session.scalars(select(Station.code).where(Station.spare.is_(False))))


def _number_range(session: Session) -> dict[str, int]:
    """This session's contestant numbers: as many as its contestants, after the numbers of
    the sessions before it in the day's order, as wide as the whole roster needs; so a number
    is unique across the event (one session: 001…P, as before sessions existed)."""
    here = scope.current(session)
    size = session.scalar(select(func.count()).select_from(Contestant)) or 0
    if here is None:
        return {"size": size}
    with scope.event_wide(session):
        sizes = dict(session.execute(select(Contestant.exam_session_id, func.count())
                                     .group_by(Contestant.exam_session_id)).all())
    offset = 0
    for exam_session in exam_sessions.every(session):
        if exam_session.id == here.id:
            break
        offset += sizes.get(exam_session.id, 0)
    return {"size": size, "offset": offset, "total": sum(sizes.values())}


def pending_inputs(session: Session, stage: int) -> list[str]:
    """Inputs that have not drawn yet (late arrivals)."""
    sealed = _drawn_in_sealed_rounds(session, stage)
    if stage == 1:
        drawn = select(Draw1Assignment.contestant_id)
        return sorted(session.scalars(select(Contestant.id_number).where(
            Contestant.checked_in_at.is_not(None), Contestant.id.not_in(drawn),
            Contestant.id.not_in(sealed))))
    taken = set(session.scalars(select(Draw2Assignment.contestant_no)))
    return sorted(no for no in session.scalars(select(ContestantNumber.no))
                  if no not in taken and no not in sealed)


def _drawn_in_sealed_rounds(session: Session, stage: int) -> set:
    """Who drew in the stage's sealed rounds: contestant ids (stage 1) or contestant numbers
    (stage 2). After the seal the server keeps this list, which links nobody to anything."""
    drawn: set = set()
    for round_ in session.scalars(select(DrawRound).where(DrawRound.stage == stage,
                                                          DrawRound.status == "sealed")):
        drawn.update(json.loads(round_.drawn_ids or "[]"))
    return drawn


# ----------------------------------------------------------------------------- commit and draw

def commit(session: Session, stage: int, *, actor: audit.Actor, now: datetime,
           redraw: Redraw | None = None) -> DrawRound:
    """A new round with a secret seed; its SHA-256 is shown and printed before the entropy.
    Replacing a round whose result was shown needs `redraw` (a supervisor and a reason)."""
    _stage_role(stage)
    with write_transaction(session):
        live = _redrawable(session, stage, redraw)
        if live is not None:
            _supersede(session, live, actor, now, redraw)
        inputs = stage_inputs(session, stage)
        if not inputs:
            raise Conflict(N_("Nobody to draw: stage 1 needs checked-in contestants, stage 2 "
                              "needs the contestant numbers of stage 1."))
        seed = secrets.token_bytes(rules.SEED_BYTES)
        round_ = DrawRound(stage=stage, method="computer", status="committed", seed=seed,
                           commitment=rules.commitment(seed), committed_at=now,
                           committed_by=actor.name, pool_size=len(stage_pool(session, stage)),
                           input_count=len(inputs))
        session.add(round_)
        session.flush()
        audit.record(session, actor, "draw.committed", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id,
                              "commitment": round_.commitment, "inputs": len(inputs),
                              "pool": round_.pool_size})
    return round_


def _redrawable(session: Session, stage: int, redraw: Redraw | None = None) -> DrawRound | None:
    """The live round a new draw would replace; refuse where a redraw is no longer allowed.

    A result someone has seen is final: otherwise a judge could draw until one suits them.
    Replacing it needs a supervisor's co-signature and a reason."""
    live = current_round(session, stage)
    if live is not None and live.status == "sealed":
        raise Conflict(N_("Stage %(stage)s is sealed; it cannot be drawn again."), stage=stage)
    if stage == 1 and live is not None and current_round(session, 2) is not None:
        raise Conflict(N_("The station draw has used these contestant numbers; stage 1 can no "
                          "longer be drawn again."))
    if live is not None and live.shown_at is not None and (
            redraw is None or not redraw.cosigner.strip() or not redraw.reason.strip()):
        raise Conflict(N_("The result of stage %(stage)s was shown at %(time)s and is final: a "
                          "redraw needs a supervisor's co-signature and a reason."),
                       stage=stage, time=clock.local_display(live.shown_at, "%H:%M:%S"))
    return live


def _supersede(session: Session, round_: DrawRound, actor: audit.Actor, now: datetime,
               redraw: Redraw | None = None) -> None:
    """A redraw before the seal: the old round stays in the log (commitment and entropy), its
    pairs are dropped. After the result was shown, with the supervisor and the reason."""
    _clear_assignments(session, round_)
    round_.status = "superseded"
    round_.superseded_at = now
    round_.seed = None
    round_.ciphertext = None
    round_.ciphertext_sha256 = None
    details = {"stage": round_.stage, "round": round_.id, "commitment": round_.commitment,
               "entropy": round_.entropy}
    if round_.shown_at is not None and redraw is not None:
        round_.redraw_reason = redraw.reason.strip()[:REASON_LIMIT]
        round_.redraw_cosigner = redraw.cosigner.strip()[:64]
        details.update(shown_at=clock.iso(round_.shown_at), reason=round_.redraw_reason,
                       cosigned_by=round_.redraw_cosigner)
    audit.record(session, actor, "draw.superseded", at=now, subject=f"stage {round_.stage}",
                 details=details)


def _clear_assignments(session: Session, round_: DrawRound) -> None:
    if round_.stage == 1:
        numbers = list(session.scalars(select(Draw1Assignment.contestant_no)
                                       .where(Draw1Assignment.round_id == round_.id)))
        session.execute(delete(Draw1Assignment).where(Draw1Assignment.round_id == round_.id))
        if numbers:
            session.execute(delete(ContestantNumber).where(ContestantNumber.no.in_(numbers)))
    else:
        stations = list(session.scalars(select(Draw2Assignment.station_id)
                                         .where(Draw2Assignment.round_id == round_.id)))
        session.execute(delete(Draw2Assignment).where(Draw2Assignment.round_id == round_.id))
        if stations:
            session.execute(update(Station).where(Station.id.in_(stations))
                            .values(occupied=False))


def draw(session: Session, stage: int, entropy: str, *, commitment: str, actor: audit.Actor,
         now: datetime) -> DrawRound:
    """Run the committed round with the public entropy.

    `commitment` is the one shown to whoever entered the entropy: the entropy only proves
    anything if it came after the commitment was shown, so a draw against another commitment
    (never shown, or replaced meanwhile) is refused, and so is the entropy of a superseded
    round of the stage, which was public before this round's seed was chosen."""
    entropy = rules.canonical_entropy(entropy)
    if not entropy:
        raise KioskError(N_("Enter the public entropy (for example the dice rolls, in order)."))
    with write_transaction(session):
        round_ = current_round(session, stage)
        if round_ is None or round_.status != "committed" or round_.seed is None:
            raise Conflict(N_("Stage %(stage)s has no commitment waiting for entropy; make "
                              "the commitment first."), stage=stage)
        if (commitment or "").strip().lower() != round_.commitment:
            raise Conflict(N_("The entropy was entered against another commitment than the one "
                              "waiting for it (%(commitment)s); show that commitment first, "
                              "then enter new entropy."), commitment=round_.commitment)
        if entropy in _superseded_entropies(session, stage):
            raise Conflict(N_("This entropy was already used by a superseded round of stage "
                              "%(stage)s: it was public before the commitment, so it proves "
                              "nothing. Enter new entropy."), stage=stage)
        inputs, pool = stage_inputs(session, stage), stage_pool(session, stage)
        if len(inputs) != round_.input_count:
            raise Conflict(N_("Who takes part changed since the commitment (%(then)s, now "
                              "%(now)s); make a new commitment."),
                           then=round_.input_count, now=len(inputs))
        try:
            mapping = rules.assign(round_.seed, entropy, stage, inputs, pool)
        except rules.DrawError as exc:
            raise Conflict(N_("The draw cannot run: %(reason)s"), reason=str(exc)) from exc
        _store(session, round_, mapping, late=False)
        round_.entropy = entropy
        round_.entropy_by = actor.name
        round_.status = "drawn"
        round_.drawn_at = now
        round_.drawn_by = actor.name
        round_.pool_size = len(pool)
        audit.record(session, actor, "draw.drawn", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id, "method": "computer",
                              "commitment": round_.commitment, "entropy": entropy,
                              "assigned": len(mapping), "pool": len(pool)})
    return round_


def _superseded_entropies(session: Session, stage: int) -> set[str]:
    return {rules.canonical_entropy(text) for text in session.scalars(
        select(DrawRound.entropy).where(DrawRound.stage == stage,
                                        DrawRound.status == "superseded",
                                        DrawRound.entropy.is_not(None)))}


def draw_by_lots(session: Session, stage: int, lots: dict[str, str], *, actor: audit.Actor,
                 now: datetime, redraw: Redraw | None = None) -> DrawRound:
    """Physical lots: staff enter what each drew. All or nothing; duplicates and numbers outside
    the pool are refused, and everyone must have a lot."""
    _stage_role(stage)
    with write_transaction(session):
        live = _redrawable(session, stage, redraw)
        inputs, pool = stage_inputs(session, stage), stage_pool(session, stage)
        _check_lots(lots, inputs, pool)
        if live is not None:
            _supersede(session, live, actor, now, redraw)
        round_ = DrawRound(stage=stage, method="lots", status="drawn", committed_at=now,
                           committed_by=actor.name, drawn_at=now, drawn_by=actor.name,
                           pool_size=len(pool), input_count=len(inputs))
        session.add(round_)
        session.flush()
        _store(session, round_, lots, late=False)
        audit.record(session, actor, "draw.drawn", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id, "method": "lots",
                              "assigned": len(lots), "pool": len(pool)})
    return round_


def _check_lots(lots: dict[str, str], inputs: list[str], pool: list[str]) -> None:
    problems: list[Problem] = []
    pool_set = set(pool)
    width = len(pool[0]) if pool and pool[0].isdigit() else 0
    seen: dict[str, str] = {}
    for key in list(lots):
        value = lots[key].strip().upper()
        if width and value.isdigit():
            value = value.zfill(width)
        lots[key] = value
        if key not in inputs:
            problems.append(Problem(None, N_("%(who)s does not take part in this draw"),
                                    {"who": key}))
        elif not value:
            problems.append(Problem(None, N_("%(who)s has no lot"), {"who": key}))
        elif value not in pool_set:
            problems.append(Problem(None, N_("%(who)s: %(lot)s is not in the pool"),
                                    {"who": key, "lot": value}))
        elif value in seen:
            problems.append(Problem(None, N_("%(who)s: %(lot)s was drawn already by %(other)s"),
                                    {"who": key, "lot": value, "other": seen[value]}))
        else:
            seen[value] = key
    missing = [key for key in inputs if key not in lots]
    problems += [Problem(None, N_("%(who)s has no lot"), {"who": key}) for key in missing]
    if problems:
        raise ImportErrors(problems)


def _store(session: Session, round_: DrawRound, mapping: dict[str, str], *, late: bool) -> None:
    if round_.stage == 1:
        ids = dict(session.execute(select(Contestant.id_number, Contestant.id)
                                   .where(Contestant.id_number.in_(list(mapping)))).all())
        for id_number, number in sorted(mapping.items(), key=lambda kv: kv[1]):
            session.add(Draw1Assignment(round_id=round_.id, contestant_id=ids[id_number],
                                        contestant_no=number, late=late))
        # Inserted in number order, so that row order tells nothing about the roster order.
        for number in sorted(mapping.values()):
            session.add(ContestantNumber(no=number))
    else:
        stations = dict(session.execute(select(Station.code, Station.id)
                                        .where(Station.code.in_(list(mapping.values())))).all())
        for number, code in sorted(mapping.items()):
            session.add(Draw2Assignment(round_id=round_.id, contestant_no=number,
                                        station_id=stations[code], late=late))
        session.execute(update(Station).where(Station.id.in_(list(stations.values())))
                        .values(occupied=True))
    session.flush()


# ----------------------------------------------------------------------------- late arrivals

def assign_late(session: Session, stage: int, who: str, *, lot: str | None = None,
                actor: audit.Actor, now: datetime, sealed_dir: Path | None = None) -> str:
    """A late arrival takes the next item of the drawn permutation (or the lot they drew).
    After the seal the permutation is gone: they draw from a fresh one (`_late_draw`), and the
    pair is sealed on its own at once, never stored in plaintext."""
    with write_transaction(session):
        round_ = current_round(session, stage)
        if round_ is None or round_.status not in ("drawn", "prepared", "sealed"):
            raise Conflict(N_("Stage %(stage)s has not been drawn yet."), stage=stage)
        key = who.strip().upper()
        if key not in pending_inputs(session, stage):
            raise Conflict(N_("%(who)s is not waiting for a draw (not checked in, or drawn "
                              "already)."), who=who)
        used = _used_items(session, round_)
        pool = stage_pool(session, stage)
        late_seed, late_free = None, None
        if lot is not None:
            value = lot.strip().upper()
            if stage == 1 and value.isdigit() and pool:
                value = value.zfill(len(pool[0]))
            if value not in pool or value in used:
                raise Conflict(N_("%(lot)s is not free in the pool."), lot=value)
        elif round_.method == "computer" and round_.status == "sealed":
            late_seed, late_free, value = _late_draw(stage, pool, used)
        elif round_.method == "computer":
            free = rules.remaining(round_.seed, round_.entropy or "", stage, pool, used)
            if not free:
                raise Conflict(N_("The pool is used up."))
            value = free[0]
        else:
            raise KioskError(N_("This stage was drawn with physical lots: enter the lot the "
                                "late arrival drew."))
        if round_.status == "sealed":
            _seal_supplement(session, round_, key, value, now, late_seed=late_seed,
                             free=late_free)
            _mark_used(session, round_, key, value)
        else:
            _store(session, round_, {key: value}, late=True)
            if round_.status == "prepared":  # the prepared ciphertext no longer holds everyone
                round_.status, round_.ciphertext, round_.ciphertext_sha256 = "drawn", None, None
        audit.record(session, actor, "draw.late_assigned", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id,
                              "after_seal": round_.status == "sealed"})
    if round_.status == "sealed":
        _scrub_free_space(session)
    if sealed_dir is not None:
        export_sealed(session, stage, sealed_dir)
    return value


def _late_draw(stage: int, pool: list[str], used: set[str]) -> tuple[bytes, list[str], str]:
    """A late arrival after the seal: the first item of a fresh secret permutation of the free
    items. The seal erased the round's seed, and so the order of what was left: a permutation
    kept for late arrivals would let anyone reading the database recompute what they got. This
    one is never stored in plaintext; it goes into the supplement, encrypted to the judges, who
    recompute it at the unsealing."""
    free = sorted(item for item in pool if item not in used)
    if not free:
        raise Conflict(N_("The pool is used up."))
    late_seed = secrets.token_bytes(rules.SEED_BYTES)
    return late_seed, free, rules.permutation(late_seed, "", stage, free)[0]


def _used_items(session: Session, round_: DrawRound) -> set[str]:
    if round_.stage == 1:
        return set(session.scalars(select(ContestantNumber.no)))
    return set(session.scalars(select(Station.code).where(Station.occupied.is_(True))))


def _mark_used(session: Session, round_: DrawRound, key: str, value: str) -> None:
    drawn = json.loads(round_.drawn_ids or "[]")
    if round_.stage == 1:
        contestant_id = session.scalar(select(Contestant.id).where(Contestant.id_number == key))
        drawn.append(contestant_id)
        _rewrite_numbers_in_use(session, value)
    else:
        _rewrite_occupied(session, value)
        drawn.append(key)
    round_.drawn_ids = json.dumps(sorted(drawn, key=str))


def _rewrite_numbers_in_use(session: Session, added: str | None = None) -> None:
    """All contestant numbers in use, rewritten in one transaction in number order: a row added
    on its own would stand out by its place in the table (SQLite's rowid, PostgreSQL's heap
    order and xmin), and its number would be the late arrival's."""
    numbers = set(session.scalars(select(ContestantNumber.no)))
    if added is not None:
        numbers.add(added)
    session.execute(delete(ContestantNumber))
    session.flush()
    for number in sorted(numbers):
        session.add(ContestantNumber(no=number))
    session.flush()


def _rewrite_occupied(session: Session, added: str | None = None) -> None:
    """Every station row written in the same transaction, so that the one just taken is not
    the only row this transaction changed (PostgreSQL's xmin and heap order tell)."""
    occupied = Station.occupied if added is None else \
        case((Station.code == added, true()), else_=Station.occupied)
    session.execute(update(Station).values(occupied=occupied))


def _seal_supplement(session: Session, round_: DrawRound, key: str, value: str,
                     now: datetime, *, late_seed: bytes | None = None,
                     free: list[str] | None = None) -> None:
    recipients = _recipients(session, round_.stage)
    pair = _pair_record(session, round_.stage, key, value, late=True)
    document = {"format": SUPPLEMENT_FORMAT, "session": _session_code(session),
                "stage": round_.stage,
                "round_commitment": round_.commitment,
                "round_sha256": round_.ciphertext_sha256,
                "created_at": clock.iso(now), "assignments": [pair]}
    if late_seed is not None:
        # What the judges need to recompute the late draw: the item is the first of `free`
        # ordered by the draw's recipe with this seed and empty entropy (docs/draw.md).
        document.update(algorithm=rules.ALGORITHM, seed=late_seed.hex(), free=free)
    payload = _canonical(document)
    ciphertext = pyrage.encrypt(payload, recipients)
    session.add(SealedSupplement(round_id=round_.id, created_at=now, ciphertext=ciphertext,
                                 ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest()))


# ----------------------------------------------------------------------------- sealing

def _recipients(session: Session, stage: int) -> list:
    texts = recipients_for(session, _stage_role(stage))
    if not texts:
        raise Conflict(N_("No public key is registered for %(role)s: kiosk judge-key add NAME "
                          "age1… --role %(role)s"), role=f"crypt{stage}")
    return [parse_recipient(text) for text in texts]


def _session_code(session: Session) -> str:
    """The session a sealed record is about ("" in an event of one session): the envelope of
    each session's draw says whose it is."""
    here = scope.current(session)
    return here.code if here is not None else ""


def _canonical(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _pair_record(session: Session, stage: int, key: str, value: str, *, late: bool) -> dict:
    if stage == 1:
        person = session.scalar(select(Contestant).where(Contestant.id_number == key))
        return {"id_number": person.id_number, "name": person.name,
                "organization": person.organization, "group": person.group,
                "contestant_no": value, "late": late}
    return {"contestant_no": key, "station": value, "late": late}


@dataclass
class Mapping:
    """A stage's plaintext pairs (before the seal): what the record sheets print, with the
    rounds replaced after their result was shown (co-signed redraws)."""

    round: DrawRound
    pairs: list[dict] = field(default_factory=list)
    redraws: list[DrawRound] = field(default_factory=list)


def plaintext_mapping(session: Session, stage: int) -> Mapping:
    round_ = current_round(session, stage)
    if round_ is None or round_.status not in ("drawn", "prepared"):
        raise Conflict(N_("Stage %(stage)s has no drawn, unsealed result."), stage=stage)
    pairs: list[dict] = []
    if stage == 1:
        joined = Draw1Assignment.contestant_id == Contestant.id
        rows = session.execute(select(Contestant, Draw1Assignment).join(Draw1Assignment, joined)
                               .where(Draw1Assignment.round_id == round_.id)
                               .order_by(Draw1Assignment.contestant_no)).all()
        for person, assignment in rows:
            pairs.append({"id_number": person.id_number, "name": person.name,
                          "organization": person.organization, "group": person.group,
                          "contestant_no": assignment.contestant_no, "late": assignment.late})
    else:
        rows = session.execute(select(Draw2Assignment, Station.code)
                               .join(Station, Station.id == Draw2Assignment.station_id)
                               .where(Draw2Assignment.round_id == round_.id)
                               .order_by(Draw2Assignment.contestant_no)).all()
        for assignment, code in rows:
            pairs.append({"contestant_no": assignment.contestant_no, "station": code,
                          "late": assignment.late})
    redraws = list(session.scalars(select(DrawRound).where(
        DrawRound.stage == stage, DrawRound.status == "superseded",
        DrawRound.redraw_cosigner.is_not(None)).order_by(DrawRound.id)))
    return Mapping(round_, pairs, redraws)


def show_result(session: Session, stage: int, *, actor: audit.Actor, now: datetime) -> Mapping:
    """The pairs, for a person to see (the ceremony page, the record sheet, the command's
    output). The first time stamps the moment: from then on the result is final."""
    mapping = plaintext_mapping(session, stage)
    if mapping.round.shown_at is None:
        with write_transaction(session):
            round_ = session.get(DrawRound, mapping.round.id)
            if round_.shown_at is None:  # another screen may have shown it meanwhile
                round_.shown_at, round_.shown_by = now, actor.name
                audit.record(session, actor, "draw.result_shown", at=now,
                             subject=f"stage {stage}",
                             details={"stage": stage, "round": round_.id,
                                      "commitment": round_.commitment})
    return mapping


def _sealed_document(session: Session, mapping: Mapping, event_name: str) -> dict:
    round_ = mapping.round
    key = "id_number" if round_.stage == 1 else "contestant_no"
    return {
        "format": SEALED_FORMAT, "algorithm": rules.ALGORITHM, "event": event_name,
        "session": _session_code(session), "stage": round_.stage, "round": round_.id,
        "method": round_.method,
        "seed": round_.seed.hex() if round_.seed else None, "commitment": round_.commitment,
        "entropy": round_.entropy, "committed_at": clock.iso(round_.committed_at),
        "drawn_at": clock.iso(round_.drawn_at),
        "pool": stage_pool(session, round_.stage),
        "inputs": sorted(p[key] for p in mapping.pairs if not p["late"]),
        "assignments": mapping.pairs,
    }


def prepare_seal(session: Session, stage: int, *, event_name: str, actor: audit.Actor,
                 now: datetime) -> DrawRound:
    """Encrypt the stage's record to its judges' keys and fix its SHA-256, which the record
    sheets print. The plaintext stays until `seal`, so the sheets can still be printed."""
    with write_transaction(session):
        mapping = plaintext_mapping(session, stage)
        round_ = mapping.round
        recipients = _recipients(session, stage)
        payload = _canonical(_sealed_document(session, mapping, event_name))
        round_.ciphertext = pyrage.encrypt(payload, recipients)
        round_.ciphertext_sha256 = hashlib.sha256(round_.ciphertext).hexdigest()
        round_.recipients = "\n".join(recipients_for(session, f"crypt{stage}"))
        round_.status = "prepared"
        round_.prepared_at = now
        audit.record(session, actor, "draw.seal_prepared", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id,
                              "sealed_sha256": round_.ciphertext_sha256,
                              "recipients": len(recipients)})
    return round_


def seal(session: Session, stage: int, *, event_name: str, actor: audit.Actor,
         now: datetime) -> DrawRound:
    """Erase the plaintext pairs and the seed; keep only the ciphertext (prepared now if it was
    not). After both seals nothing on this server links a station to a person."""
    round_ = current_round(session, stage)
    if round_ is not None and round_.status == "drawn":
        prepare_seal(session, stage, event_name=event_name, actor=actor, now=now)
    with write_transaction(session):
        round_ = current_round(session, stage)
        if round_ is None or round_.status != "prepared":
            state = round_.status if round_ else "none"
            raise Conflict(N_("Stage %(stage)s cannot be sealed now (state: %(state)s)."),
                           stage=stage, state=state)
        # No order of the free items survives the seal: with it anyone could tell what a late
        # arrival gets. Late arrivals after the seal draw from a fresh permutation each
        # (_late_draw), and the judges recompute the free order from the sealed record.
        if stage == 1:
            drawn = sorted(session.scalars(select(Draw1Assignment.contestant_id)
                                           .where(Draw1Assignment.round_id == round_.id)))
        else:
            drawn = sorted(session.scalars(select(Draw2Assignment.contestant_no)
                                           .where(Draw2Assignment.round_id == round_.id)))
        round_.drawn_ids = json.dumps(drawn)
        table = Draw1Assignment if stage == 1 else Draw2Assignment
        session.execute(delete(table).where(table.round_id == round_.id))
        # Late arrivals before the seal were written after the others; rewrite all at once.
        if stage == 1:
            _rewrite_numbers_in_use(session)
        else:
            _rewrite_occupied(session)
        round_.seed = None
        round_.status = "sealed"
        round_.sealed_at = now
        round_.sealed_by = actor.name
        audit.record(session, actor, "draw.sealed", at=now, subject=f"stage {stage}",
                     details={"stage": stage, "round": round_.id,
                              "commitment": round_.commitment,
                              "sealed_sha256": round_.ciphertext_sha256,
                              "assigned": len(drawn)})
    _scrub_free_space(session)
    return round_


def export_sealed(session: Session, stage: int, folder: Path) -> list[Path]:
    """Write the stage's sealed record (and supplements) as .age files the judges can copy and
    open with the standard tool: `age -d -i crypt1.key draw-stage1-round3.age`."""
    round_ = current_round(session, stage)
    if round_ is None or round_.status != "sealed" or round_.ciphertext is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    items = [(f"draw-stage{stage}-round{round_.id}.age", round_.ciphertext)]
    for supplement in session.scalars(select(SealedSupplement).where(
            SealedSupplement.round_id == round_.id).order_by(SealedSupplement.id)):
        items.append((f"draw-stage{stage}-round{round_.id}-late{supplement.id}.age",
                      supplement.ciphertext))
    for name, data in items:
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written


def _scrub_free_space(session: Session) -> None:
    """Deleted rows must not linger in the database files: SQLite zeroes them (secure_delete)
    and the WAL is checkpointed and truncated; PostgreSQL vacuums the tables."""
    engine = session.get_bind()
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM draw1_assignment, draw2_assignment, draw_round")
            # Rewritten in key order, so that the heap order of these two tables tells
            # nothing about which row was written last (a late arrival's). The seal or the late
            # draw has committed already: a session that holds the table too long costs the
            # reordering, never the answer (docs/draw.md: keep PostgreSQL's disks confidential).
            # CLUSTER waits for an ACCESS EXCLUSIVE lock, and every reader of `station` (each
            # station request's session check) queues behind the waiting CLUSTER: wait briefly,
            # and give up the reordering rather than stall the hall.
            conn.exec_driver_sql("SET lock_timeout = '200ms'")
            for table in ("contestant_number", "station"):
                with contextlib.suppress(OperationalError):
                    conn.exec_driver_sql(f"CLUSTER {table} USING pk_{table}")
