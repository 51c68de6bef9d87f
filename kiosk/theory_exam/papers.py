"""Paper spec and per-station papers, built ahead of the start and served as stored.

Every choice in a paper (which questions, their order, the order of options, the opaque option
keys) is a deterministic function of the station's seed, so any paper can be regenerated exactly
for a dispute (`regenerate`). Station seeds are HMAC(master seed, station code); the master seed is
recorded with the spec. In an event of several sessions (场次) a station is one row per session,
and each session's stations get their own papers: the seed's label names the session too
(`paper|AM|A01`), while the implicit session of an event without sessions keeps
`paper|A01`, so the papers of an instance from before sessions regenerate as they were. The
spec is the event's: `set_spec` builds every session's papers at once.

Nothing sent to a browser reveals the key: option keys are HMAC tokens that mean nothing by
themselves, and no "correct" flag exists outside `key_map`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, numbers, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, NotFound
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.phases import get_phase
from kiosk.stations.window import as_rule
from kiosk.theory_exam.models import Paper, PaperSpec, Question

TF_OPTIONS = (("T", "对"), ("F", "错"))


@dataclass(frozen=True)
class SpecInput:
    single: int | None = None  # None: the whole bank
    tf: int | None = None
    single_points: Decimal | None = None  # None: each question's own points
    tf_points: Decimal | None = None
    per_category: dict | None = None
    same_questions: bool = False
    shuffle_questions: bool = True
    shuffle_options: bool = True
    show_score: bool = False


def points_text(value: Decimal) -> str:
    """One spelling per amount (2, 1.5), however the database stored it (2.00, 1.50)."""
    return format(Decimal(value).normalize(), "f")


def _key(seed: bytes, label: str) -> bytes:
    return hmac.new(seed, label.encode("utf-8"), hashlib.sha256).digest()


def station_seed(master_seed_hex: str, station_code: str, session_code: str = "") -> str:
    """The station's seed in its session (`session_code`, "" for the implicit session)."""
    label = f"paper|{session_code}|{station_code}" if session_code else f"paper|{station_code}"
    return _key(bytes.fromhex(master_seed_hex), label).hex()


def option_key(seed: bytes, qid: int, original: str) -> str:
    """Six letters that say nothing about the option: not its letter, not its position."""
    token = base64.b32encode(_key(seed, f"key|{qid}|{original}")[:5]).decode("ascii")
    return token.lower()[:6]


def _select(bank: list[Question], spec: PaperSpec, seed: bytes) -> list[Question]:
    picked: list[Question] = []
    for qtype, count in (("single", spec.single_count), ("tf", spec.tf_count)):
        pool = [q for q in bank if q.type == qtype]
        if spec.per_category:
            for category, counts in sorted(spec.per_category.items()):
                wanted = counts.get(qtype, 0)
                in_category = [q for q in pool if q.category == category]
                ranked = sorted(in_category, key=lambda q: _key(seed, f"pick|{q.id}"))
                picked += ranked[:wanted]
        else:
            ranked = sorted(pool, key=lambda q: _key(seed, f"pick|{q.id}"))
            picked += ranked if count is None else ranked[:count]
    return picked


def build_paper(seed_hex: str, spec: PaperSpec, bank: list[Question]) -> tuple[list, dict,
                                                                              Decimal]:
    """(questions for the browser, key map kept on the server, full marks). Pure."""
    seed = bytes.fromhex(seed_hex)
    selection_seed = bytes.fromhex(spec.master_seed) if spec.same_questions else seed
    chosen = _select(sorted(bank, key=lambda q: q.id), spec, selection_seed)
    section = {"single": 0, "tf": 1}  # 单选题 first, then 判断题, as printed papers do
    if spec.shuffle_questions:
        chosen.sort(key=lambda q: (section[q.type], _key(seed, f"order|{q.id}")))
    else:
        chosen.sort(key=lambda q: (section[q.type], q.id))
    questions, key_map, full = [], {}, Decimal(0)
    for question in chosen:
        override = spec.single_points if question.type == "single" else spec.tf_points
        points = Decimal(override if override is not None else question.points)
        full += points
        if question.type == "single":
            originals = [(o["key"], o["text"]) for o in question.options]
            if spec.shuffle_options:
                originals.sort(key=lambda o: _key(seed, f"opt|{question.id}|{o[0]}"))
        else:
            originals = list(TF_OPTIONS)
        options = [{"key": option_key(seed, question.id, letter), "text": text}
                   for letter, text in originals]
        qid = str(question.id)
        questions.append({"id": qid, "type": question.type, "stem": question.stem,
                          "options": options, "points": points_text(points)})
        key_map[qid] = {"points": points_text(points), "answer": question.answer,
                        "keys": {option_key(seed, question.id, letter): letter
                                 for letter, _ in originals}}
    return questions, key_map, full


