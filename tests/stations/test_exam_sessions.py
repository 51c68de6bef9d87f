"""Sessions (场次): several runs of the day on the hall's stations, each seeing only its own
rows (kiosk.scope); which session the hall serves; a badge signs in only to its own session,
only while the hall serves it."""

import itertools
import json
import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from kiosk import clock, scope
from kiosk.cli import main
from kiosk.errors import Conflict, ImportErrors
from kiosk.models import AuditEvent
from kiosk.stations import exam_sessions, phases, timetable
from kiosk.stations.models import PhaseRow, Station
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations
from tests.stations.two_sessions import two_sessions as _two_sessions


def test_an_event_without_sessions_is_one_implicit_session(session, instance):
    [implicit] = exam_sessions.every(session)
    assert implicit.code == "" and exam_sessions.defined(session) == []
    assert exam_sessions.choose(session, None) is implicit
    assert str(exam_sessions.label(implicit, instance.settings)) == instance.settings.session_name


def test_the_first_session_takes_over_the_implicit_one_and_later_ones_copy_its_stations(
        session, instance):
    make_stations(session, 3, first_ip="10.0.0.11")
    timetable.replace(session, [timetable.Part("A", "模块A", "practical", 60, (15,), True)],
                      actor=CHIEF, now=clock.now())
    am, pm = _two_sessions(session, instance, stations=0)
    assert am.id == 1  # whatever the instance held stays with the first session
    with scope.event_wide(session):
        rows = session.execute(select(Station.exam_session_id, Station.code,
                                      Station.workstation_ip).order_by(Station.id)).all()
    assert [(r[1], r[2]) for r in rows if r[0] == pm.id] == [
        ("A01", "10.0.0.11"), ("A02", "10.0.0.12"), ("A03", "10.0.0.13")]
    exam_sessions.enter(session, pm)
    assert [p.key for p in timetable.parts(session, instance.settings)] == ["A"]
    # A station added later is a seat of the hall: it is in every session.
    make_stations(session, 1)
    with scope.event_wide(session):
        assert session.scalar(select(func.count()).select_from(Station).where(
            Station.code == "A04")) == 2


def test_each_session_sees_its_own_stations_and_clock_only(session, instance):
    am, pm = _two_sessions(session, instance)
    exam_sessions.enter(session, am)
    assert [s.code for s in session.scalars(select(Station))] == ["A01", "A02"]
    am_ids = {s.id for s in session.scalars(select(Station))}
    phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    exam_sessions.enter(session, pm)
    assert {s.id for s in session.scalars(select(Station))}.isdisjoint(am_ids)
    assert phases.get_phase(session, "practical") is None  # PM's clock has not started
    assert timetable.day(session, instance.settings, clock.now()).running is None


def test_a_session_code_is_required_once_there_are_two_and_refused_when_unknown(
        session, instance):
    _two_sessions(session, instance)
    with pytest.raises(exam_sessions.SessionRequired) as refused:
        exam_sessions.choose(session, None)
    assert "AM, PM" in refused.value.message % refused.value.details
    assert exam_sessions.choose(session, "pm").code == "PM"
    with pytest.raises(exam_sessions.NotFound):
        exam_sessions.choose(session, "EVENING")


def test_a_bad_session_is_refused_with_every_problem_and_nothing_added(session, instance):
    with pytest.raises(ImportErrors) as refused:
        exam_sessions.add(session, "a b", name="x" * 65, groups=["夜间组"], capacity=0,
                          settings=instance.settings, actor=CHIEF, now=clock.now())
    assert len(refused.value.problems) == 4
    assert exam_sessions.defined(session) == []


def test_sessions_cannot_change_once_the_day_has_begun(session, instance):
    am, _pm = _two_sessions(session, instance)
    exam_sessions.enter(session, am)
    phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    with pytest.raises(Conflict):
        exam_sessions.add(session, "EVE", name="", groups=[], capacity=None,
                          settings=instance.settings, actor=CHIEF, now=clock.now())


