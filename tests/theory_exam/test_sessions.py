"""The theory exam in an event of sessions (场次): each session's stations get their own papers,
each session's theory runs on its own clock, grading and the scores are per session."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import clock, scope
from kiosk.cli import main
from kiosk.errors import Conflict, Locked
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions, phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper, PaperSpec
from kiosk.theory_exam.papers import SpecInput, key_maps, regenerate, set_spec, station_seed
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import make_stations
from tests.plugins.theory_exam import GRACE, bank_csv


@pytest.fixture
def two(instance, session):
    import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
    make_stations(session, 2)
    sessions = {code: exam_sessions.add(session, code, name=name, groups=[group],
                                        capacity=None, settings=instance.settings,
                                        actor=CHIEF, now=clock.now())
                for code, name, group in (("AM", "上午场", "职工组"), ("PM", "下午场", "学生组"))}
    set_spec(session, SpecInput(single=10, tf=5), actor=CHIEF, now=clock.now())
    key_maps.clear()
    return sessions


def _stations(session) -> dict[tuple[str, str], int]:
    with scope.event_wide(session):
        return {(code, station): station_id for code, station, station_id in session.execute(
            select(ExamSession.code, Station.code, Station.id)
            .join(ExamSession,
                  ExamSession.id == Station.exam_session_id))}


def _within(session, exam_session):
    return scope.within(session, exam_sessions.as_scope(exam_session))


def test_each_sessions_stations_get_their_own_papers(session, two):
    stations = _stations(session)
    papers = {key: session.get(Paper, station_id) for key, station_id in stations.items()}
    assert len(papers) == 4 and all(papers.values())  # `paper set` built every session's
    am, pm = papers[("AM", "A01")], papers[("PM", "A01")]
    assert am.seed != pm.seed and am.questions != pm.questions
    # A defined session names itself in the seed's label; the implicit one keeps the old label,
    # so the papers of an instance from before sessions still regenerate.
    spec_seed = session.scalar(select(PaperSpec.master_seed))
    assert pm.seed == station_seed(spec_seed, "A01", "PM")
    assert station_seed(spec_seed, "A01") == hmac.new(
        bytes.fromhex(spec_seed), b"paper|A01", hashlib.sha256).hexdigest()
    questions, key_map, _full = regenerate(session, "A01", "PM")
    assert questions == pm.questions and key_map == pm.key_map


def test_papers_cannot_change_once_any_sessions_theory_has_started(session, two):
    with _within(session, two["PM"]):
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
    with pytest.raises(Conflict):
        set_spec(session, SpecInput(single=5, tf=5), actor=CHIEF, now=clock.now())


def _answer(session, station_id, seq=1):
    paper = session.get(Paper, station_id)
    question = paper.questions[0]
    return exam.save_answer(session, station_id, question["id"],
                            question["options"][0]["key"], seq, now=clock.now(), grace=GRACE)


def test_each_sessions_theory_runs_on_its_own_clock(session, two):
    stations = _stations(session)
    with _within(session, two["AM"]):
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
    # The answer save reads the station's window in its own session's theory part.
    assert _answer(session, stations[("AM", "A01")]).saved
    with pytest.raises(Locked) as refused:
        _answer(session, stations[("PM", "A01")])
    assert refused.value.details["state"] == "not_started"


def test_grading_and_the_scores_are_per_session(session, two, kiosk_instance):
    stations = _stations(session)
    # The hall's stations serve one session at a time: AM's theory, then PM's.
    for code, station in (("AM", "A01"), ("PM", "A02")):
        with _within(session, two[code]):
            phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
        _answer(session, stations[(code, station)])
        if code == "AM":
            with _within(session, two[code]):
                phases.end(session, "theory", actor=CHIEF, now=clock.now())
    with _within(session, two["PM"]):
        graded = exam.grade_all(session, now=clock.now())
        statistics = exam.item_statistics(session)
    assert [(s.session, s.station) for s in graded] == [("PM", "A02")]
    # Of PM's papers only: its one answered paper's fifteen questions, once each.
    assert sum(item["n"] for item in statistics) == 15
    everyone = exam.grade_all(session, now=clock.now())
    assert [(s.session, s.station) for s in everyone] == [("AM", "A01"), ("PM", "A02")]

    def kiosk(*args):
        return CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), *args])

    data = json.loads(kiosk("exam", "scores", "--session", "PM", "--json").output)
    assert [(s["session"], s["station"]) for s in data["stations"]] == [("PM", "A02")]
    assert Decimal(str(data["stations"][0]["full_marks"])) > 0
    refused = kiosk("exam", "scores", "--json")
    assert refused.exit_code != 0 and "AM, PM" in refused.output
