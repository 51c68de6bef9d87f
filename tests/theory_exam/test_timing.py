"""The timing rules through the real database: every caller reads a station's window the same
way and sees the same deadline; the answer save (the hot path) reads it once, with its SQL
counted, so that a change that adds a read fails here and not on exam day; the bulk reads do
not query per station."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.config import Settings
from kiosk.errors import Locked
from kiosk.field import dashboard
from kiosk.group_commit import GroupCommit
from kiosk.results import totals
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.stations.window import phase_windows, station_window
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper, Sitting
from tests.actors import CHIEF
from tests.factories import make_stations
from tests.plugins.theory_exam import GRACE
from tests.statements import statements

REASON = "设备故障（非选手原因）"


# The one read of a save: the station's window in its own session's phase, and its sitting.
WINDOW_READ = (
    "SELECT p.id AS phase_id, p.starts_at, p.ends_at, p.paused_at, p.ended_at, "
    "(SELECT COALESCE(SUM(e.minutes), 0) FROM extension e "
    "WHERE e.phase_id = p.id AND e.station_id = {p}) AS extra_minutes, "
    "(SELECT s.submitted_at FROM sitting s WHERE s.station_id = {p}) AS submitted_at, "
    "(SELECT COALESCE(MAX(c.seq), 0) FROM current_answer c "
    "WHERE c.station_id = {p}) AS last_seq, "
    "(SELECT COUNT(*) FROM paper_station ps WHERE ps.station_id = {p}) AS on_paper "
    "FROM phase p WHERE p.name = 'theory' "
    "AND p.exam_session_id = (SELECT exam_session_id FROM station WHERE id = {p})")


def test_a_save_reads_the_window_once_then_upserts_and_appends(exam_event):
    exam_event.start()
    station = exam_event.stations[0]
    paper = exam_event.session.get(Paper, station.id)
    question = paper.questions[0]
    keys = [option["key"] for option in question["options"]]
    now = clock.now()
    # The first save reads the key map once; every save after it is the steady state.
    exam.save_answer(exam_event.session, station.id, question["id"], keys[0], 1, now=now,
                     grace=GRACE)
    exam_event.session.close()
    with statements(exam_event.session) as seen:
        assert exam.save_answer(exam_event.session, station.id, question["id"], keys[1], 2,
                                now=now, grace=GRACE).saved
    reads = [s for s in seen if s.startswith("SELECT")]
    writes = [s for s in seen if s.startswith("INSERT")]
    placeholder = "?" if "?" in reads[0] else "%(station)s"
    assert reads == [WINDOW_READ.format(p=placeholder)]
    assert [w.split()[2] for w in writes] == ["current_answer", "answer_event"]
    # Nothing else: SQLite's BEGIN IMMEDIATE aside, the window, the upsert and the event.
    assert len([s for s in seen if not s.startswith("BEGIN")]) == 3


def test_a_save_in_a_group_commit_runs_the_same_three_statements(exam_event):
    """The batch adds no statement to a save: its transaction's BEGIN and COMMIT are shared."""
    exam_event.start()
    station = exam_event.stations[0]
    question = exam_event.session.get(Paper, station.id).questions[0]
    keys = [option["key"] for option in question["options"]]
    saves = GroupCommit(exam_event.instance.sessions)
    exam.save_answer_together(saves, station.id, question["id"], keys[0], 1, now=clock.now(),
                              grace=GRACE)
    with statements(exam_event.session) as seen:
        assert exam.save_answer_together(saves, station.id, question["id"], keys[1], 2,
                                         now=clock.now(), grace=GRACE).saved
    assert [s.split()[0] for s in seen if not s.startswith("BEGIN")] == \
        ["SELECT", "INSERT", "INSERT"]


def _save(exam_event, station, now, seq=1):
    paper = exam_event.session.get(Paper, station.id)
    question = paper.questions[0]
    return exam.save_answer(exam_event.session, station.id, question["id"],
                            question["options"][0]["key"], seq, now=now,
                            grace=GRACE)


def test_the_clock_the_paper_the_save_the_dashboard_and_the_results_agree(exam_event, app,
                                                                          monkeypatch):
    row = exam_event.start(minutes=20)
    extended, other = exam_event.stations[:2]
    for minutes in (10, 2.5):
        phases.extend(exam_event.session, extended.code, minutes, REASON, actor=CHIEF,
                      now=clock.now())
    now = clock.now()
    deadline = row.ends_at + timedelta(minutes=12.5)
    assert station_window(exam_event.session, "theory", extended.id).deadline(now) == deadline
    windows = phase_windows(exam_event.session, phases.get_phase(exam_event.session, "theory"))
    assert windows.of(extended.id).deadline(now) == deadline
    assert windows.of(other.id).deadline(now) == row.ends_at
    kiosk = app.test_client()
    kiosk.post("/api/v1/station/login", json={"token": exam_event.badges[extended.code].qr_token})
    assert kiosk.get("/api/v1/clock").get_json()["station_deadline"] == clock.iso(deadline)
    assert kiosk.get("/api/v1/exam/paper").get_json()["deadline"] == clock.iso(deadline)
    rows, _ = dashboard.dashboard(exam_event.session, now, Settings())
    assert {r.code: r.deadline for r in rows}[extended.code] == deadline
    assert {r.code: r.extra_minutes for r in rows}[extended.code] == 12.5
    # The save refuses exactly after that deadline and its grace, in the clock's words.
    assert _save(exam_event, extended, deadline + GRACE).saved
    late = deadline + GRACE + timedelta(milliseconds=1)
    with pytest.raises(Locked) as refused:
        _save(exam_event, extended, late, seq=2)
    assert refused.value.details["state"] == "ended"
    monkeypatch.setattr(clock, "now", lambda: late)
    assert kiosk.get("/api/v1/clock").get_json()["station_state"] == "ended"
    # Over for everyone exactly at the last station's deadline, not at the others'.
    assert not totals.theory_over(exam_event.session, row.ends_at + timedelta(minutes=1))
    assert not totals.theory_over(exam_event.session, deadline - timedelta(milliseconds=1))
    assert totals.theory_over(exam_event.session, deadline)


