"""The scoring overview (成绩录入总览) at the hall's size: it grades every paper again on every
view until the theory exam has settled (docs/results.md), so a late correction is never missed,
and after that again only when an answer save or an audited action changed what it grades; its
statements do not grow with the number of stations (bench/pages.py times it at 500), a view
that finds every sitting up to date writes nothing, and a paper's key is never read from a
stale copy."""

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, select, text, update

from kiosk import audit, clock
from kiosk.models import AuditEvent
from kiosk.results import mark_entry, review
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import CurrentAnswer, Paper, Sitting
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF, scorer
from tests.factories import login, make_stations, make_user
from tests.plugins.theory_exam import bank_csv

GRACE = timedelta(seconds=2)
WEIGHT = Decimal(15)
# One query per table, whatever the number of stations: 58 at 5 stations, at 50 and at 500
# (bench/pages.py). A query per station would be 50 more at 50.
OVERVIEW_STATEMENTS = 64


@contextmanager
def statements(app):
    """The SQL statements run on the app's database meanwhile (transaction control kept)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = app.extensions["kiosk"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _queries(seen):
    return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def _hall(app, count):
    """`count` drawn stations, each with a paper answered (one answer wrong, one cleared, every
    third not handed in), the theory over; both entries of the marks, equal. Returns the
    chief judge's client and the time the theory ended."""
    with app.extensions["kiosk"].session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        stations = make_stations(session, count)
        for station in stations:
            station.occupied = True
        session.commit()
        set_spec(session, SpecInput(single=4, tf=2, single_points=Decimal("2.5")),
                 actor=CHIEF, now=clock.now())
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
        for index, station in enumerate(stations):
            _answer(session, station.id, wrong=index % 4, cleared=(index + 1) % 4)
            if index % 3:
                exam.submit(session, station.id, station.code, now=clock.now(), grace=GRACE)
        ended = clock.now()
        phases.end(session, "theory", actor=CHIEF, now=ended)
        sheet = "赛位号,分数\n" + "".join(f"{s.code},{60 + i % 20}\n"
                                          for i, s in enumerate(stations))
        for entry in (1, 2):
            mark_entry.import_marks(session, sheet.encode(), "marks.csv", entry=entry,
                                    full_marks=Decimal(85), actor=scorer(entry),
                                    now=clock.now())
        make_user(session, "chief", username="boss")
    boss = app.test_client()
    login(boss, "boss")
    return boss, ended


def _answer(session, station_id, *, wrong, cleared):
    """Every question answered right, but question `wrong` wrong and question `cleared`
    answered then cleared."""
    key_map = session.get(Paper, station_id).key_map
    seq = 0
    for index, (qid, entry) in enumerate(key_map.items()):
        by_letter = {letter: key for key, letter in entry["keys"].items()}
        right = by_letter[entry["answer"]]
        other = next(key for key in entry["keys"] if key != right)
        seq += 1
        exam.save_answer(session, station_id, qid, other if index == wrong else right, seq,
                         now=clock.now(), grace=GRACE)
        if index == cleared:
            seq += 1
            exam.save_answer(session, station_id, qid, None, seq, now=clock.now(),
                             grace=GRACE)


def _overview_statements(app, boss):
    boss.get("/results/")  # the first view records every graded sitting
    with statements(app) as seen:
        page = boss.get("/results/")
    assert page.status_code == 200
    return page, seen