def get_spec(session: Session) -> PaperSpec | None:
    return session.scalar(select(PaperSpec).limit(1))


def set_spec(session: Session, wanted: SpecInput, *, actor: audit.Actor,
             now: datetime) -> PaperSpec:
    """Record the spec with a fresh master seed and build every station's paper at once, every
    session's, so the start of the exam only serves what is stored. Refused once the theory
    exam has started in any session (its papers are in use)."""
    with scope.event_wide(session):
        return _set_spec(session, wanted, actor=actor, now=now)


def theory_started(session: Session, now: datetime) -> bool:
    """The theory exam has started in some session (each runs on its own clock)."""
    for exam_session in exam_sessions.every(session):
        with scope.within(session, exam_sessions.as_scope(exam_session)):
            if clock.has_started(as_rule(get_phase(session, "theory")), now):
                return True
    return False


def _set_spec(session: Session, wanted: SpecInput, *, actor: audit.Actor,
              now: datetime) -> PaperSpec:
    if theory_started(session, now):
        raise Conflict(N_("The theory exam has started; the papers can no longer change."))
    bank = list(session.scalars(select(Question).where(Question.enabled)))
    _check(wanted, bank)
    with write_transaction(session):
        spec = get_spec(session) or PaperSpec(master_seed="", updated_at=now, updated_by="")
        spec.single_count, spec.tf_count = wanted.single, wanted.tf
        spec.single_points, spec.tf_points = wanted.single_points, wanted.tf_points
        spec.per_category = wanted.per_category
        spec.same_questions = wanted.same_questions
        spec.shuffle_questions = wanted.shuffle_questions
        spec.shuffle_options = wanted.shuffle_options
        spec.show_score = wanted.show_score
        spec.master_seed = secrets.token_hex(32)
        spec.bank_ids = sorted(q.id for q in bank)
        spec.updated_at, spec.updated_by = now, actor.name
        session.add(spec)
        session.flush()
        session.execute(delete(Paper))
        built = _build_missing(session, spec, bank, now)
        key_maps.clear()
        audit.record(session, actor, "paper.spec_set", at=now, details={
            "single": wanted.single, "tf": wanted.tf,
            "single_points": str(wanted.single_points) if wanted.single_points else None,
            "tf_points": str(wanted.tf_points) if wanted.tf_points else None,
            "per_category": wanted.per_category, "same_questions": wanted.same_questions,
            "papers": built, "master_seed_sha256": hashlib.sha256(
                bytes.fromhex(spec.master_seed)).hexdigest()})
    return spec


def parse_points(text: str | None) -> Decimal | None:
    """The points of one question as typed on the page or after `--single-points`: nothing is
    the default, else a number as marks are read (`numbers.parse_decimal`: full-width folded,
    two decimals at most; NaN, 1e1 and other scripts' digits refused)."""
    if not numbers.normalised(text):
        return None
    points = numbers.parse_decimal(text)
    if points is None:
        raise KioskError(N_("Not a number: %(text)s"), text=text)
    return points


PER_CATEGORY_SHAPE = N_('Write it as {"category": {"single": 10, "tf": 5}}.')


def check_per_category(value: object) -> None:
    """The per-category counts as the page and `kiosk paper set --per-category` give them:
    {"category": {"single": n, "tf": m}}, whole numbers from 0, or a refusal saying so."""
    valid = isinstance(value, dict) and all(
        isinstance(counts, dict) and all(
            kind in ("single", "tf") and type(count) is int and count >= 0
            for kind, count in counts.items())
        for counts in value.values())
    if not valid:
        raise KioskError(PER_CATEGORY_SHAPE)


