import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.errors import Conflict
from kiosk.theory_exam.models import Paper, Question
from kiosk.theory_exam.papers import SpecInput, regenerate, set_spec
from tests.actors import CHIEF


def test_every_station_has_its_paper_built_ahead(exam_event):
    papers = list(exam_event.session.scalars(select(Paper)))
    assert len(papers) == 4
    for paper in papers:
        types = [q["type"] for q in paper.questions]
        assert types == ["single"] * 10 + ["tf"] * 5  # 单选题 first, then 判断题
        assert paper.full_marks == Decimal(25)


def test_papers_differ_by_station_and_shuffle_options(exam_event):
    papers = list(exam_event.session.scalars(select(Paper)))
    orders = {tuple(q["id"] for q in p.questions) for p in papers}
    assert len(orders) > 1
    # With the same questions everywhere, the options still come in another order per station.
    set_spec(exam_event.session, SpecInput(single=10, tf=5, same_questions=True),
             actor=CHIEF, now=clock.now())
    papers = list(exam_event.session.scalars(select(Paper)))
    assert len({tuple(sorted(q["id"] for q in p.questions)) for p in papers}) == 1
    option_orders = {tuple(tuple(o["text"] for o in q["options"]) for q in p.questions
                           if q["type"] == "single") for p in papers}
    assert len(option_orders) == len(papers)


def test_a_paper_regenerates_exactly_from_its_seed_even_after_bank_changes(exam_event):
    session = exam_event.session
    paper = session.scalar(select(Paper).where(Paper.station_id == exam_event.stations[0].id))
    from kiosk.db import write_transaction

    with write_transaction(session):
        for question in session.scalars(select(Question).limit(3)):
            question.enabled = False
    questions, key_map, full = regenerate(session, exam_event.stations[0].code)
    assert questions == paper.questions and key_map == paper.key_map
    assert full == paper.full_marks


def test_nothing_in_a_paper_reveals_the_key(exam_event):
    paper = exam_event.session.scalar(select(Paper))
    sent = json.dumps(paper.questions, ensure_ascii=False)
    assert "answer" not in sent and "correct" not in sent
    for question in paper.questions:
        keys = [o["key"] for o in question["options"]]
        assert all(len(k) == 6 and k.isalnum() for k in keys)
        assert not set(keys) & set("ABCDEFGHTF")
    tf = next(q for q in paper.questions if q["type"] == "tf")
    assert [o["text"] for o in tf["options"]] == ["对", "错"]


def test_the_spec_cannot_ask_more_than_the_bank_has(exam_event):
    with pytest.raises(Exception, match="cannot fill"):
        set_spec(exam_event.session, SpecInput(single=99), actor=CHIEF, now=clock.now())


def test_per_category_draws_count_per_category(exam_event):
    set_spec(exam_event.session, SpecInput(per_category={"类一": {"single": 3, "tf": 2},
                                                         "类二": {"single": 2}}),
             actor=CHIEF, now=clock.now())
    paper = exam_event.session.scalar(select(Paper))
    categories = dict(exam_event.session.execute(select(Question.id, Question.category)).all())
    picked = [categories[int(q["id"])] for q in paper.questions]
    assert picked.count("类一") == 5 and picked.count("类二") == 2


def test_papers_are_frozen_once_the_exam_started(exam_event):
    exam_event.start()
    with pytest.raises(Conflict):
        set_spec(exam_event.session, SpecInput(single=5, tf=5), actor=CHIEF, now=clock.now())