def test_a_refused_save_and_a_refused_hand_in_say_the_same_state(exam_event, app):
    """Before the start and during a pause, both refusals send the station's state."""
    station = exam_event.stations[0]
    with pytest.raises(Locked) as before:
        _save(exam_event, station, clock.now())
    assert before.value.details["state"] == "not_started"
    kiosk = app.test_client()
    kiosk.post("/api/v1/station/login", json={"token": exam_event.badges[station.code].qr_token})
    hand_in = kiosk.post("/api/v1/collect/upload?filename=a.zip", data=b"work",
                         headers={"Content-Type": "application/octet-stream"})
    assert hand_in.status_code == 423 and hand_in.get_json()["state"] == "not_started"
    assert hand_in.get_json()["message"] == "实操技能考核尚未开始。"
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=clock.now())
    phases.pause(exam_event.session, "theory", actor=CHIEF, now=clock.now())
    with pytest.raises(Locked) as paused:
        _save(exam_event, station, clock.now())
    phases.end(exam_event.session, "theory", actor=CHIEF, now=clock.now())
    phases.start(exam_event.session, "practical", 20, actor=CHIEF, now=clock.now())
    phases.pause(exam_event.session, "practical", actor=CHIEF, now=clock.now())
    hand_in = kiosk.post("/api/v1/collect/upload?filename=a.zip", data=b"work",
                         headers={"Content-Type": "application/octet-stream"})
    assert hand_in.status_code == 423
    assert paused.value.details["state"] == hand_in.get_json()["state"] == "paused"


def _extend_all(exam_event, stations):
    for station in stations:
        phases.extend(exam_event.session, station.code, 5, REASON, actor=CHIEF,
                      now=clock.now())


def test_the_dashboard_and_the_working_time_read_every_window_at_once(exam_event):
    """As many statements for eight stations as for four: nothing is read per station."""
    exam_event.start()
    phases.end(exam_event.session, "theory", actor=CHIEF, now=clock.now())
    phases.start(exam_event.session, "practical", 60, actor=CHIEF, now=clock.now())
    _extend_all(exam_event, exam_event.stations)
    counts = []
    for _ in range(2):
        now = clock.now()
        ids = dict(exam_event.session.execute(select(Station.id, Station.code)).all())
        exam_event.session.close()
        with statements(exam_event.session) as seen:
            dashboard.dashboard(exam_event.session, now, Settings())
            totals._practical_seconds(exam_event.session, ids, now)
            totals.theory_over(exam_event.session, now)
        counts.append(len(seen))
        _extend_all(exam_event, make_stations(exam_event.session, 4, prefix="B"))
    assert counts[0] == counts[1]


def test_a_paper_fetch_reads_once_and_the_first_records_its_opening(exam_event):
    """The paper (its questions as stored), its window, its sitting: one read; the first fetch
    also records `opened_at`, in the answer saves' group commit, before the paper is served."""
    exam_event.start()
    station = exam_event.stations[0]
    saves = GroupCommit(exam_event.instance.sessions)
    opened = clock.now()
    with statements(exam_event.session, transactions=False) as seen:
        first = exam.paper_for(exam_event.session, station.id, now=opened, grace=GRACE,
                               saves=saves)
    assert [s.split()[0] for s in seen] == ["SELECT", "INSERT"], seen
    assert seen[1].startswith("INSERT INTO sitting")
    assert saves.stats.writes == 1  # through the group commit, acknowledged after its commit
    with exam_event.instance.session() as other:
        assert other.get(Sitting, station.id).opened_at == opened
    exam_event.session.close()
    with statements(exam_event.session, transactions=False) as seen:
        again = exam.paper_for(exam_event.session, station.id,
                               now=opened + timedelta(minutes=1), grace=GRACE, saves=saves)
    assert len(seen) == 1 and seen[0].startswith("SELECT p.id AS phase_id"), seen
    assert again == first
    assert again["questions"] == exam_event.session.get(Paper, station.id).questions
    with exam_event.instance.session() as other:
        assert other.get(Sitting, station.id).opened_at == opened  # the first fetch's


def test_a_paper_with_answers_reads_them_in_one_more_statement(exam_event):
    exam_event.start()
    station = exam_event.stations[0]
    question = exam_event.session.get(Paper, station.id).questions[0]
    key = question["options"][1]["key"]
    exam.save_answer(exam_event.session, station.id, question["id"], key, 7, now=clock.now(),
                     grace=GRACE)
    exam.paper_for(exam_event.session, station.id, now=clock.now(), grace=GRACE)
    exam_event.session.close()
    with statements(exam_event.session, transactions=False) as seen:
        shown = exam.paper_for(exam_event.session, station.id, now=clock.now(), grace=GRACE)
    assert len(seen) == 2, seen
    assert shown["answers"] == {question["id"]: key} and shown["last_seq"] == 7
