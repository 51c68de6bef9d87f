"""The paper fallback: printed papers equal to the online ones, the switch that refuses online
saves, the sheet typed twice and compared, graded exactly like an online paper."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import delete, select

from kiosk import clock
from kiosk.errors import Conflict, ImportErrors, KioskError
from kiosk.models import AuditEvent
from kiosk.progress import Progress
from kiosk.results import totals
from kiosk.stations import phases
from kiosk.theory_exam import exam, paper_fallback, papers
from kiosk.theory_exam.models import CurrentAnswer, Paper, SheetEntry, SheetResolution, Sitting
from kiosk.theory_exam.paper_print import render_papers
from kiosk.theory_exam.papers import SpecInput, key_maps, set_spec
from kiosk.theory_exam.score_sheets import scores_json
from tests.actors import CHIEF, scorer
from tests.plugins.theory_exam import GRACE

A4 = (595.28, 841.89)


def _actions(session):
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def _printed_letter(printed, paper, qid, letter):
    """The letter the printed paper gives the option whose bank letter is `letter`."""
    question = next(q for q in printed.questions if q.qid == qid)
    if question.type == "tf":
        return letter
    keys = paper.key_map[qid]["keys"]
    return next(p for (p, _t), key in zip(question.options, question.option_keys, strict=True)
                if keys[key] == letter)


def _sheet_for(printed, paper, answers):
    """{number: printed letter} of the bank letters `answers` ({qid: letter})."""
    return {q.number: _printed_letter(printed, paper, q.qid, answers[q.qid])
            for q in printed.questions if answers.get(q.qid)}


def _end(exam_event):
    phases.end(exam_event.session, "theory", actor=CHIEF, now=clock.now())


# ----------------------------------------------------------------------------- the printed paper

def test_the_printed_paper_is_the_online_paper_in_its_order_and_options(exam_event):
    session = exam_event.session
    exam_event.start()
    for station in exam_event.stations:
        online = exam.paper_for(session, station.id, now=clock.now(), grace=GRACE)
        printed = paper_fallback.printed_paper(session.get(Paper, station.id), station.code)
        assert [q.qid for q in printed.questions] == [q["id"] for q in online["questions"]]
        assert [[text for _l, text in q.options] for q in printed.questions] == \
            [[o["text"] for o in q["options"]] for q in online["questions"]]
        regenerated = papers.regenerate(session, station.code)[0]
        assert [q.qid for q in printed.questions] == [q["id"] for q in regenerated]
    hashes = {p.station: p.sha256 for p in paper_fallback.printed_papers(session)}
    assert len(set(hashes.values())) == len(exam_event.stations)  # each its own paper


def test_the_hash_is_of_the_content_shown(exam_event):
    paper = exam_event.session.get(Paper, exam_event.stations[0].id)
    printed = paper_fallback.printed_paper(paper, "A01")
    assert printed.sha256 == paper_fallback.printed_paper(paper, "A01").sha256
    assert printed.sha256 != paper_fallback.printed_paper(paper, "A02").sha256
    assert "key" not in str(printed.content()) and "answer" not in str(printed.content())
    paper.questions = [{**paper.questions[0], "stem": paper.questions[0]["stem"] + "!"},
                       *paper.questions[1:]]
    assert paper_fallback.printed_paper(paper, "A01").sha256 != printed.sha256


def test_the_pdf_has_one_sealed_paper_per_station_in_the_online_order(exam_event):
    session = exam_event.session
    printed = paper_fallback.printed_papers(session)
    data = render_papers(printed, event_name="测试赛")
    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() for page in reader.pages]
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4
    by_station: dict[str, list[str]] = {}
    for text in pages:
        found = re.findall(r"赛位号 (A\d\d)", text)
        assert found, text[:200]
        by_station.setdefault(found[0], []).append(text)
    assert sorted(by_station) == [s.code for s in exam_event.stations]
    for paper in printed:
        texts = by_station[paper.station]
        flat = [t.replace(" ", "") for t in texts]
        assert all(paper.sha256 in t for t in flat)  # every page carries its paper's hash
        assert any("答题卡" in t for t in texts)
        body = "".join(flat)
        positions = [body.index(f"{q.number}.{q.stem}".replace(" ", ""))
                     for q in paper.questions]
        assert positions == sorted(positions)  # the stems in the paper's own order
        first = paper.questions[0]
        option_at = [body.index(f"{letter}.{text}") for letter, text in first.options]
        assert option_at == sorted(option_at)


def test_printing_only_the_stations_asked_for(exam_event):
    chosen = paper_fallback.printed_papers(exam_event.session, ["a02"])
    assert [p.station for p in chosen] == ["A02"]
    with pytest.raises(KioskError):
        paper_fallback.printed_papers(exam_event.session, ["Z99"])


# ----------------------------------------------------------------------------- switching

def test_a_station_switched_to_paper_saves_nothing_online_any_more(exam_event):
    session = exam_event.session
    exam_event.start()
    station = exam_event.stations[0]
    paper = session.get(Paper, station.id)
    question = paper.questions[0]
    key = question["options"][0]["key"]
    exam.save_answer(session, station.id, question["id"], key, 1, now=clock.now(), grace=GRACE)
    with pytest.raises(KioskError):
        paper_fallback.switch_to_paper(session, "A01", " ", actor=CHIEF, now=clock.now())
    paper_fallback.switch_to_paper(session, "a01", "交换机故障", actor=CHIEF, now=clock.now())
    with pytest.raises(paper_fallback.OnPaper) as refused:
        exam.save_answer(session, station.id, question["id"], key, 2, now=clock.now(),
                         grace=GRACE)
    assert refused.value.status == 409 and refused.value.code == "on_paper"
    with pytest.raises(paper_fallback.OnPaper):
        exam.submit(session, station.id, "A01", now=clock.now(), grace=GRACE)
    with pytest.raises(Conflict):
        paper_fallback.switch_to_paper(session, "A01", "again", actor=CHIEF, now=clock.now())
    # The answer saved online before the switch is kept and shown beside the sheet.
    kept = session.scalars(select(CurrentAnswer).where(CurrentAnswer.station_id == station.id))
    assert [a.seq for a in kept] == [1]
    sheet = paper_fallback.sheet(session, "A01")
    assert sheet.questions[0].online == "A" and sheet.switch.online_answers == 1
    # Another station still saves.
    other = exam_event.stations[1]
    other_q = session.get(Paper, other.id).questions[0]
    assert exam.save_answer(session, other.id, other_q["id"], other_q["options"][0]["key"], 1,
                            now=clock.now(), grace=GRACE).saved
    assert "paper.switched" in _actions(session)


def test_a_station_that_handed_in_online_is_not_switched(exam_event):
    exam_event.start()
    station = exam_event.stations[0]
    exam.submit(exam_event.session, station.id, "A01", now=clock.now(), grace=GRACE)
    with pytest.raises(Conflict):
        paper_fallback.switch_to_paper(exam_event.session, "A01", "网络", actor=CHIEF,
                                       now=clock.now())


# ----------------------------------------------------------------------------- two entries

def _switched(exam_event, code="A01"):
    exam_event.start()
    paper_fallback.switch_to_paper(exam_event.session, code, "网络中断", actor=CHIEF,
                                   now=clock.now())
    station = next(s for s in exam_event.stations if s.code == code)
    paper = exam_event.session.get(Paper, station.id)
    return station, paper, paper_fallback.printed_paper(paper, code)


def test_two_judges_type_the_sheet_differences_are_listed_and_resolved(exam_event):
    session = exam_event.session
    station, _paper, printed = _switched(exam_event)
    other = exam_event.stations[1]
    other_q = session.get(Paper, other.id).questions[0]
    exam.save_answer(session, other.id, other_q["id"], other_q["options"][0]["key"], 1,
                     now=clock.now(), grace=GRACE)
    typed = {q.number: ("对" if q.type == "tf" else "b") for q in printed.questions}
    paper_fallback.enter_sheet(session, "A01", typed, entry=1, actor=scorer(1), now=clock.now())
    with pytest.raises(Conflict):  # whoever typed entry 1 may not type entry 2
        paper_fallback.enter_sheet(session, "A01", typed, entry=2, actor=scorer(1),
                                   now=clock.now())
    second = {**typed, 2: "Ｃ", 3: ""}  # full-width C; question 3 left blank
    paper_fallback.enter_sheet(session, "A01", second, entry=2, actor=scorer(2),
                               now=clock.now())
    sheet = paper_fallback.sheet(session, "A01")
    assert [(q.question.number, q.first, q.second) for q in sheet.differences] == \
        [(2, "B", "C"), (3, "B", "")]
    assert not sheet.agreed
    _end(exam_event)
    scores = {s.station: s for s in exam.grade_all(session, now=clock.now())}
    assert scores["A01"].graded_from == "paper_pending"
    assert session.get(Sitting, station.id).score is None
    assert scores_json([scores["A01"]])["stations"][0]["score"] is None
    paper_fallback.resolve(session, "A01", 2, "B", "答题卡上 B 清楚", actor=CHIEF, now=clock.now())
    with pytest.raises(KioskError):
        paper_fallback.resolve(session, "A01", 3, "B", " ", actor=CHIEF, now=clock.now())
    paper_fallback.resolve(session, "A01", 3, "", "涂改不清，按未作答", actor=CHIEF,
                           now=clock.now())
    sheet = paper_fallback.sheet(session, "A01")
    assert sheet.agreed and not sheet.differences
    actions = _actions(session)
    assert actions.count("paper.sheet_entered") == 2
    assert actions.count("paper.sheet_resolved") == 2
    assert actions[-1] == "paper.sheet_agreed"
    scores = {s.station: s for s in exam.grade_all(session, now=clock.now())}
    assert scores["A01"].graded_from == "paper" and scores["A02"].graded_from == ""
    assert scores_json([scores["A01"]])["stations"][0]["graded_from"] == "paper"
    assert "graded_from" not in scores_json([scores["A02"]])["stations"][0]


def test_a_typed_sheet_with_a_wrong_answer_saves_nothing(exam_event):
    session = exam_event.session
    _station, _paper, printed = _switched(exam_event)
    single = next(q for q in printed.questions if q.type == "single")
    tf = next(q for q in printed.questions if q.type == "tf")
    with pytest.raises(ImportErrors) as problems:
        paper_fallback.enter_sheet(session, "A01", {single.number: "E", tf.number: "也许",
                                                    99: "A"}, entry=1, actor=scorer(1),
                                   now=clock.now())
    assert len(problems.value.problems) == 3
    assert session.scalar(select(SheetEntry.id)) is None
    with pytest.raises(Conflict):  # a station not on paper has no sheet
        paper_fallback.enter_sheet(session, "A02", {}, entry=1, actor=scorer(1),
                                   now=clock.now())


# ----------------------------------------------------------------------------- the same score

@pytest.fixture
def same_questions(exam_event):
    """Every station the same questions, each in its own order with its own option order."""
    session = exam_event.session
    set_spec(session, SpecInput(single=10, tf=5, single_points=Decimal("2"),
                                tf_points=Decimal("1"), same_questions=True),
             actor=CHIEF, now=clock.now())
    key_maps.clear()
    return exam_event


def test_a_paper_station_scores_exactly_what_the_same_answers_score_online(same_questions):
    session = same_questions.session
    online_station, paper_station = same_questions.stations[:2]
    same_questions.start()
    paper_fallback.switch_to_paper(session, paper_station.code, "网络中断", actor=CHIEF,
                                   now=clock.now())
    exam.paper_for(session, online_station.id, now=clock.now(), grace=GRACE)  # it sat
    online_paper = session.get(Paper, online_station.id)
    on_paper = session.get(Paper, paper_station.id)
    printed = paper_fallback.printed_paper(on_paper, paper_station.code)
    assert [q["id"] for q in online_paper.questions] != [q.qid for q in printed.questions] or \
        online_paper.key_map != on_paper.key_map
    qids = [q["id"] for q in online_paper.questions]
    letters = {qid: sorted(set(online_paper.key_map[qid]["keys"].values())) for qid in qids}
    saved_at = clock.now()
    ended = []

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.integers(0, 4), min_size=len(qids), max_size=len(qids)))
    def same_score(picks):
        # 0: blank; otherwise the n-th of the question's letters (modulo their number)
        answers = {qid: (letters[qid][(pick - 1) % len(letters[qid])] if pick else None)
                   for qid, pick in zip(qids, picks, strict=True)}
        session.execute(delete(CurrentAnswer).where(CurrentAnswer.station_id == online_station.id))
        session.execute(delete(SheetEntry))
        session.execute(delete(SheetResolution))
        session.commit()
        for seq, (qid, letter) in enumerate(answers.items(), start=1):
            if letter is not None:
                key = next(k for k, v in online_paper.key_map[qid]["keys"].items() if v == letter)
                exam.save_answer(session, online_station.id, qid, key, seq, now=saved_at,
                                 grace=GRACE)
        sheet = _sheet_for(printed, on_paper, answers)
        for entry in (1, 2):
            paper_fallback.enter_sheet(session, paper_station.code, sheet, entry=entry,
                                       actor=scorer(entry), now=clock.now())
        if not ended:
            _end(same_questions)
            ended.append(True)
        scores = {s.station: s for s in exam.grade_all(session, now=clock.now())}
        online, paper = scores[online_station.code], scores[paper_station.code]
        assert paper.graded_from == "paper"
        assert (paper.score, paper.answered) == (online.score, online.answered)
        expected = exam.grade(online_paper.key_map,
                              {qid: letter for qid, letter in answers.items() if letter})
        assert (online.score, online.answered) == expected

    same_score()


def test_the_item_statistics_read_the_agreed_sheet(exam_event):
    session = exam_event.session
    _station, paper, printed = _switched(exam_event)
    first = printed.questions[0]
    for entry in (1, 2):
        paper_fallback.enter_sheet(session, "A01", {first.number: first.options[0][0]},
                                   entry=entry, actor=scorer(entry), now=clock.now())
    _end(exam_event)
    stats = {item["qid"]: item for item in exam.item_statistics(session)}
    bank_letter = paper.key_map[first.qid]["keys"][first.option_keys[0]]
    assert stats[first.qid]["options"].get(bank_letter) == 1


def test_the_time_used_of_a_paper_station_runs_to_its_deadline(exam_event):
    session = exam_event.session
    _switched(exam_event)
    phases.end(session, "theory", actor=CHIEF, now=clock.now() + timedelta(seconds=1))
    scores = {s.station: s for s in exam.grade_all(session, now=clock.now())}
    assert scores["A01"].time_used_s is not None


@pytest.mark.parametrize("settled", [False, True])
def test_the_results_wait_for_a_paper_sheet_and_then_take_its_score(exam_event, monkeypatch,
                                                                    settled):
    """Also once the exam has settled and its grading is kept (exam._SETTLED): the sheets
    typed, each with its audit event, make the next results grade again."""
    if settled:
        monkeypatch.setattr(exam, "_SETTLED", timedelta(0))
    session = exam_event.session
    station, paper, printed = _switched(exam_event)
    _end(exam_event)
    waiting = {r.station: r for r in totals.live_results(session, theory_weight=Decimal(15),
                                                         now=clock.now())}
    assert waiting["A01"].theory is None
    assert "its paper answer sheet is not agreed yet" in waiting["A01"].problems
    right = {q.qid: paper.key_map[q.qid]["answer"] for q in printed.questions}
    for entry in (1, 2):
        paper_fallback.enter_sheet(session, "A01", _sheet_for(printed, paper, right),
                                   entry=entry, actor=scorer(entry), now=clock.now())
    graded = {r.station: r for r in totals.live_results(session, theory_weight=Decimal(15),
                                                        now=clock.now())}
    assert graded["A01"].theory == paper.full_marks
    assert "its paper answer sheet is not agreed yet" not in graded["A01"].problems
    assert session.get(Sitting, station.id).score == paper.full_marks


def test_a_long_event_name_never_breaks_the_papers_title_inside_a_word(exam_event):
    # The demo's name pushed "理论知识考试" over the line: 理论知 / 识考试.
    printed = paper_fallback.printed_papers(exam_event.session, ["A01"])
    name = "2026年职业技能大赛·人工智能训练师赛项（演示）"
    text = PdfReader(io.BytesIO(render_papers(printed, event_name=name))).pages[0].extract_text()
    lines = [" ".join(line.replace("　", " ").split()) for line in text.splitlines()]
    assert name in lines and "理论知识考试 纸质试卷" in lines, lines[:6]


class _Counted(Progress):
    def __init__(self):
        self.stages, self.done = [], 0

    def stage(self, name, total=None, unit="items"):
        self.stages.append((name, total))

    def advance(self, amount=1):
        self.done += amount


def test_printing_counts_the_papers_as_they_are_laid_out(exam_event):
    printed = paper_fallback.printed_papers(exam_event.session)
    counted = _Counted()
    render_papers(printed, event_name="测试赛", progress=counted)
    assert counted.stages == [("Printing the papers", len(printed))]
    assert counted.done == len(printed) == 4