def _check(wanted: SpecInput, bank: list[Question]) -> None:
    available = {"single": sum(q.type == "single" for q in bank),
                 "tf": sum(q.type == "tf" for q in bank)}
    problems = []
    if wanted.per_category is not None:
        check_per_category(wanted.per_category)
    if wanted.per_category:
        for category, counts in wanted.per_category.items():
            for qtype in ("single", "tf"):
                have = sum(q.type == qtype and q.category == category for q in bank)
                if counts.get(qtype, 0) > have:
                    problems.append(f"{category}/{qtype}: {counts[qtype]} > {have}")
    else:
        for qtype, count in (("single", wanted.single), ("tf", wanted.tf)):
            if count is not None and (count < 0 or count > available[qtype]):
                problems.append(f"{qtype}: {count} > {available[qtype]}")
    for points in (wanted.single_points, wanted.tf_points):
        if points is not None and not Decimal(0) < points <= Decimal(100):
            problems.append(f"points {points}")
    if problems:
        raise KioskError(N_("The bank cannot fill this paper: %(problems)s"),
                         problems="; ".join(problems))
    if not bank:
        raise KioskError(N_("The question bank is empty; import questions first."))


def _build_missing(session: Session, spec: PaperSpec, bank: list[Question],
                   now: datetime) -> int:
    """Build the papers of the stations in view (kiosk.scope) that have none."""
    have = set(session.scalars(select(Paper.station_id)))
    built = 0
    for station, session_code in session.execute(
            select(Station, ExamSession.code)
            .join(ExamSession, ExamSession.id == Station.exam_session_id)
            .order_by(ExamSession.position, Station.code)):
        if station.id in have:
            continue
        seed = station_seed(spec.master_seed, station.code, session_code)
        questions, key_map, full = build_paper(seed, spec, bank)
        session.add(Paper(station_id=station.id, seed=seed, questions=questions,
                          key_map=key_map, full_marks=full, built_at=now))
        built += 1
    session.flush()
    return built


def ensure_papers(session: Session, *, actor: audit.Actor, now: datetime) -> int:
    """Build the papers of stations added since the spec (called before the theory start)."""
    spec = get_spec(session)
    if spec is None:
        raise Conflict(N_("No paper spec yet: set it with kiosk paper set or on the paper page."))
    bank = list(session.scalars(select(Question).where(Question.id.in_(spec.bank_ids))))
    with write_transaction(session):
        built = _build_missing(session, spec, bank, now)
        if built:
            audit.record(session, actor, "paper.built", at=now, details={"papers": built})
    return built


def regenerate(session: Session, station_code: str,
               session_code: str | None = None) -> tuple[list, dict, Decimal]:
    """Rebuild a station's paper from its recorded seed and the spec's bank snapshot: the
    station of `session_code`, else of the session in scope, else of the only one."""
    spec = get_spec(session)
    if session_code or scope.current(session) is None:
        exam_session = exam_sessions.choose(session, session_code)
    else:
        exam_session = exam_sessions.chosen(session)
    with scope.within(session, exam_sessions.as_scope(exam_session)):
        station = session.scalar(select(Station).where(Station.code == station_code))
    if spec is None or station is None:
        raise Conflict(N_("No paper for %(station)s."), station=station_code)
    bank = list(session.scalars(select(Question).where(Question.id.in_(spec.bank_ids))))
    # The seed the paper was built from: a paper built before the first session was defined
    # (it took over the implicit session) kept the implicit session's label.
    built = session.get(Paper, station.id)
    seed = built.seed if built is not None else station_seed(spec.master_seed, station.code,
                                                             exam_session.code)
    return build_paper(seed, spec, bank)


# ----------------------------------------------------------------------------- key maps in memory

class KeyMapCache:
    """station → key map, for the answer save (theory_exam.exam). Only filled once the exam
    runs, when papers are frozen; a new spec (`set_spec`) empties it."""

    def __init__(self) -> None:
        self._maps: dict[tuple[str, int], dict] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, station_id: int) -> dict:
        key = (str(session.get_bind().url), station_id)
        with self._lock:
            cached = self._maps.get(key)
        if cached is not None:
            return cached
        # The key map alone: not the questions beside it (decoding them was half the time).
        key_map = session.scalar(select(Paper.key_map).where(Paper.station_id == station_id))
        if key_map is None:
            raise NotFound(N_("This station has no paper."))
        with self._lock:
            self._maps[key] = key_map
        return key_map

    def clear(self) -> None:
        with self._lock:
            self._maps.clear()


key_maps = KeyMapCache()
