"""The theory exam at the workstation: the paper, answer saves, submission, grading, results.

The answer save is the hot path: `clock.refusal` on the stored deadlines, then one upsert of the
current answer guarded by `seq` and one append-only event, in one transaction. The paper's key
map is read once per station and kept in memory: papers cannot change once the exam started.

Sessions (场次): a station is one row per session, so everything here keyed by the station row
(paper, answers, sitting) is its session's; the station's window is read in its own session's
theory part (`window_statement` scopes itself through the station row). Grading and the
results go session by session, each on its own clock (`grade_all`); the item statistics are of
the papers in view: one session's on its page, every session's unscoped.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, bindparam, select, text
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.config import MAX_GRACE_SECONDS
from kiosk.db import UTCDateTime, write_transaction
from kiosk.errors import N_, KioskError, Locked, NotFound
from kiosk.group_commit import GroupCommit
from kiosk.models import AuditHead
from kiosk.stations import exam_sessions, phases
from kiosk.stations.models import Station
from kiosk.stations.window import phase_windows, station_window, window_statement
from kiosk.theory_exam import paper_fallback
from kiosk.theory_exam.models import CurrentAnswer, Paper, Sitting
from kiosk.theory_exam.papers import get_spec, key_maps

PHASE = "theory"


# What a refused paper, save or submission says, by `clock.refusal`'s reason (sent as `state`).
_REFUSED = {"not_started": N_("The theory exam has not started yet."),
            "scheduled": N_("The theory exam has not started yet."),
            "paused": N_("The exam is paused; your answers are kept."),
            "ended": N_("Time is up; answers can no longer change.")}


# ----------------------------------------------------------------------------- the paper

def paper_for(session: Session, station_id: int, *, now: datetime, grace: timedelta,
              saves: GroupCommit | None = None) -> dict:
    """The station's paper and its acknowledged answers. Not before the start: a paper seen
    early is a leaked paper. The first fetch records when the paper was opened (in the answer
    saves' transactions when `saves` is given: `paper_served`)."""
    import json  # here, not at the file's head: the save path below is worked on apart

    served = paper_served(session, station_id, now=now, grace=grace, saves=saves)
    return {"questions": json.loads(served.questions), **served.rest}


@dataclass(frozen=True)
class PaperServed:
    """A paper as the kiosk gets it: `questions` as the stored JSON text (exactly what the
    kiosk gets, never decoded and encoded again per request), and the rest of the answer."""

    questions: str
    rest: dict


def paper_served(session: Session, station_id: int, *, now: datetime, grace: timedelta,
                 saves: GroupCommit | None = None) -> PaperServed:
    """`paper_for`'s answer, in one read of the station's window with its paper and sitting
    (`_PAPER`), one more for its answers once it has any.

    The first fetch records the sitting's `opened_at`, durable before the paper is served, as
    an answer is before it is acknowledged: with `saves` (kiosk.group_commit) in the answer
    saves' transactions, so that the start's stampede of first fetches shares a few fsyncs
    instead of one each, serialized behind the writer's lock."""
    window = station_window(session, PHASE, station_id, statement=_PAPER)
    state = window.phase_state(now)
    if not clock.has_started(window.phase, now):
        raise Locked(_REFUSED["not_started"], state=state,
                     starts_at=clock.iso(window.phase.starts_at if window.phase else None) or "")
    found = window.columns
    if found.questions is None:
        raise NotFound(N_("This station has no paper; tell a judge."))
    if found.opened_at is None:
        params = {"station": station_id, "now": now}
        if saves is not None:
            saves.run(lambda shared: shared.execute(_OPENED, params), order=(station_id, "", 0))
        else:
            with write_transaction(session):
                session.execute(_OPENED, params)
    answers = {}
    if found.answers:
        by_letter = {qid: {letter: key for key, letter in entry["keys"].items()}
                     for qid, entry in key_maps.get(session, station_id).items()}
        for question_id, choice in session.execute(_ANSWERS_OF, {"station": station_id}):
            if choice is not None:
                qid = str(question_id)
                answers[qid] = by_letter.get(qid, {}).get(choice)
    rest = {
        "answers": answers,
        "deadline": clock.iso(window.deadline(now)),
        "state": state,
        "submitted_at": clock.iso(found.submitted_at),
        "last_seq": found.last_seq or 0,
        "full_marks": str(found.full_marks),
        # Switched to paper (paper_fallback): the screen sends the contestant to the sheet.
        "on_paper": bool(found.on_paper),
    }
    if found.submitted_at is not None:
        spec = get_spec(session)  # only here: the score is shown after submitting, if at all
        if spec is not None and spec.show_score:
            rest["score"] = str(grade(key_maps.get(session, station_id),
                                      _current(session, station_id))[0])
    return PaperServed(found.questions, rest)


def _paper_statements():
    """The paper's reads and its one write, built once (imported here: the save path below
    is worked on apart). `_PAPER`: the station's window (`window_statement`) with its paper's
    questions as stored text, its full marks, its sitting and how many answers it has saved
    (with their last seq)."""
    from sqlalchemy import Numeric, Text

    paper = window_statement(PHASE, """,
           (SELECT CAST(pa.questions AS TEXT) FROM paper pa
             WHERE pa.station_id = :station) AS questions,
           (SELECT pa.full_marks FROM paper pa WHERE pa.station_id = :station) AS full_marks,
           (SELECT s.opened_at FROM sitting s WHERE s.station_id = :station) AS opened_at,
           (SELECT s.submitted_at FROM sitting s WHERE s.station_id = :station) AS submitted_at,
           (SELECT COUNT(*) FROM current_answer c WHERE c.station_id = :station) AS answers,
           (SELECT COALESCE(MAX(c.seq), 0) FROM current_answer c
             WHERE c.station_id = :station) AS last_seq,
           (SELECT COUNT(*) FROM paper_station ps WHERE ps.station_id = :station) AS on_paper""",
                             questions=Text, full_marks=Numeric(8, 2), opened_at=UTCDateTime,
                             submitted_at=UTCDateTime, answers=BigInteger, last_seq=BigInteger,
                             on_paper=BigInteger)
    # The first fetch's mark; a fetch racing it (a second tab) leaves the first one's.
    opened = text("""
        INSERT INTO sitting (station_id, opened_at) VALUES (:station, :now)
        ON CONFLICT (station_id) DO UPDATE SET opened_at = excluded.opened_at
         WHERE sitting.opened_at IS NULL
    """).bindparams(bindparam("now", type_=UTCDateTime))
    answers = text("SELECT question_id, choice FROM current_answer WHERE station_id = :station")
    return paper, opened, answers


_PAPER, _OPENED, _ANSWERS_OF = _paper_statements()


# ----------------------------------------------------------------------------- saving

# The save path in SQL compiled once: one read (the station's window, with its sitting and its
# last seq), one upsert that only a newer seq wins (RETURNING tells whether it won), one append
# to the event log. tests/theory_exam/test_timing.py counts them.
_WINDOW = window_statement(PHASE, """,
           (SELECT s.submitted_at FROM sitting s WHERE s.station_id = :station) AS submitted_at,
           (SELECT COALESCE(MAX(c.seq), 0) FROM current_answer c
             WHERE c.station_id = :station) AS last_seq,
           (SELECT COUNT(*) FROM paper_station ps WHERE ps.station_id = :station) AS on_paper""",
                           submitted_at=UTCDateTime, last_seq=BigInteger, on_paper=BigInteger)
_UPSERT = text("""
    INSERT INTO current_answer (station_id, question_id, choice, seq, saved_at)
    VALUES (:station, :question, :choice, :seq, :now)
    ON CONFLICT (station_id, question_id) DO UPDATE
       SET choice = excluded.choice, seq = excluded.seq, saved_at = excluded.saved_at
     WHERE current_answer.seq < excluded.seq
    RETURNING seq
""").bindparams(bindparam("now", type_=UTCDateTime))
_EVENT = text("""
    INSERT INTO answer_event (station_id, question_id, choice, seq, received_at, applied)
    VALUES (:station, :question, :choice, :seq, :now, :applied)
""").bindparams(bindparam("now", type_=UTCDateTime), bindparam("applied", type_=Boolean))
_CURRENT_SEQ = text("SELECT seq FROM current_answer WHERE station_id = :station "
                    "AND question_id = :question")


# A seq is the kiosk's count of choices: a browser counts exactly up to 2**53. Stored, a seq at
# the limit would leave no newer one, and the question could never change again; so a seq may run
# at most MAX_SEQ_STEP ahead of the station's last one (choices a browser made offline, or on a
# second browser, stay far below it), and the limit is out of reach of any real kiosk.
MAX_SEQ = 2**53 - 1
MAX_SEQ_STEP = 100_000


@dataclass(frozen=True)
class SaveResult:
    saved: bool  # this choice (or a newer one of this browser) is what the server holds
    seq: int
    current_seq: int


def save_answer(session: Session, station_id: int, qid: str, choice_key: str | None, seq: int,
                *, now: datetime, grace: timedelta) -> SaveResult:
    """One save in a transaction of its own."""
    with write_transaction(session):
        return _save(session, station_id, qid, choice_key, seq, now=now, grace=grace)


def save_answer_together(saves: GroupCommit, station_id: int, qid: str,
                         choice_key: str | None, seq: int, *, now: datetime,
                         grace: timedelta) -> SaveResult:
    """The same save, sharing its transaction and its fsync with the saves that arrive beside
    it (kiosk.group_commit); acknowledged only once that transaction is committed. `now` is
    when the request arrived: the deadline is judged at that moment, as for a save alone."""
    return saves.run(lambda session: _save(session, station_id, qid, choice_key, seq, now=now,
                                           grace=grace),
                     order=(station_id, qid, seq))


def _save(session: Session, station_id: int, qid: str, choice_key: str | None, seq: int,
          *, now: datetime, grace: timedelta) -> SaveResult:
    # Every refusal comes before the first write: the group commit relies on it (a refusal
    # leaves the batch's other saves in their transaction).
    # The deadline first: before the start and after the end nothing about the paper is
    # looked up, so a refused request learns nothing; key maps are cached only while open.
    window = station_window(session, PHASE, station_id, statement=_WINDOW)
    if window.columns is not None and window.columns.on_paper:  # switched to paper
        raise paper_fallback.OnPaper(paper_fallback.ON_PAPER, state="on_paper")
    refused = window.refusal(now, grace)
    if refused == "paused":
        # When the pause began, as the writer read it: the screen drops what was chosen since,
        # even while its clock poll (rows shared for a second, kiosk.read_cache) says running.
        raise Locked(_REFUSED[refused], state=refused, paused_at=clock.iso(window.phase.paused_at))
    if refused is not None:
        raise Locked(_REFUSED[refused], state=refused)
    window_row = window.columns
    if window_row.submitted_at is not None:
        raise Locked(N_("The paper has been submitted; answers can no longer change."),
                     state="submitted")
    if not 0 <= seq <= min(MAX_SEQ, (window_row.last_seq or 0) + MAX_SEQ_STEP):
        raise KioskError(N_("This answer's sequence number is out of range; reload the "
                            "page."))
    entry = key_maps.get(session, station_id).get(qid)
    if entry is None:
        raise NotFound(N_("This question is not on this station's paper."))
    letter = None
    if choice_key is not None:
        letter = entry["keys"].get(choice_key)
        if letter is None:
            raise KioskError(N_("This is not an option of the question."))
    params = {"station": station_id, "question": int(qid), "choice": letter, "seq": seq,
              "now": now}
    applied = session.execute(_UPSERT, params).first() is not None
    session.execute(_EVENT, {**params, "applied": applied})
    current_seq = seq if applied else session.execute(_CURRENT_SEQ, params).scalar_one()
    # A retry of the same seq is saved; an older seq changed nothing.
    return SaveResult(saved=current_seq == seq or applied, seq=seq, current_seq=current_seq)


def submit(session: Session, station_id: int, station_code: str, *, now: datetime,
           grace: timedelta) -> Sitting:
    """Hand in early. Twice is fine (the first time counts); after the deadline it is too late
    and the paper is graded as it stands."""
    with write_transaction(session):
        sitting = session.get(Sitting, station_id) or Sitting(station_id=station_id)
        session.add(sitting)
        if sitting.submitted_at is None:
            if paper_fallback.is_on_paper(session, station_id):
                raise paper_fallback.OnPaper(paper_fallback.ON_PAPER, state="on_paper")
            refused = station_window(session, PHASE, station_id).refusal(now, grace)
            if refused == "ended":
                raise Locked(N_("Time is up; the paper is handed in as it stands."),
                             state=refused)
            if refused is not None:
                raise Locked(_REFUSED[refused], state=refused)
            sitting.submitted_at = now
            sitting.answered = sum(1 for a in _current(session, station_id).values()
                                   if a is not None)
            audit.record(session, audit.Actor.station(station_code),
                         "exam.submitted", at=now, subject=station_code,
                         details={"answered": sitting.answered})
    return sitting


# ----------------------------------------------------------------------------- grading

def _current(session: Session, station_id: int) -> dict[str, str | None]:
    return {str(question_id): choice for question_id, choice in session.execute(
        select(CurrentAnswer.question_id, CurrentAnswer.choice)
        .where(CurrentAnswer.station_id == station_id))}


def current_answers_by_station(session: Session, station_ids: list[int] | None = None
                               ) -> dict[int, dict[str, str | None]]:
    """`_current` for every station (or `station_ids`) at once (one query, not one per
    station)."""
    by_station: dict[int, dict[str, str | None]] = {}
    query = select(CurrentAnswer.station_id, CurrentAnswer.question_id, CurrentAnswer.choice)
    if station_ids is not None:
        query = query.where(CurrentAnswer.station_id.in_(station_ids))
    for station_id, question_id, choice in session.execute(query):
        by_station.setdefault(station_id, {})[str(question_id)] = choice
    return by_station


def grade(key_map: dict, answers: dict[str, str | None]) -> tuple[Decimal, int]:
    """(score, answered): the points of every correctly answered question. Pure; exact."""
    score = Decimal(0)
    answered = 0
    for qid, entry in key_map.items():
        choice = answers.get(qid)
        if choice is None:
            continue
        answered += 1
        if choice == entry["answer"]:
            score += Decimal(entry["points"])
    return score, answered


@dataclass(frozen=True)
class StationScore:
    station: str
    score: Decimal
    full_marks: Decimal
    answered: int
    submitted_at: datetime | None
    time_used_s: float | None
    session: str = ""  # the session's code ("" for the implicit one)
    # "" online; "paper": from its agreed answer sheet; "paper_pending": its sheet is not
    # agreed yet, so it has no score (paper_fallback)
    graded_from: str = ""


def grade_all(session: Session, *, now: datetime) -> list[StationScore]:
    """Grade every paper of the sessions in view, submitted or not, and record the result on
    the sitting; session by session in the day's order, each on its own theory clock.

    Called by every view of the scoring overview once the exam is over: the answers, sittings
    and extensions are read in one query each (not three per station), and a sitting is written
    only when its result changed; a view that finds every result recorded writes nothing."""
    results = []
    for exam_session in exam_sessions.in_view(session):
        with scope.within(session, exam_sessions.as_scope(exam_session)):
            results += _grade_session(session, exam_session.code, now=now)
    return results


def _grade_session(session: Session, session_code: str, *,
                   now: datetime) -> list[StationScore]:
    """Grade the session's papers from the answers as saved. Read first: when every sitting
    already holds its result (every view of the overview after the first), nothing is written
    and no write transaction is taken. Otherwise the papers are graded again under the writer's
    lock, from what is saved then, and the changed sittings are recorded.

    Once the exam has settled (`_SETTLED`), a grading is kept with the mark of the inputs it
    read (`_inputs_mark`), and a view that finds the same mark grades nothing."""
    kept_here = _settled_grades.setdefault(session.get_bind(), {})
    mark = _inputs_mark(session)  # first: the rows graded below are at least this new
    kept = kept_here.get(session_code)
    if kept is not None and kept[0] == mark:
        return list(kept[1])
    graded = _graded(session, session_code, now=now)
    if graded.changes:
        with write_transaction(session):
            # The audit head held from here to the commit (on SQLite the writer's lock holds
            # everything already): no audited change lands between the reads and the mark.
            mark = _inputs_mark(session, hold=True)
            graded = _graded(session, session_code, now=now)
            if graded.changes:
                _record(session, graded.changes, audited=graded.over, now=now)
                mark = _inputs_mark(session)  # with the recording's own event
    if graded.settled:
        kept_here[session_code] = (mark, graded.results)
    else:
        kept_here.pop(session_code, None)
    return graded.results


# The grading's inputs are the answers, the papers' keys, the answer sheets typed for stations
# on paper, the clock (pauses, extensions, the end) and the submissions. Each of them changes
# only with a row that marks it in its own transaction: an answer save with its answer_event
# row, everything else (a paper built, a sheet typed or agreed, a switch to paper, a pause, an
# extension, a hand-in, a grading recorded) with its audit event, whose sequence the audit
# head hands out one writer at a time; a station's first fetch of its paper makes its sitting
# (it then counts as having sat), counted apart. The counters together mark the inputs; the
# same mark, the same grading. Kept only once no save can land any more: on PostgreSQL an
# answer_event's id is drawn before its commit, so while saves are accepted a lower id could
# still commit after a higher one. Settled: over for every station longer ago than any grace
# (at most config.MAX_GRACE_SECONDS) and the group commit's slowest batch.
_SETTLED = timedelta(seconds=MAX_GRACE_SECONDS + 60)
_INPUTS_MARK = text("SELECT (SELECT last_seq FROM audit_head WHERE id = 1), "
                    "(SELECT max(id) FROM answer_event), (SELECT count(*) FROM sitting)")
# engine → session code → (mark, grading); an engine disposed takes its gradings along
_settled_grades: weakref.WeakKeyDictionary[object, dict[str, tuple[tuple, list[StationScore]]]] \
    = weakref.WeakKeyDictionary()


def _inputs_mark(session: Session, *, hold: bool = False) -> tuple:
    """The mark, in one statement; with `hold`, the audit head locked first (`FOR UPDATE`:
    PostgreSQL; SQLite's writer lock already holds it)."""
    if hold:
        session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
    return tuple(session.execute(_INPUTS_MARK).one())


@dataclass
class _Graded:
    results: list[StationScore]
    # station id → (score, answered, time used), for each sitting to write or create
    changes: dict[int, tuple[Decimal | None, int, float | None]]
    over: bool = False  # over for every station: the recorded scores are final (audited)
    settled: bool = False  # over for every station, `_SETTLED` ago


def _graded(session: Session, session_code: str, *, now: datetime) -> _Graded:
    """Every paper of the session in scope graded, and which sittings differ from it: each
    table read once (`_grading_statements`)."""
    row = phases.get_phase(session, PHASE)
    pause_list = phases.pauses(session, row.id) if row else []
    papers = session.execute(_PAPERS).all()  # (station id, code) by code
    ids = [paper[0] for paper in papers]
    keys, fulls = {}, {}
    for station_id, stored, full_marks in session.execute(_KEYS):
        keys[station_id], fulls[station_id] = _grading_key(station_id, stored), full_marks
    score = dict.fromkeys(ids, Decimal(0))
    answered = dict.fromkeys(ids, 0)
    sat = set()  # stations with a saved answer (a cleared one included)
    # No session's table (the station ids scope them): plain rows, not through the ORM.
    connection = session.connection()
    for station_id, items in connection.execute(_ANSWERS, {"ids": ids}):
        sat.add(station_id)
        if items:
            score[station_id], answered[station_id] = keys[station_id].grade(items.split(","))
    # A station switched to paper: its agreed answer sheet, in the same items, graded by the
    # same key; its online answers are not graded; a sheet not agreed yet is not graded at all.
    on_paper = paper_fallback.sheet_answers(session, ids)
    for station_id, sheet in on_paper.items():
        sat.add(station_id)
        score[station_id], answered[station_id] = keys[station_id].grade(
            [f"{qid}:{letter}" for qid, letter in (sheet or {}).items()])
    sittings = {station_id: rest for station_id, *rest in connection.execute(_SITTINGS,
                                                                              {"ids": ids})}
    windows = phase_windows(session, row)  # the phase's extensions: its session's stations'
    started = clock.has_started(windows.phase, now)
    results, changes = [], {}
    worked: dict[datetime, float] = {}  # until → time used: most stations share their end
    for station_id, code in papers:
        full_marks = fulls[station_id]
        sitting = sittings.get(station_id)
        if sitting is None and station_id not in sat:
            continue  # nobody sat at this station
        submitted_at, *recorded, graded_at = sitting or (None, None, None, None, None)
        time_used = None
        if started:
            deadline = windows.of(station_id).deadline(now)
            until = submitted_at or min(deadline or now, now)
            if until not in worked:
                worked[until] = round(clock.seconds_used(windows.phase, pause_list, until), 3)
            time_used = worked[until]
        pending = station_id in on_paper and on_paper[station_id] is None
        result = (None if pending else score[station_id], answered[station_id], time_used)
        if tuple(recorded) != result or graded_at is None:
            changes[station_id] = result
        graded_from = ("paper_pending" if pending else "paper") if station_id in on_paper else ""
        results.append(StationScore(code, score[station_id], full_marks, answered[station_id],
                                    submitted_at, time_used, session_code, graded_from))
    return _Graded(results, changes, over=windows.over_for_everyone(now),
                   settled=windows.over_for_everyone(now - _SETTLED))


def _grading_statements():
    """The grading's reads, built once. Imported here, not at the file's head: the save path
    above is worked on apart."""
    from sqlalchemy import Text, func

    ids = bindparam("ids", expanding=True)  # one parameter, not 500 literals to coerce
    papers = select(Paper.station_id, Station.code) \
        .join(Station, Station.id == Paper.station_id).order_by(Station.code)
    # The key maps as stored text (`_grading_key`), not decoded on every view; in no order (on
    # SQLite, sorting these rows by code was half the time of reading them).
    keys = select(Paper.station_id, Paper.key_map.cast(Text), Paper.full_marks) \
        .join(Station, Station.id == Paper.station_id)
    # One row per station, its answers as "question:choice" items: 500 rows to read, not
    # 30 000 (a cleared answer is NULL, which the aggregate leaves out).
    answers = select(CurrentAnswer.station_id, func.aggregate_strings(
        CurrentAnswer.question_id.cast(Text) + ":" + CurrentAnswer.choice, ",")) \
        .where(CurrentAnswer.station_id.in_(ids)).group_by(CurrentAnswer.station_id)
    sittings = select(Sitting.station_id, Sitting.submitted_at, Sitting.score, Sitting.answered,
                      Sitting.time_used_s, Sitting.graded_at).where(Sitting.station_id.in_(ids))
    return papers, keys, answers, sittings


_PAPERS, _KEYS, _ANSWERS, _SITTINGS = _grading_statements()


GRADER = audit.Actor("kiosk", "system")  # the server itself, grading by the key


def _record(session: Session, changes: dict[int, tuple[Decimal | None, int, float | None]], *,
            audited: bool, now: datetime) -> None:
    """Write the graded result on each sitting that differs (a sitting is made for a station
    that answered without opening one)."""
    sittings = {s.station_id: s for s in session.scalars(
        select(Sitting).where(Sitting.station_id.in_(list(changes))))}
    for station_id, (score, answered, time_used) in changes.items():
        sitting = sittings.get(station_id)
        if sitting is None:
            sitting = Sitting(station_id=station_id)
            session.add(sitting)
        sitting.score, sitting.answered, sitting.time_used_s = score, answered, time_used
        sitting.graded_at = now
    # Once the exam is over a change of the recorded scores is in the log (the audit sequence
    # then marks it too: a database restored from before it is graded again, `_inputs_mark`).
    # While it runs, the results page records the time used as it grows: not an event each view.
    if audited:
        audit.record(session, GRADER, "exam.graded", at=now,
                     details={"stations": len(changes)})


# Each paper's grading key, kept with the key map's stored text it was decoded from and used
# only while the paper's text is that same text: a key is a pure function of it, so an entry is
# never stale (a paper built again is another text) and nothing needs to invalidate it.
# Decoding the 500 key maps' JSON on every view was most of the scoring overview's time
# (bench/pages.py); comparing the texts costs a memcmp.
_GRADING_KEYS: dict[int, tuple[str, _GradingKey]] = {}  # station id → (stored text, key)
_GRADING_KEYS_MAX = 5000  # papers; beyond that the cache starts again (other instances' papers)


@dataclass(frozen=True)
class _GradingKey:
    """A paper's key as "question:choice" items (how `_ANSWERS` gives a station's answers)."""

    questions: frozenset[str]
    options: frozenset[str]  # every item that answers a question of the paper
    right: frozenset[str]  # the item of each question's right answer
    points: dict[str, Decimal]  # right item → the question's points

    def grade(self, items: list[str]) -> tuple[Decimal, int]:
        """(score, answered), as `grade` gives them for the same answers (one item per
        question: the table's key)."""
        chosen = set(items)
        if chosen <= self.options:
            answered = len(chosen)
        else:  # a choice that is none of its options: counted as `grade` counts it
            answered = sum(item.partition(":")[0] in self.questions for item in chosen)
        return sum(map(self.points.__getitem__, chosen & self.right), Decimal(0)), answered


def _grading_key(station_id: int, stored: str) -> _GradingKey:
    text, key = _GRADING_KEYS.get(station_id, ("", None))
    if key is None or text != stored:
        import json  # here, not at the head: the save path above is edited apart

        key_map = json.loads(stored)
        points = {f"{qid}:{entry['answer']}": Decimal(entry["points"])
                  for qid, entry in key_map.items()}
        key = _GradingKey(
            frozenset(key_map),
            frozenset(f"{qid}:{letter}" for qid, entry in key_map.items()
                      for letter in {*entry["keys"].values(), entry["answer"]}),
            frozenset(points), points)
        if len(_GRADING_KEYS) >= _GRADING_KEYS_MAX:
            _GRADING_KEYS.clear()
        _GRADING_KEYS[station_id] = (stored, key)
    return key


def item_statistics(session: Session) -> list[dict]:
    """Per question: facility (share correct), discrimination (upper 27 % minus lower 27 %),
    and how often each option was chosen. Of the papers in view: one session's when `session`
    is scoped to it (its page), every session's unscoped."""
    papers = session.execute(select(Paper.station_id, Paper.key_map)
                             .join(Station, Station.id == Paper.station_id)).all()
    answers_by_station = current_answers_by_station(session, [p.station_id for p in papers])
    # A paper station's answers are its agreed sheet's (none while it is not agreed).
    answers_by_station.update((station_id, sheet or {}) for station_id, sheet in
                              paper_fallback.sheet_answers(session).items())
    totals = {paper.station_id: grade(paper.key_map, answers_by_station[paper.station_id])[0]
              for paper in papers if answers_by_station.get(paper.station_id)}
    ranked = sorted(totals, key=lambda s: totals[s])
    group = max(1, round(len(ranked) * 0.27)) if ranked else 0
    lower, upper = set(ranked[:group]), set(ranked[-group:]) if group else set()
    stats: dict[str, dict] = {}
    for paper in papers:
        answers = answers_by_station.get(paper.station_id)
        if not answers:
            continue
        for qid, entry in paper.key_map.items():
            item = stats.setdefault(qid, {"qid": qid, "answer": entry["answer"], "n": 0,
                                          "correct": 0, "options": {}, "upper": [0, 0],
                                          "lower": [0, 0]})
            choice = answers.get(qid)
            item["n"] += 1
            right = choice is not None and choice == entry["answer"]
            item["correct"] += right
            item["options"][choice or "—"] = item["options"].get(choice or "—", 0) + 1
            for band, members in (("upper", upper), ("lower", lower)):
                if paper.station_id in members:
                    item[band][0] += right
                    item[band][1] += 1
    for item in stats.values():
        item["facility"] = item["correct"] / item["n"] if item["n"] else None
        up = item["upper"][0] / item["upper"][1] if item["upper"][1] else 0
        low = item["lower"][0] / item["lower"][1] if item["lower"][1] else 0
        item["discrimination"] = up - low if item["upper"][1] and item["lower"][1] else None
    return sorted(stats.values(), key=lambda i: int(i["qid"]))
