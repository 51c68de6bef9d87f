"""Answer saves that arrive together share one transaction and one commit (kiosk.group_commit),
and each is acknowledged only once that commit is done. Every rule of a save alone still holds
inside a batch: a refused save is refused alone, a failing one fails alone, the newest seq wins.

The tests hold the first batch's commit open until the other saves are waiting behind it, so
the second batch is known to hold all of them."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text

from kiosk import clock
from kiosk.errors import KioskError, Locked
from kiosk.group_commit import GroupCommit
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import AnswerEvent, CurrentAnswer, Paper
from tests.plugins.theory_exam import GRACE


@contextmanager
def first_commit_held(saves: GroupCommit, until_waiting: int):
    """Hold the first batch's commit until `until_waiting` writes queue behind it; yield the
    moments at which each commit was done."""
    committed: list[float] = []
    held = threading.Event()

    def hold(_connection):
        if not held.is_set():
            held.set()
            deadline = time.monotonic() + 10
            while saves.waiting() < until_waiting and time.monotonic() < deadline:
                time.sleep(0.005)

    def done(_session):
        committed.append(time.monotonic())

    engine = saves._sessions.kw["bind"]
    event.listen(engine, "commit", hold)
    event.listen(saves._sessions, "after_commit", done)
    try:
        yield committed
    finally:
        event.remove(engine, "commit", hold)
        event.remove(saves._sessions, "after_commit", done)


def in_threads(calls):
    """Run each call in its own thread, the first one first; (result or error, returned at)."""
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            outcomes[index] = (call(), time.monotonic())
        except Exception as error:  # the test looks at it
            outcomes[index] = (error, time.monotonic())

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    threads[0].start()
    time.sleep(0.05)  # the first save leads the first batch
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _question(exam_event, station, index=0):
    paper = exam_event.session.get(Paper, station.id)
    question = paper.questions[index]
    return question["id"], [option["key"] for option in question["options"]]


def _saver(saves, station, qid, key, seq, now=None):
    return lambda: exam.save_answer_together(saves, station.id, qid, key, seq,
                                             now=now or clock.now(), grace=GRACE)


def test_saves_arriving_together_share_one_commit_acknowledged_after_it(exam_event):
    exam_event.start()
    saves = GroupCommit(exam_event.instance.sessions)
    calls = []
    for station in exam_event.stations:
        for index in range(2):
            qid, keys = _question(exam_event, station, index)
            calls.append(_saver(saves, station, qid, keys[1], index + 1))
    with first_commit_held(saves, until_waiting=len(calls) - 1) as committed:
        outcomes = in_threads(calls)
    assert all(result.saved for result, _ in outcomes), outcomes
    # Eight saves, two commits: the first alone, the seven that waited behind it together.
    assert len(committed) == 2
    assert (saves.stats.batches, saves.stats.writes, saves.stats.largest) == (2, 8, 7)
    # Nobody heard "saved" before the commit that holds their answer was done.
    assert outcomes[0][1] >= committed[0]
    assert all(returned_at >= committed[1] for _, returned_at in outcomes[1:])
    exam_event.session.commit()  # a fresh snapshot
    assert exam_event.session.scalar(select(func.count()).select_from(CurrentAnswer)) == 8


def test_a_refused_save_in_a_batch_is_refused_alone(exam_event):
    exam_event.start()
    saves = GroupCommit(exam_event.instance.sessions)
    first, second, submitted, _ = exam_event.stations
    qid, keys = _question(exam_event, first)
    other_qid, other_keys = _question(exam_event, second)
    sub_qid, sub_keys = _question(exam_event, submitted)
    exam.submit(exam_event.session, submitted.id, submitted.code, now=clock.now(), grace=GRACE)
    calls = [_saver(saves, first, qid, keys[0], 1),
             _saver(saves, first, qid, "not-an-option", 2),
             _saver(saves, second, other_qid, other_keys[0], 10**9),  # seq far out of range
             _saver(saves, submitted, sub_qid, sub_keys[0], 1),
             _saver(saves, second, other_qid, other_keys[1], 3)]
    with first_commit_held(saves, until_waiting=len(calls) - 1):
        outcomes = in_threads(calls)
    results = [result for result, _ in outcomes]
    assert results[0].saved and results[4].saved
    assert isinstance(results[1], KioskError) and \
        results[1].message == "This is not an option of the question."
    assert isinstance(results[2], KioskError) and "out of range" in results[2].message
    assert isinstance(results[3], Locked) and results[3].details["state"] == "submitted"
    assert saves.stats.rerun_alone == 0  # a refusal costs the others nothing
    # The refused saves left nothing, not even an event; the others are there.
    exam_event.session.commit()  # a fresh snapshot
    events = exam_event.session.execute(select(AnswerEvent.station_id, AnswerEvent.seq)).all()
    assert sorted(events) == sorted([(first.id, 1), (second.id, 3)])


def test_a_database_error_fails_only_its_own_write(exam_event):
    """A write that breaks the transaction (here a statement PostgreSQL aborts on) fails
    alone; the saves beside it are committed, run again each in its own transaction."""
    exam_event.start()
    saves = GroupCommit(exam_event.instance.sessions)
    first, second = exam_event.stations[:2]
    qid, keys = _question(exam_event, first)
    other_qid, other_keys = _question(exam_event, second)

    def broken():
        def work(session):
            session.execute(text("UPDATE current_answer SET choice = 'X'"))
            session.execute(text("SELECT * FROM no_such_table"))
        return saves.run(work, order=(0,))

    calls = [_saver(saves, first, qid, keys[0], 1), broken,
             _saver(saves, second, other_qid, other_keys[0], 1),
             _saver(saves, first, qid, keys[1], 2)]
    with first_commit_held(saves, until_waiting=len(calls) - 1):
        outcomes = in_threads(calls)
    results = [result for result, _ in outcomes]
    assert "no_such_table" in str(results[1])
    assert results[0].saved and results[2].saved and results[3].saved
    assert saves.stats.rerun_alone == 3
    exam_event.session.commit()  # a fresh snapshot
    stored = dict(exam_event.session.execute(
        select(CurrentAnswer.station_id, CurrentAnswer.choice)).all())
    letters = {key: letter for letter, key in _letters(exam_event, first, qid).items()}
    other_letters = {key: letter for letter, key in _letters(exam_event, second,
                                                             other_qid).items()}
    # The broken write's UPDATE is gone with it; the newest seq of the first station won.
    assert stored == {first.id: letters[keys[1]], second.id: other_letters[other_keys[0]]}


def _letters(exam_event, station, qid) -> dict[str, str]:
    """letter → option key of this station's question (the paper shuffles them)."""
    paper = exam_event.session.get(Paper, station.id)
    return {letter: key for key, letter in paper.key_map[qid]["keys"].items()}


