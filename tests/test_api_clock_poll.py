"""The kiosks' clock poll at the hall's size (issue 19): what it reads per poll, counted, and
that whatever it shares between polls (the day's rows, the announcements: kiosk.read_cache)
never hides a change: a pause, a resume, an extension, an announcement shows in the very next
poll of this server, and a write of another process within a second."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, select, text

from kiosk import clock, read_cache
from kiosk.db import UTCDateTime
from kiosk.field import announcements
from kiosk.stations import phases
from kiosk.stations.models import StationSession
from kiosk.stations.timetable import SHARED_SECONDS
from kiosk.theory_exam.papers import SpecInput, key_maps, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations
from tests.plugins.theory_exam import bank_csv
from tests.statements import statements

# A station's poll once the shared rows are fresh: its session and binding, in one statement.
SESSION_CHECK = "SELECT ss.nonce, ss.address, ss.last_seen, st.workstation_ip FROM station_session"


@pytest.fixture
def hall(app):
    """Four stations, the paper set, A01 and A02 signed in: their kiosks by code."""
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        stations = make_stations(session, 4)
        badges = {s.code: issue_badge(session, s, instance.badge_key()) for s in stations}
        set_spec(session, SpecInput(single=10, tf=5, single_points=Decimal("2"),
                                    tf_points=Decimal("1")), actor=CHIEF, now=clock.now())
    key_maps.clear()
    kiosks = {}
    for code in ("A01", "A02"):
        kiosks[code] = app.test_client()
        assert kiosks[code].post("/api/v1/station/login",
                                 json={"token": badges[code].qr_token}).status_code == 200
    return kiosks


class StoppedClock:
    """The shared reads' clock (kiosk.read_cache), moved on only by the test."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def stopped(monkeypatch) -> StoppedClock:
    stopped = StoppedClock()
    monkeypatch.setattr(read_cache.SharedRead, "clock", stopped)
    return stopped


def _session(app):
    return app.extensions["kiosk"].session()


def test_a_signed_in_poll_runs_one_statement_whatever_the_number_of_stations(app, hall,
                                                                             stopped):
    with _session(app) as session:
        phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    hall["A01"].get("/api/v1/clock")  # the day's rows, read once for every station
    for kiosk in hall.values():
        with statements(app, transactions=False) as seen:
            body = kiosk.get("/api/v1/clock").get_json()
        assert body["phase_state"] == "running" and body["signed_out"] is False
        assert len(seen) == 1 and seen[0].startswith(SESSION_CHECK), seen


def test_a_pause_a_resume_and_an_extension_show_in_the_next_poll(app, hall, stopped):
    """The shared rows' clock stands still: only the commit of the writes refreshes them."""
    with _session(app) as session:
        row = phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    first = hall["A01"].get("/api/v1/clock").get_json()
    assert first["phase_state"] == "running" and first["paused_at"] is None
    with _session(app) as session:
        paused = phases.pause(session, "theory", actor=CHIEF, now=clock.now())
    body = hall["A01"].get("/api/v1/clock").get_json()
    assert body["phase_state"] == "paused" and body["station_state"] == "paused"
    assert body["paused_at"] == clock.iso(paused.paused_at)
    with _session(app) as session:
        resumed = phases.resume(session, "theory", actor=CHIEF, now=clock.now())
    body = hall["A01"].get("/api/v1/clock").get_json()
    assert body["phase_state"] == "running" and body["paused_at"] is None
    assert body["phase_ends_at"] == clock.iso(resumed.ends_at) != clock.iso(row.ends_at)
    with _session(app) as session:
        phases.extend(session, "A01", 10, "设备故障（非选手原因）", actor=CHIEF,
                      now=clock.now())
    extended = hall["A01"].get("/api/v1/clock").get_json()
    other = hall["A02"].get("/api/v1/clock").get_json()
    assert extended["station_deadline"] == clock.iso(resumed.ends_at + timedelta(minutes=10))
    assert other["station_deadline"] == clock.iso(resumed.ends_at)
    with _session(app) as session:
        phases.end(session, "theory", actor=CHIEF, now=clock.now())
    assert hall["A01"].get("/api/v1/clock").get_json()["station_state"] == "ended"


def test_an_announcement_shows_in_the_next_poll(app, hall, stopped):
    assert hall["A01"].get("/api/v1/clock").get_json()["announcements"] == []
    with _session(app) as session:
        announcements.announce(session, "请检查电源", actor=CHIEF, now=clock.now())
    body = hall["A02"].get("/api/v1/clock").get_json()
    assert [a["text"] for a in body["announcements"]] == ["请检查电源"]


def test_a_write_of_another_process_shows_within_a_second(app, hall, stopped):
    """A write that this process did not commit through a Session (another server, the
    command line) is seen once the shared rows are SHARED_SECONDS old, never later."""
    with _session(app) as session:
        phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    assert hall["A01"].get("/api/v1/clock").get_json()["phase_state"] == "running"
    engine = app.extensions["kiosk"].engine
    with engine.begin() as elsewhere:  # no Session: as another process's write looks here
        elsewhere.execute(text("UPDATE phase SET paused_at = ends_at WHERE name = 'theory'"))
    assert hall["A01"].get("/api/v1/clock").get_json()["phase_state"] == "running"
    stopped.at += SHARED_SECONDS
    assert hall["A01"].get("/api/v1/clock").get_json()["phase_state"] == "paused"