def test_the_hall_serves_the_first_session_then_the_next_once_the_first_is_over(
        session, instance):
    am, pm = _two_sessions(session, instance)
    now = clock.now()
    assert exam_sessions.current(session, instance.settings, now).code == "AM"
    exam_sessions.enter(session, am)
    for key, minutes in (("theory", 20), ("practical", 150)):
        phases.start(session, key, minutes, actor=CHIEF, now=now)
        assert exam_sessions.current(session, instance.settings, now).code == "AM"
        phases.end(session, key, actor=CHIEF, now=now)
    # AM's day is over for every station: its contestants leave, PM's may sign in.
    assert exam_sessions.current(session, instance.settings, now).code == "PM"
    exam_sessions.enter(session, pm)
    phases.start(session, "theory", 20, actor=CHIEF, now=now + timedelta(minutes=5))
    later = now + timedelta(minutes=6)
    assert exam_sessions.current(session, instance.settings, later).code == "PM"
    days = {d.exam_session.code: d.state for d in exam_sessions.days(session, instance.settings,
                                                                     later)}
    assert days == {"AM": "ended", "PM": "running"}


def _badges(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        am, pm = _two_sessions(session, instance, stations=1)
        badges = {}
        for exam_session in (am, pm):
            exam_sessions.enter(session, exam_session)
            station = session.scalars(select(Station)).one()
            badges[exam_session.code] = issue_badge(session, station, instance.badge_key())
        return badges


def _login(client, badge):
    return client.post("/api/v1/station/login", json={"token": badge.qr_token})


def test_a_badge_signs_in_only_while_the_hall_serves_its_session(app):
    badges = _badges(app)
    refused = _login(app.test_client(), badges["PM"])
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "wrong_session"
    assert "下午场" in refused.get_json()["message"] and "上午场" in refused.get_json()["message"]
    assert _login(app.test_client(), badges["AM"]).status_code == 200
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        exam_sessions.enter(session, exam_sessions.by_code(session, "AM"))
        now = clock.now()
        for key in ("theory", "practical"):
            phases.start(session, key, 20, actor=CHIEF, now=now)
            phases.end(session, key, actor=CHIEF, now=now)
        refusals = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "station.login_wrong_session"))
    assert refusals == 1
    assert _login(app.test_client(), badges["AM"]).status_code == 403
    pm_client = app.test_client()
    assert _login(pm_client, badges["PM"]).status_code == 200
    # The same seat, signed in for PM: its clock is PM's (not started), not AM's (ended).
    assert pm_client.get("/api/v1/clock").get_json()["phase"] is None


def test_the_commands_of_one_session_name_it_once_there_are_two(instance, tmp_path):
    runner = CliRunner()
    env = {"KIOSK_INSTANCE": str(instance.path)}
    for code, groups in (("AM", "职工组"), ("PM", "学生组")):
        result = runner.invoke(main, ["sessions", "add", code, "--groups", groups], env=env)
        assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["sessions", "list", "--json"], env=env)
    assert [s["code"] for s in json.loads(listed.output)["sessions"]] == [
        "AM", "PM"]
    missing = runner.invoke(main, ["timetable", "show"], env=env)
    assert missing.exit_code != 0 and "--session" in missing.output
    assert runner.invoke(main, ["timetable", "show", "--session", "PM"],
                         env=env).exit_code == 0
    assert runner.invoke(main, ["timetable", "show"],
                         env={**env, "KIOSK_SESSION": "AM"}).exit_code == 0
    with instance.session() as session, scope.event_wide(session):
        assert session.scalar(select(func.count()).select_from(PhaseRow)) == 0


def test_staff_switch_the_session_their_pages_are_about_in_the_header(app, chief):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        _two_sessions(session, instance)
    client = app.test_client()
    login(client, "chief")
    home = client.get("/staff").text
    assert 'name="code"' in home and "上午场 · 进行中" in home and "下午场" in home
    assert re.search(r'<option value="AM" selected>', home)
    switched = client.post("/session", data={"code": "PM", "next": "/staff",
                                             "csrf_token": csrf_from(home)})
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/staff")
    assert re.search(r'<option value="PM" selected>', client.get("/staff").text)
    refused = client.post("/session", data={"code": "EVENING", "csrf_token": csrf_from(home)})
    assert refused.status_code == 404


def test_an_event_of_one_session_shows_no_switch(app, chief):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        make_stations(session, 2)
    client = app.test_client()
    login(client, "chief")
    assert 'name="code"' not in client.get("/staff").text


def _blank_database(database, tmp_path, pg_cluster):
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    if pg_cluster is None:
        pytest.skip("PostgreSQL server binaries not installed")
    name = f"kiosk_m{next(_blank_names)}_{id(tmp_path) % 100000}"
    admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return pg_cluster.url(name)