@pytest.mark.parametrize("count", [5, 50])
def test_the_overview_runs_as_many_statements_for_50_stations_as_for_5(app, count):
    boss, _ended = _hall(app, count)
    page, seen = _overview_statements(app, boss)
    assert page.text.count("<tr><td>A") == count
    assert len(_queries(seen)) <= OVERVIEW_STATEMENTS, _queries(seen)
    with app.extensions["kiosk"].session() as session:
        review.draw_sample(session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    page, seen = _overview_statements(app, boss)
    assert "复核" in page.text
    assert len(_queries(seen)) <= OVERVIEW_STATEMENTS + 2, _queries(seen)


def test_a_view_that_finds_every_sitting_graded_writes_nothing(app):
    """Reloading the overview all day does not take the database's writer (the answer saves
    and the hand-ins queue behind it on SQLite) when nothing changed."""
    boss, _ended = _hall(app, 5)
    with statements(app) as first:
        boss.get("/results/")
    assert any(s.startswith("UPDATE sitting") for s in first)
    _page, again = _overview_statements(app, boss)
    assert not [s for s in again if s.startswith(("INSERT", "UPDATE", "DELETE",
                                                  "BEGIN IMMEDIATE"))]


def test_the_theory_scores_are_those_of_grading_each_paper_afresh(app):
    boss, _ended = _hall(app, 8)
    boss.get("/results/")
    with app.extensions["kiosk"].session() as session:
        for station_id, score, answered in session.execute(
                select(Sitting.station_id, Sitting.score, Sitting.answered)):
            key_map = session.get(Paper, station_id).key_map
            assert (score, answered) == exam.grade(key_map, exam._current(session, station_id))
        assert {answered for (answered,) in session.execute(select(Sitting.answered))} == {5}


def _theory_cell(page, code):
    row = page.split(f"<tr><td>{code}</td>", 1)[1].split("</tr>", 1)[0]
    return row.split('<td class="num">', 2)[1].split("<", 1)[0]


def test_a_late_correction_shows_on_the_next_view(app):
    """A click in flight at the end (inside the grace) lands after the overview graded the
    paper: the next view has it, and so does the sitting the lock reads."""
    boss, ended = _hall(app, 4)
    before = _theory_cell(boss.get("/results/").text, "A01")
    with app.extensions["kiosk"].session() as session:
        station_id = session.scalar(select(Station.id).where(Station.code == "A04"))
        # A04 (not handed in) had its fourth question wrong: the late click puts it right.
        key_map = session.get(Paper, station_id).key_map
        qid, entry = list(key_map.items())[3]
        right = next(key for key, letter in entry["keys"].items() if letter == entry["answer"])
        saved = exam.save_answer(session, station_id, qid, right, 100,
                                 now=ended + timedelta(seconds=1), grace=GRACE)
        assert saved.saved
        old = session.scalar(select(Sitting.score).where(Sitting.station_id == station_id))
    page = boss.get("/results/").text
    assert _theory_cell(page, "A01") == before
    assert Decimal(_theory_cell(page, "A04")) == old + Decimal(entry["points"])
    with app.extensions["kiosk"].session() as session:
        assert session.scalar(select(Sitting.score).where(Sitting.station_id == station_id)) \
            == old + Decimal(entry["points"])


def test_a_paper_whose_key_changed_is_graded_by_its_new_key(app):
    """The grading keeps each paper's key decoded between views, with the key map's stored
    text: a different text is decoded again, never graded by the old copy."""
    boss, _ended = _hall(app, 3)
    boss.get("/results/")
    with app.extensions["kiosk"].session() as session:
        station_id = session.scalar(select(Station.id).where(Station.code == "A03"))
        graded = session.get(Sitting, station_id)
        before = (graded.score, graded.answered)
        key_map = session.get(Paper, station_id).key_map
        for entry in key_map.values():  # every right answer moves to another option
            entry["answer"] = next(letter for letter in entry["keys"].values()
                                   if letter != entry["answer"])
        session.execute(update(Paper).where(Paper.station_id == station_id)
                        .values(key_map=key_map))
        session.commit()
        expected = exam.grade(key_map, exam._current(session, station_id))
    assert expected != before
    boss.get("/results/")
    with app.extensions["kiosk"].session() as session:
        sitting = session.get(Sitting, station_id)
        assert (sitting.score, sitting.answered) == expected


def test_cleared_answers_count_for_nothing(app):
    _boss, _ended = _hall(app, 2)
    with app.extensions["kiosk"].session() as session:
        cleared = session.scalar(select(CurrentAnswer.station_id)
                                 .where(CurrentAnswer.choice.is_(None)).limit(1))
        assert cleared is not None
        scores = {s.station: s for s in exam.grade_all(session, now=clock.now())}
        code = session.get(Station, cleared).code
        assert scores[code].answered == 5


@pytest.fixture
def settled_at_once(monkeypatch):
    """The theory exam settles as soon as it is over (in the hall: two minutes after)."""
    monkeypatch.setattr(exam, "_SETTLED", timedelta(0))


def _graded_events(app):
    with app.extensions["kiosk"].session() as session:
        return list(session.scalars(select(AuditEvent.details)
                                    .where(AuditEvent.action == "exam.graded")))


def test_once_settled_a_view_reads_no_answers_until_something_changed(app, settled_at_once):
    """Every view of the afternoon would grade 30 000 answers for nothing: once the exam has
    settled the grading is kept with the mark of what it read, and only an audited action (here
    an incident noted, through the audit head) or an answer save grades again."""
    boss, _ended = _hall(app, 5)
    boss.get("/results/")
    assert _graded_events(app) == ['{"stations":5}']  # the recording is in the log, once
    page, seen = _overview_statements(app, boss)
    assert not [s for s in seen if "FROM current_answer" in s], seen
    assert page.text.count("<tr><td>A") == 5
    with app.extensions["kiosk"].session() as session, session.begin():
        audit.record(session, CHIEF, "incident.noted", at=clock.now(), subject="A02")
    with statements(app) as seen:
        boss.get("/results/")
    assert [s for s in seen if "FROM current_answer" in s]  # the mark moved: graded again
    assert _graded_events(app) == ['{"stations":5}']  # nothing differed: nothing recorded


def test_before_it_settles_every_view_grades_again(app):
    """Right after the end an answer in flight (inside the grace) may still land, and on
    PostgreSQL a save's id is drawn before its commit: nothing is kept yet."""
    boss, _ended = _hall(app, 3)
    boss.get("/results/")
    _page, seen = _overview_statements(app, boss)
    assert [s for s in seen if "FROM current_answer" in s]


def test_a_database_restored_from_before_the_grading_is_graded_again(app, settled_at_once):
    """A restore under the running server brings back sittings without their scores: the audit
    sequence is then from before the grading's own event, so the kept grading is not used."""
    boss, _ended = _hall(app, 4)
    before = _theory_cell(boss.get("/results/").text, "A02")
    with app.extensions["kiosk"].session() as session, session.begin():
        # As the backup holds it: no scores on the sittings, no grading event after them.
        session.execute(update(Sitting).values(score=None, answered=0, time_used_s=None,
                                               graded_at=None))
        last = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert last.action == "exam.graded"
        previous = session.scalar(select(AuditEvent).where(AuditEvent.seq == last.seq - 1))
        session.execute(delete(AuditEvent).where(AuditEvent.seq == last.seq))
        session.execute(text("UPDATE audit_head SET last_seq = :seq, last_hash = :hash "
                             "WHERE id = 1"), {"seq": previous.seq, "hash": previous.hash})
    assert _theory_cell(boss.get("/results/").text, "A02") == before
    with app.extensions["kiosk"].session() as session:
        assert None not in set(session.scalars(select(Sitting.score)))


def test_a_paper_first_fetched_after_the_end_is_graded_once_settled(app, settled_at_once):
    """A station's first fetch of its paper makes its sitting (it then counts as having sat)
    and writes no audit event: the mark counts the sittings too."""
    _hall(app, 3)
    with app.extensions["kiosk"].session() as session:
        absent = session.scalar(select(Station.id).where(Station.code == "A03"))
        # A03 as a station that never came: no answer, no sitting.
        session.execute(delete(CurrentAnswer).where(CurrentAnswer.station_id == absent))
        session.execute(delete(Sitting).where(Sitting.station_id == absent))
        session.commit()
        assert [s.station for s in exam.grade_all(session, now=clock.now())] == ["A01", "A02"]
        exam.paper_served(session, absent, now=clock.now(), grace=GRACE)
        graded = {s.station: s.score for s in exam.grade_all(session, now=clock.now())}
    assert graded == {"A01": graded["A01"], "A02": graded["A02"], "A03": Decimal(0)}


def test_while_the_exam_runs_grading_writes_no_audit_event(app):
    """The theory results page grades at any time, and the time used grows with every view:
    recorded on the sittings, but the log only has the grading once the exam is over."""
    with app.extensions["kiosk"].session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        stations = make_stations(session, 2)
        set_spec(session, SpecInput(single=4, tf=2, single_points=Decimal("2.5")),
                 actor=CHIEF, now=clock.now())
        started = clock.now()
        phases.start(session, "theory", 20, actor=CHIEF, now=started)
        for station in stations:
            _answer(session, station.id, wrong=0, cleared=1)
        for minutes in (1, 2, 3):
            exam.grade_all(session, now=started + timedelta(minutes=minutes))
        assert _graded_events(app) == []
        phases.end(session, "theory", actor=CHIEF, now=clock.now())
        exam.grade_all(session, now=clock.now())
    assert _graded_events(app) == ['{"stations":2}']