def test_in_one_batch_the_newest_seq_of_a_question_wins(exam_event):
    """Three choices of one question in one batch, arriving out of order: the server holds the
    newest, and no browser is told an older one is what it holds."""
    exam_event.start()
    saves = GroupCommit(exam_event.instance.sessions)
    station, other = exam_event.stations[:2]
    qid, keys = _question(exam_event, station)
    other_qid, other_keys = _question(exam_event, other)
    calls = [_saver(saves, other, other_qid, other_keys[0], 1),
             _saver(saves, station, qid, keys[2], 3),
             _saver(saves, station, qid, keys[0], 1),
             _saver(saves, station, qid, keys[1], 2)]
    with first_commit_held(saves, until_waiting=len(calls) - 1):
        outcomes = in_threads(calls)
    results = [result for result, _ in outcomes]
    assert all(r.current_seq <= 3 and (r.saved == (r.current_seq == r.seq)) for r in results[1:])
    exam_event.session.commit()  # a fresh snapshot
    held = exam_event.session.scalar(select(CurrentAnswer).where(
        CurrentAnswer.station_id == station.id))
    assert (held.seq, held.choice) == (3, {v: k for k, v in _letters(
        exam_event, station, qid).items()}[keys[2]])


@pytest.mark.parametrize("threads", [8])
def test_many_threads_saving_at_once_lose_nothing(exam_event, threads):
    """Free running, no holding: whatever batches form, every acknowledged save is held."""
    exam_event.start()
    saves = GroupCommit(exam_event.instance.sessions)
    papers = {s.id: exam_event.session.get(Paper, s.id) for s in exam_event.stations}
    acknowledged: dict[tuple[int, str], tuple[int, str]] = {}
    guard = threading.Lock()

    def station_worker(index):
        station = exam_event.stations[index % len(exam_event.stations)]
        paper = papers[station.id]
        for n in range(25):
            question = paper.questions[(n + index) % len(paper.questions)]
            key = question["options"][n % len(question["options"])]["key"]
            seq = index * 1000 + n + 1  # one browser per thread: its seqs only grow
            result = exam.save_answer_together(saves, station.id, question["id"], key, seq,
                                               now=clock.now(), grace=GRACE)
            with guard:
                if result.saved and acknowledged.get((station.id, question["id"]),
                                                     (0, ""))[0] < seq:
                    acknowledged[(station.id, question["id"])] = (seq, key)

    workers = [threading.Thread(target=station_worker, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert saves.stats.writes == threads * 25
    exam_event.session.commit()  # a fresh snapshot
    held = {(station_id, str(qid)): (seq, choice) for station_id, qid, seq, choice in
            exam_event.session.execute(select(CurrentAnswer.station_id,
                                              CurrentAnswer.question_id, CurrentAnswer.seq,
                                              CurrentAnswer.choice))}
    for (station_id, qid), (seq, key) in acknowledged.items():
        letter = papers[station_id].key_map[qid]["keys"][key]
        assert held[(station_id, qid)] == (seq, letter)
