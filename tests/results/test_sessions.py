"""Scoring across sessions (场次): marks by session and station, one review sample and one lock
over the whole event, each session unsealed on its own, one ranking per group across sessions.

The day: twelve on the roster, the 职工组 in the morning (AM), the 学生组 in the afternoon (PM),
both on the same fourteen stations; each session checked in, drawn, sealed and its theory run
on its own clock. Contestants are put in their session directly (the session draw is not what
these tests are about)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from kiosk import clock, scope
from kiosk.checkin import draw_stages, session_draw
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import check_in
from kiosk.cli import main
from kiosk.errors import ImportErrors
from kiosk.results import final, mark_entry, review, submission, totals, unsealing
from kiosk.stations import exam_sessions, phases
from kiosk.stations.models import Station
from kiosk.theory_exam.models import Sitting
from tests.actors import CHIEF, CRYPT1, CRYPT2, SOMEONE, SUPERVISOR, scorer
from tests.factories import PASSWORD, make_checkpoint, make_user
from tests.plugins.results import WEIGHT, _run

GROUPS = {"AM": "职工组", "PM": "学生组"}


@dataclass
class TwoSessions:
    event: object
    sessions: dict  # code -> ExamSession
    truth: dict  # seat (AM/A01) -> id_number
    stations: dict  # code -> the stations drawn in it

    @property
    def session(self):
        return self.event.session

    def within(self, code):
        return scope.within(self.session, exam_sessions.as_scope(self.sessions[code]))

    def marks_file(self, marks: dict[str, str]) -> bytes:
        return ("场次,赛位号,分数\n" + "".join(
            f"{seat.split('/')[0]},{seat.split('/')[1]},{mark}\n"
            for seat, mark in marks.items())).encode()

    def marks(self, marks: dict[str, str]) -> None:
        for entry in (1, 2):
            mark_entry.import_marks(self.session, self.marks_file(marks), "marks.csv",
                                    entry=entry, full_marks=Decimal(85), actor=scorer(entry),
                                    now=clock.now())

    def seats(self):
        return sorted(self.truth)


@pytest.fixture
def two(event):
    session = event.session
    settings = event.instance.settings
    found = {code: exam_sessions.add(session, code, name=name, groups=[GROUPS[code]],
                                     capacity=None, settings=settings, actor=CHIEF,
                                     now=clock.now())
             for code, name in (("AM", "上午场"), ("PM", "下午场"))}
    # Six seats for each session's six contestants (the rest spare): every seat is drawn in
    # both sessions, so the same code names two people (what these tests are about).
    with draw_stages.write_transaction(session), scope.event_wide(session):
        session.execute(update(Station).where(Station.code > "A06").values(spare=True))
    # The leaders' meeting: one group to each session, as the session draw places them.
    committed = session_draw.commit(session, actor=CHIEF, now=clock.now())
    session_draw.draw(session, "2 7 1 8", commitment=committed.commitment, actor=CHIEF,
                      now=clock.now())
    session_draw.show_result(session, actor=CHIEF, now=clock.now())
    truth, stations = {}, {}
    for code, exam_session in found.items():
        exam_sessions.enter(session, exam_session)
        for person in session.scalars(select(Contestant)).all():
            check_in(session, person.id, staff_id=None, actor=SOMEONE, now=clock.now())
        people = {p["contestant_no"]: p["id_number"] for p in _run(session, 1)}
        drawn = {p["station"]: people[p["contestant_no"]] for p in _run(session, 2)}
        truth |= {f"{code}/{station}": id_number for station, id_number in drawn.items()}
        stations[code] = sorted(drawn)
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
        phases.end(session, "theory", actor=CHIEF, now=clock.now())
        ids = dict(session.execute(select(Station.code, Station.id)).all())
        with draw_stages.write_transaction(session):
            for index, station in enumerate(stations[code]):
                session.add(Sitting(station_id=ids[station], score=Decimal(60 + 3 * index),
                                    answered=100, time_used_s=600.0 + index,
                                    graded_at=clock.now()))
    scope.use(session, None)
    make_user(session, "supervisor", "sup")
    return TwoSessions(event, found, truth, stations)


def _same_codes(two):
    """A station code drawn in both sessions: two contestants."""
    return sorted(set(two.stations["AM"]) & set(two.stations["PM"]))[0]


# ----------------------------------------------------------------------------- marks

def test_a_marks_file_gives_each_session_and_station_its_own_mark(two):
    code = _same_codes(two)
    text = f"场次,赛位号,分数\nAM,{code},70\n下午场,{code},81.5\n".encode()
    mark_entry.import_marks(two.session, text, "marks.csv", entry=1, full_marks=Decimal(85),
                            actor=scorer(1), now=clock.now())
    text2 = f"场次,赛位号,分数\nam,{code},70\nPM,{code},80\n".encode()
    mark_entry.import_marks(two.session, text2, "marks.csv", entry=2, full_marks=Decimal(85),
                            actor=scorer(2), now=clock.now())
    assert mark_entry.agreed_marks(two.session) == {f"AM/{code}": Decimal(70)}
    [difference] = mark_entry.differences(two.session)
    assert (difference.session, difference.station) == ("PM", code)
    assert (difference.first, difference.second) == (Decimal("81.5"), Decimal(80))


def test_every_problem_of_a_sessions_marks_file_is_a_line_and_nothing_changes(two):
    code = _same_codes(two)
    two.marks({f"AM/{code}": "70"})
    bad = (f"场次,赛位号,分数\nEVENING,{code},60\nPM,Z99,60\n,{code},60\nAM,{code},61\n"
           .encode())
    with pytest.raises(ImportErrors) as refused:
        mark_entry.import_marks(two.session, bad, "marks.csv", entry=1,
                                full_marks=Decimal(85), actor=scorer(1), now=clock.now())
    lines = {p.line: p.message % p.params for p in refused.value.problems}
    assert set(lines) == {2, 3, 4}
    assert "EVENING" in lines[2] and "AM, PM" in lines[2]
    assert "Z99" in lines[3] and "PM" in lines[3]
    # Several sessions and no 场次 column: one problem, on the header.
    with pytest.raises(ImportErrors) as refused:
        mark_entry.import_marks(two.session, f"赛位号,分数\n{code},60\n".encode(), "m.csv",
                                entry=1, full_marks=Decimal(85), actor=scorer(1),
                                now=clock.now())
    [problem] = refused.value.problems
    assert problem.line == 1 and "场次" in problem.message
    assert mark_entry.agreed_marks(two.session) == {f"AM/{code}": Decimal(70)}


def test_an_import_of_one_session_replaces_that_sessions_entry_only(two):
    code = _same_codes(two)
    two.marks({f"AM/{code}": "70", f"PM/{code}": "75"})
    with two.within("AM"):
        # --session AM: the 场次 column may be left out; PM's marks stay as they were.
        for entry in (1, 2):
            mark_entry.import_marks(two.session, f"赛位号,分数\n{code},66\n".encode(),
                                    "am.csv", entry=entry, full_marks=Decimal(85),
                                    actor=scorer(entry), now=clock.now())
        with pytest.raises(ImportErrors) as refused:
            mark_entry.import_marks(two.session, f"场次,赛位号,分数\nPM,{code},60\n".encode(),
                                    "pm.csv", entry=1, full_marks=Decimal(85),
                                    actor=scorer(1), now=clock.now())
        [problem] = refused.value.problems
        assert problem.line == 2 and problem.params["chosen"] == "AM"
    assert mark_entry.agreed_marks(two.session) == {f"AM/{code}": Decimal(66),
                                                    f"PM/{code}": Decimal(75)}


def test_a_station_is_named_by_its_session_where_codes_repeat(two):
    code = _same_codes(two)
    two.marks({f"AM/{code}": "70"})
    text = f"场次,赛位号,分数\nPM,{code},75\n".encode()
    mark_entry.import_marks(two.session, text, "m.csv", entry=1, full_marks=Decimal(85),
                            actor=scorer(1), now=clock.now())
    with pytest.raises(exam_sessions.SessionRequired):
        mark_entry.resolve(two.session, code, Decimal(75), "评分表", actor=CHIEF,
                           now=clock.now())
    mark_entry.resolve(two.session, f"PM/{code}", Decimal(75), "评分表", actor=CHIEF,
                       now=clock.now())
    assert mark_entry.agreed_marks(two.session)[f"PM/{code}"] == Decimal(75)


# ----------------------------------------------------------------------------- totals

def test_each_station_reads_its_theory_score_in_its_own_session(two):
    two.marks(dict.fromkeys(two.seats(), "70"))
    results = {r.seat: r for r in totals.live_results(two.session, theory_weight=WEIGHT,
                                                      now=clock.now())}
    assert set(results) == set(two.truth)
    for code, stations in two.stations.items():
        for index, station in enumerate(stations):
            assert results[f"{code}/{station}"].theory == Decimal(60 + 3 * index)
            assert results[f"{code}/{station}"].session == code


def test_a_session_whose_theory_runs_has_no_total_yet_the_other_has(two):
    two.marks(dict.fromkeys(two.seats(), "70"))
    with two.within("PM"):
        phases.start(two.session, "practical", 120, actor=CHIEF, now=clock.now())
    results = totals.live_results(two.session, theory_weight=WEIGHT, now=clock.now())
    waiting = {r.session for r in results if r.total is None}
    assert waiting == {"PM"}
    assert all(r.total is not None for r in results if r.session == "AM")


# ----------------------------------------------------------------------------- review and lock

def _locked(two, marks=None):
    two.marks(marks or {seat: str(60 + i % 7) for i, seat in enumerate(two.seats())})
    review.draw_sample(two.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    for _, seat in review.items(two.session):
        review.record_outcome(two.session, seat, correct=True, actor=SUPERVISOR,
                              now=clock.now())
    return submission.lock(two.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())


def test_one_review_sample_over_every_sessions_stations(two):
    seats = two.seats()
    two.marks({seat: str(50 + i) for i, seat in enumerate(seats)})
    with two.within("AM"):  # whichever session the judge looks at: the sample is the event's
        sample = review.draw_sample(two.session, theory_weight=WEIGHT, actor=CHIEF,
                                    now=clock.now())
    assert sample.population == 12 and sample.top_count == 4  # ceil(12 × 30 %)
    assert sample.random_count == 2  # ceil(8 × 15 %)
    results = totals.live_results(two.session, theory_weight=WEIGHT, now=clock.now(),
                                  grade=False)
    top, chosen = review.choose_sample({r.seat: r.total for r in results},
                                       bytes.fromhex(sample.seed))
    sampled = {seat: item.why for item, seat in review.items(two.session)}
    assert sampled == {**dict.fromkeys(top, "top"), **dict.fromkeys(chosen, "random")}
    # Anyone can recompute the random part: HMAC-SHA256(seed, "PM/A01") ascending.
    rest = sorted((seat for seat in seats if seat not in top),
                  key=lambda seat: hmac.new(bytes.fromhex(sample.seed), seat.encode(),
                                            hashlib.sha256).hexdigest())
    assert sorted(rest[:2]) == chosen


def test_the_lock_holds_every_sessions_results(two):
    lock = _locked(two)
    snapshot = json.loads(lock.snapshot)
    assert {(r["session"], r["station"]) for r in snapshot} == {
        tuple(seat.split("/")) for seat in two.truth}
    with two.within("PM"):
        assert {r.session for r in totals.results(two.session, theory_weight=WEIGHT,
                                                  now=clock.now())} == {"PM"}


# ----------------------------------------------------------------------------- unsealing

def _open(two, code, stage):
    with two.within(code):
        return unsealing.open_layer(two.session, stage, [two.event.keys[f"crypt{stage}"]],
                                    actor=CRYPT1 if stage == 1 else CRYPT2, supervisor="sup",
                                    now=clock.now())


def test_each_session_is_unsealed_on_its_own_and_the_results_wait_for_all(two):
    _locked(two)
    with pytest.raises(exam_sessions.SessionRequired):
        unsealing.open_layer(two.session, 2, [two.event.keys["crypt2"]], actor=CRYPT2,
                             supervisor="sup", now=clock.now())
    assert _open(two, "AM", 2).verified and _open(two, "AM", 1).verified
    with two.within("PM"):
        assert unsealing.next_stage(two.session) == 2  # PM's seals are still closed
    partly = final.final_results(two.session)
    assert partly.sealed and all(r.name is None for _g, rows in partly.groups for r in rows)
    assert _open(two, "PM", 2).verified and _open(two, "PM", 1).verified
    linked = {seat: link["id_number"] for seat, link in unsealing.links(two.session).items()}
    assert linked == two.truth
    assert not final.final_results(two.session).sealed


def test_one_ranking_per_group_across_sessions_with_the_awards_over_the_group(two):
    _locked(two)
    for code in ("AM", "PM"):
        _open(two, code, 2)
        _open(two, code, 1)
    data = final.results_json(final.final_results(two.session))
    groups = {g["group"]: g["ranking"] for g in data["groups"]}
    assert set(groups) == {"职工组", "学生组"}
    for code, group in GROUPS.items():
        ranking = groups[group]
        assert len(ranking) == 6 and {r["session"] for r in ranking} == {code}
        assert {f"{r['session']}/{r['station']}" for r in ranking} == {
            seat for seat in two.truth if seat.startswith(code)}
        # 6 in the group: 一等奖 round(0.6) = 1, up to 二等奖 round(1.8) = 2, 三等奖 round(3.6) = 4.
        awards = [r["award"] for r in ranking]
        assert awards.count("一等奖") >= 1 and awards[-1] is None


def test_the_results_sheet_names_each_rows_session(two):
    _locked(two)
    for code in ("AM", "PM"):
        _open(two, code, 2)
        _open(two, code, 1)
    labels = {"AM": "上午场", "PM": "下午场", "": ""}
    result = final.final_results(two.session, labels)
    pdf = final.results_pdf(result, event_name="测试赛", session_name="", now=clock.now(),
                            theory_weight=WEIGHT, practical_full=Decimal(85),
                            checkpoint=make_checkpoint(two.session))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "场次" in text and "上午场" in text and "下午场" in text
    sheet = load_workbook(io.BytesIO(final.results_xlsx(result, event_name="测试赛"))).active
    assert [cell.value for cell in sheet[2]][:3] == ["名次", "场次", "赛位号"]


# ----------------------------------------------------------------------------- the command line

def kiosk(instance, *args, env=None):
    return CliRunner().invoke(main, ["--instance", str(instance.path), *map(str, args)],
                              env=env or {})


def test_the_commands_take_a_session_where_one_is_meant(two, kiosk_instance, tmp_path):
    instance = kiosk_instance
    code = _same_codes(two)
    marks = tmp_path / "am.csv"
    marks.write_text(f"赛位号,分数\n{code},70\n", encoding="utf-8")
    refused = kiosk(instance, "scores", "import", marks, "--entry", "1")
    assert refused.exit_code != 0 and "line 1" in refused.output
    done = kiosk(instance, "scores", "import", marks, "--entry", "1", "--session", "AM",
                 "--json")
    assert done.exit_code == 0, done.output
    [difference] = json.loads(kiosk(instance, "scores", "diff", "--json").output)["differences"]
    assert (difference["session"], difference["station"]) == ("AM", code)
    assert Decimal(difference["entry_1"]) == 70 and difference["entry_2"] is None
    key = tmp_path / "crypt2.key"
    key.write_text(f"{two.event.keys['crypt2']}\n")
    unseal = kiosk(instance, "unseal", "--identity", key, "--supervisor", "sup",
                   env={"KIOSK_SUPERVISOR_PASSWORD": PASSWORD})
    assert unseal.exit_code != 0 and "AM, PM" in unseal.output


# ----------------------------------------------------------------------------- the pages

def test_the_pages_show_the_session_of_each_station(two, app):
    from tests.factories import csrf_from, login

    with app.extensions["kiosk"].session() as db:
        make_user(db, "scorer", username="sc1")
        make_user(db, "chief", username="boss")
        make_user(db, "crypt2", username="j2")
    clients = {}
    for name in ("sc1", "boss", "j2"):
        clients[name] = app.test_client()
        login(clients[name], name)
    code = _same_codes(two)
    entry = clients["sc1"].get("/results/entry/1").text
    assert "场次" in entry or "Session" in entry
    assert "上午场" in entry and "下午场" in entry
    assert f'name="mark:AM/{code}"' in entry and f'name="mark:PM/{code}"' in entry
    token = csrf_from(entry)
    clients["sc1"].post("/results/entry/1", data={"csrf_token": token,
                                                  f"mark:PM/{code}": "77"})
    assert mark_entry.entry_marks(two.session, 1) == {f"PM/{code}": (Decimal(77), "sc1")}
    overview = clients["boss"].get("/results/").text
    assert "下午场" in overview and "上午场" in overview
    # The unsealing page is the session chosen in the header's; it lists every session's.
    unseal = clients["j2"]
    unseal.post("/session", data={"csrf_token": csrf_from(unseal.get("/results/unseal").text),
                                  "code": "PM"})
    page = unseal.get("/results/unseal").text
    assert page.count("data-session-state") == 2 and "下午场" in page


def test_an_instance_unsealed_before_sessions_migrates_with_its_layers_kept(tmp_path):
    from alembic import command
    from sqlalchemy import text

    from kiosk import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(db._alembic_config(engine), "0013_exam_sessions")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO station (id, code, badge_generation, spare, occupied, "
                          "created_at, exam_session_id) VALUES (1, 'A01', 0, 0, 1, "
                          "'2026-11-22 01:00:00', 1)"))
        conn.execute(text("INSERT INTO draw_round (id, stage, method, status, pool_size, "
                          "input_count, committed_at, committed_by, exam_session_id) VALUES "
                          "(7, 2, 'computer', 'sealed', 1, 1, '2026-11-22 01:00:00', 'c', 1)"))
        conn.execute(text("INSERT INTO unsealed_stage (stage, round_id, sealed_sha256, "
                          "verified, problems, opened_by, supervisor, opened_at) VALUES "
                          "(2, 7, 'ab', 1, '[]', 'crypt2', 'sup', '2026-11-23 01:00:00')"))
        conn.execute(text("INSERT INTO station_link (station_id, contestant_no) "
                          "VALUES (1, '001')"))
    db.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT stage, round_id, exam_session_id, supervisor "
                                 "FROM unsealed_stage")).all() == [(2, 7, 1, "sup")]
        assert conn.execute(text("SELECT station_id, contestant_no FROM station_link")
                            ).all() == [(1, "001")]
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()
