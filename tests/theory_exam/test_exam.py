"""Saving, submitting and grading through the real database, with the seq rules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.errors import Locked
from kiosk.stations import phases
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import AnswerEvent, Paper
from tests.actors import CHIEF
from tests.plugins.theory_exam import GRACE


def _paper(exam_event, index=0):
    station = exam_event.stations[index]
    return station, exam_event.session.get(Paper, station.id)


def _key_for(paper, qid, letter):
    return next(k for k, v in paper.key_map[qid]["keys"].items() if v == letter)


def test_no_paper_before_the_start(exam_event):
    station, _ = _paper(exam_event)
    with pytest.raises(Locked):
        exam.paper_for(exam_event.session, station.id, now=clock.now(), grace=GRACE)
    with pytest.raises(Locked):
        exam.save_answer(exam_event.session, station.id, "1", None, 1, now=clock.now(),
                         grace=GRACE)


def test_newer_seq_wins_older_changes_nothing_same_is_idempotent(exam_event):
    exam_event.start()
    station, paper = _paper(exam_event)
    qid = paper.questions[0]["id"]
    keys = [o["key"] for o in paper.questions[0]["options"]]
    now = clock.now()
    first = exam.save_answer(exam_event.session, station.id, qid, keys[0], 10, now=now,
                             grace=GRACE)
    assert first.saved
    older = exam.save_answer(exam_event.session, station.id, qid, keys[1], 9, now=now,
                             grace=GRACE)
    assert not older.saved and older.current_seq == 10
    again = exam.save_answer(exam_event.session, station.id, qid, keys[0], 10, now=now,
                             grace=GRACE)
    assert again.saved
    shown = exam.paper_for(exam_event.session, station.id, now=now, grace=GRACE)
    assert shown["answers"] == {qid: keys[0]} and shown["last_seq"] == 10
    events = list(exam_event.session.scalars(select(AnswerEvent).order_by(AnswerEvent.id)))
    assert [(e.seq, e.applied) for e in events] == [(10, True), (9, False), (10, False)]


def test_saves_are_refused_after_the_deadline_but_not_within_the_grace(exam_event):
    row = exam_event.start(minutes=20)
    station, paper = _paper(exam_event)
    qid = paper.questions[0]["id"]
    key = paper.questions[0]["options"][0]["key"]
    end = row.ends_at
    assert exam.save_answer(exam_event.session, station.id, qid, key, 1,
                            now=end + timedelta(seconds=1), grace=GRACE).saved
    with pytest.raises(Locked):
        exam.save_answer(exam_event.session, station.id, qid, key, 2,
                         now=end + GRACE + timedelta(milliseconds=1), grace=GRACE)


def test_an_extension_keeps_one_station_open(exam_event):
    row = exam_event.start(minutes=20)
    (station, paper), (other, other_paper) = _paper(exam_event, 0), _paper(exam_event, 1)
    phases.extend(exam_event.session, station.code, 10, "设备故障（非选手原因）", actor=CHIEF,
                  now=clock.now())
    later = row.ends_at + timedelta(minutes=5)
    qid = paper.questions[0]["id"]
    assert exam.save_answer(exam_event.session, station.id, qid,
                            paper.questions[0]["options"][0]["key"], 1, now=later,
                            grace=GRACE).saved
    with pytest.raises(Locked):
        exam.save_answer(exam_event.session, other.id, other_paper.questions[0]["id"],
                         other_paper.questions[0]["options"][0]["key"], 1, now=later,
                         grace=GRACE)


def test_a_pause_refuses_saves_and_moves_the_deadline(exam_event):
    row = exam_event.start(minutes=20)
    station, paper = _paper(exam_event)
    paused_at = clock.now()
    phases.pause(exam_event.session, "theory", actor=CHIEF, now=paused_at)
    with pytest.raises(Locked, match="paused"):
        exam.save_answer(exam_event.session, station.id, paper.questions[0]["id"], None, 1,
                         now=paused_at + timedelta(seconds=5), grace=GRACE)
    end_before = row.ends_at
    resumed = phases.resume(exam_event.session, "theory", actor=CHIEF,
                            now=paused_at + timedelta(minutes=3))
    assert resumed.ends_at - end_before == timedelta(minutes=3)


def test_submit_locks_the_paper_and_records_the_time_once(exam_event):
    exam_event.start()
    station, paper = _paper(exam_event)
    first = exam.submit(exam_event.session, station.id, station.code, now=clock.now(),
                        grace=GRACE)
    again = exam.submit(exam_event.session, station.id, station.code,
                        now=clock.now() + timedelta(minutes=1), grace=GRACE)
    assert again.submitted_at == first.submitted_at
    with pytest.raises(Locked, match="submitted"):
        exam.save_answer(exam_event.session, station.id, paper.questions[0]["id"], None, 5,
                         now=clock.now(), grace=GRACE)


def test_grading_counts_the_points_of_correct_answers_exactly():
    key_map = {"1": {"points": "2", "answer": "B", "keys": {}},
               "2": {"points": "1.5", "answer": "T", "keys": {}},
               "3": {"points": "0.1", "answer": "A", "keys": {}}}
    assert exam.grade(key_map, {"1": "B", "2": "F", "3": "A"}) == (Decimal("2.1"), 3)
    assert exam.grade(key_map, {}) == (Decimal(0), 0)
    assert exam.grade(key_map, {"1": None, "2": "T"}) == (Decimal("1.5"), 1)


def test_every_paper_is_graded_submitted_or_not(exam_event):
    exam_event.start()
    now = clock.now()
    (a, paper_a), (b, paper_b) = _paper(exam_event, 0), _paper(exam_event, 1)
    for question in paper_a.questions:
        right = _key_for(paper_a, question["id"], paper_a.key_map[question["id"]]["answer"])
        exam.save_answer(exam_event.session, a.id, question["id"], right, 1, now=now,
                         grace=GRACE)
    exam.save_answer(exam_event.session, b.id, paper_b.questions[0]["id"],
                     paper_b.questions[0]["options"][0]["key"], 1, now=now, grace=GRACE)
    exam.submit(exam_event.session, a.id, a.code, now=now, grace=GRACE)
    results = {r.station: r for r in exam.grade_all(exam_event.session, now=clock.now())}
    assert results["A01"].score == Decimal(25) and results["A01"].answered == 15
    assert results["A01"].submitted_at is not None and results["A01"].time_used_s >= 0
    assert results["A02"].answered == 1 and results["A02"].submitted_at is None
    assert "A03" not in results  # nobody sat there


def test_each_unsubmitted_station_is_graded_up_to_its_own_deadline(exam_event):
    """Time used (the tie-break) for a paper left open runs to that station's deadline: its
    extension counts for it and for nobody else; grading again changes nothing."""
    start = clock.now() - timedelta(hours=1)
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=start)
    phases.extend(exam_event.session, "A02", 5, "设备故障", actor=CHIEF,
                  now=start + timedelta(minutes=2))
    for index in (0, 1):
        station, paper = _paper(exam_event, index)
        exam.save_answer(exam_event.session, station.id, paper.questions[0]["id"],
                         paper.questions[0]["options"][0]["key"], 1,
                         now=start + timedelta(minutes=3), grace=GRACE)
    first = {r.station: r for r in exam.grade_all(exam_event.session, now=clock.now())}
    assert first["A01"].time_used_s == 20 * 60
    assert first["A02"].time_used_s == 25 * 60
    again = {r.station: r for r in exam.grade_all(exam_event.session, now=clock.now())}
    assert again == first


def test_item_statistics_show_facility_and_option_frequencies(exam_event):
    exam_event.start()
    now = clock.now()
    for index, (station, paper) in enumerate(_paper(exam_event, i) for i in range(4)):
        for question in paper.questions:
            entry = paper.key_map[question["id"]]
            letter = entry["answer"] if index < 2 else next(
                v for v in entry["keys"].values() if v != entry["answer"])
            exam.save_answer(exam_event.session, station.id, question["id"],
                             _key_for(paper, question["id"], letter), 1, now=now, grace=GRACE)
    stats = exam.item_statistics(exam_event.session)
    assert stats and all(0 <= item["facility"] <= 1 for item in stats)
    shared = [item for item in stats if item["n"] == 4]
    for item in shared:
        assert item["facility"] == 0.5 and item["discrimination"] == 1.0
        assert sum(item["options"].values()) == 4