_blank_names = itertools.count(1)


def test_an_instance_from_before_sessions_migrates_into_the_implicit_session(
        database, tmp_path, pg_cluster):
    """Every row of its day becomes the implicit session's; a second session may then reuse
    its station codes and part keys."""
    from alembic import command

    from kiosk import db

    engine = db.make_engine(_blank_database(database, tmp_path, pg_cluster))
    command.upgrade(db._alembic_config(engine), "0012_score_tasks")
    at = {"at": datetime(2026, 11, 22, 1, 0)}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO station (id, code, badge_generation, spare, occupied, "
                          "created_at) VALUES (7, 'A01', 0, false, true, :at)"), at)
        conn.execute(text("INSERT INTO phase (name, minutes, starts_at, ends_at, updated_at) "
                          "VALUES ('theory', 20, :at, :at, :at)"), at)
        conn.execute(text("INSERT INTO contestant (name, id_number, organization, \"group\") "
                          "VALUES ('张三', '420102199001010011', '一中', '职工组')"))
        conn.execute(text("INSERT INTO hand_in (station_id, part, version, receipt_no, "
                          "filename, size, sha256, cipher_sha256, stored_name, received_at, "
                          "via, late) VALUES (7, 'practical', 1, 'R1', 'a.zip', 4, 'ab', 'cd', "
                          "'s1', :at, 'kiosk', false)"), at)
    db.upgrade(engine)
    second_seat = text("INSERT INTO station (code, badge_generation, spare, occupied, "
                       "created_at, exam_session_id) VALUES ('A01', 0, false, false, :at, 2)")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT id, code, name FROM exam_session")).all() == [
            (1, "", "")]
        for read in ("SELECT exam_session_id FROM station", "SELECT exam_session_id FROM phase",
                     "SELECT exam_session_id FROM contestant"):
            assert conn.execute(text(read)).scalars().all() == [1], read
        assert conn.execute(text("SELECT station_id FROM hand_in")).scalars().all() == [7]
        conn.execute(text("INSERT INTO exam_session (position, code, name, groups, created_at,"
                          " created_by) VALUES (2, 'PM', '下午场', '[]', :at, 'test')"), at)
        # The same seat and the same part in the second session: unique within a session only.
        conn.execute(second_seat, at)
        conn.execute(text("INSERT INTO phase (name, minutes, updated_at, exam_session_id) "
                          "VALUES ('theory', 20, :at, 2)"), at)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(second_seat, at)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_preflight_counts_the_hall_s_seats_once_whatever_the_number_of_sessions(
        session, instance):
    from kiosk.field import preflight

    _two_sessions(session, instance, stations=3)
    checks = {c.name: c for c in preflight.run(instance)}
    assert checks["stations"].params == {"n": 3}
    assert checks["badges"].params == {"badges": 0, "n": 6}  # a badge per session and seat


def test_the_roster_waits_for_the_session_draw_once_there_are_two_sessions(instance):
    """The first session took over the implicit one, and its contestants with it: they are
    nobody's until the session draw is published, then each session counts its own."""
    from importlib import resources

    runner = CliRunner()
    env = {"KIOSK_INSTANCE": str(instance.path)}
    roster = resources.files("kiosk.seed") / "roster.csv"
    for args in (["roster", "import", str(roster)], ["stations", "add", "--count", "60"],
                 ["sessions", "add", "AM", "--groups", "职工组"]):
        assert runner.invoke(main, args, env=env).exit_code == 0

    def counts():
        listed = json.loads(runner.invoke(main, ["sessions", "list", "--json"], env=env).output)
        return {s["code"]: s["contestants"] for s in listed["sessions"]}

    assert counts() == {"AM": 60}  # one session: everyone is its contestant
    assert runner.invoke(main, ["sessions", "add", "PM", "--groups", "学生组"],
                         env=env).exit_code == 0
    assert counts() == {"AM": 0, "PM": 0}
    assert runner.invoke(main, ["sessions", "draw"], env=env).exit_code == 3
    assert runner.invoke(main, ["sessions", "draw", "--entropy", "6 5 4", "--json"],
                         env=env).exit_code == 0
    assert counts() == {"AM": 40, "PM": 20}