def test_a_save_refused_for_a_pause_the_poll_does_not_show_yet_says_when_it_began(app, hall,
                                                                                  stopped):
    """A pause by another process: the poll may say "running" for up to a second, the save is
    refused at once, and its refusal names the pause's start, so that the screen drops the
    choices made since (a key pressed during a pause is never saved after the resume; CI saw
    one saved when the screen took its own clock for the pause's start)."""
    with _session(app) as session:
        phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    question = hall["A01"].get("/api/v1/exam/paper").get_json()["questions"][0]
    assert hall["A01"].get("/api/v1/clock").get_json()["phase_state"] == "running"
    paused_at = clock.now().replace(microsecond=0) - timedelta(seconds=2)
    pause = text("UPDATE phase SET paused_at = :at WHERE name = 'theory'").bindparams(
        bindparam("at", value=paused_at, type_=UTCDateTime))
    with app.extensions["kiosk"].engine.begin() as elsewhere:  # as another process writes
        elsewhere.execute(pause)
    assert hall["A01"].get("/api/v1/clock").get_json()["phase_state"] == "running"  # not yet
    refused = hall["A01"].put(f"/api/v1/exam/answers/{question['id']}",
                              json={"choice": question["options"][0]["key"], "seq": 1})
    assert refused.status_code == 423
    body = refused.get_json()
    assert body["state"] == "paused"
    assert body["paused_at"] == clock.iso(paused_at)


def test_the_server_time_and_the_states_are_worked_out_at_every_poll(app, hall, stopped,
                                                                     monkeypatch):
    """Only rows are shared: the time is the server's at each poll, and a deadline passes
    exactly when it does, shared rows or not."""
    with _session(app) as session:
        row = phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    hall["A01"].get("/api/v1/clock")
    late = row.ends_at + timedelta(milliseconds=1)
    monkeypatch.setattr(clock, "now", lambda: late)
    body = hall["A01"].get("/api/v1/clock").get_json()
    assert body["server_time"] == clock.iso(late)
    assert body["station_state"] == "ended"


def test_the_part_names_follow_each_kiosks_language(app, hall, stopped):
    hall["A02"].set_cookie("kiosk_lang", "en")
    chinese = hall["A01"].get("/api/v1/clock").get_json()
    english = hall["A02"].get("/api/v1/clock").get_json()
    assert chinese["part"]["name"] == "理论知识考试"
    assert english["part"]["name"] == "Theory exam"


def test_the_poll_is_the_stations_heartbeat_every_20_seconds(app, hall, stopped):
    """Written in the answer saves' transactions (kiosk.group_commit), at most every 20 s."""
    with _session(app) as session:
        station_id = session.scalar(select(StationSession.station_id))
        long_ago = clock.now() - timedelta(seconds=21)
        session.execute(text("UPDATE station_session SET last_seen = :at")
                        .bindparams(at=long_ago.replace(tzinfo=None)))
        session.commit()
    for kiosk in hall.values():
        kiosk.get("/api/v1/clock")
    with _session(app) as session:
        seen = session.scalars(select(StationSession.last_seen)).all()
    assert len(seen) == 2 and all(at > long_ago + timedelta(seconds=20) for at in seen)
    assert station_id
    with statements(app, transactions=False) as written:
        hall["A01"].get("/api/v1/clock")
    assert not [s for s in written if s.startswith("UPDATE")]  # fresh: nothing to write


def test_the_paper_goes_out_as_stored_with_its_answers(app, hall):
    """The questions are sent as their stored JSON text, the rest beside them: the kiosk reads
    the same paper as before, in one read after its first fetch."""
    from kiosk.theory_exam.models import Paper, Sitting

    with _session(app) as session:
        phases.start(session, "theory", 30, actor=CHIEF, now=clock.now())
    first = hall["A01"].get("/api/v1/exam/paper")
    assert first.mimetype == "application/json"
    body = first.get_json()
    with _session(app) as session:
        station_id = session.scalar(select(StationSession.station_id)
                                    .order_by(StationSession.station_id))
        paper = session.get(Paper, station_id)
        assert body["questions"] == paper.questions
        assert session.get(Sitting, station_id).opened_at is not None
    assert body["answers"] == {} and body["last_seq"] == 0 and body["state"] == "running"
    assert body["full_marks"] == "25.00"
    question = body["questions"][0]
    key = question["options"][0]["key"]
    assert hall["A01"].put(f"/api/v1/exam/answers/{question['id']}",
                           json={"choice": key, "seq": 3}).get_json()["saved"]
    with statements(app, transactions=False) as seen:
        again = hall["A01"].get("/api/v1/exam/paper").get_json()
    assert again["answers"] == {question["id"]: key} and again["last_seq"] == 3
    assert len(seen) <= 3, seen  # the station check (at most), the paper's read, its answers
