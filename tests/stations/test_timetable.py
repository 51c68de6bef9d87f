"""The day's timetable: a file read whole or refused with every problem; parts of any key with
their own clock; one part runs at a time, for every station, extensions included."""

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.config import Settings
from kiosk.errors import Conflict, ImportErrors, NotFound
from kiosk.models import AuditEvent
from kiosk.stations import phases, timetable
from kiosk.stations.models import TimetablePart
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations

SEED_000 = """
[[part]]
key = "A"
name = "模块A：生成式人工智能系统数据处理"
kind = "practical"
minutes = 60
warnings = [15]
reading_minutes = 10

[[part]]
key = "B"
name = "模块B：生成式人工智能系统模型训练"
kind = "practical"
minutes = 90

[[part]]
key = "C"
name = "模块C：生成式人工智能系统部署与维护"
kind = "practical"
minutes = 90
hand_in = true
"""

REASON = "设备故障（非选手原因）"


def _set(session, text: str = SEED_000, filename: str = "timetable.toml"):
    parts = timetable.parse(text.encode(), filename, Settings())
    return timetable.replace(session, parts, actor=CHIEF, now=clock.now())


def _problems(text: str, filename: str = "timetable.toml") -> list[str]:
    with pytest.raises(ImportErrors) as refused:
        timetable.parse(text.encode(), filename, Settings())
    return [p.render() for p in refused.value.problems]


def test_a_timetable_file_gives_the_parts_in_order_with_their_defaults():
    parts = timetable.parse(SEED_000.encode(), "t.toml", Settings())
    assert [p.key for p in parts] == ["A", "B", "C"]
    first, second, _ = parts
    assert (first.minutes, first.warnings, first.hand_in, first.reading_minutes) == (
        60, (15,), True, 10)
    # Warnings default to the configured ones; a practical part hands in by default.
    assert second.warnings == (15, 5, 1) and second.hand_in and second.reading_minutes == 0
    as_json = json.dumps({"part": [p.as_json() for p in parts]}, ensure_ascii=False)
    assert timetable.parse(as_json.encode(), "t.json", Settings()) == parts


def test_a_bad_timetable_lists_every_problem_by_part():
    problems = _problems("""
[[part]]
key = "A"
name = "模块A"
kind = "practical"
minutes = 0
colour = "red"

[[part]]
key = "A"
name = "again"
kind = "exam"
minutes = 30
warnings = [30, 5]

[[part]]
key = "T"
name = "理论"
kind = "theory"
minutes = 20
hand_in = true

[[part]]
key = "bad key!"
name = "x"
kind = "practical"
minutes = 10
""")
    assert problems == [
        "part A: unknown setting colour",
        "part A: minutes is a number of minutes from 1 second to 24 hours",
        "part A: the kind is theory or practical",
        "part A: each warning comes once, before the part's end and after its start",
        "part T: the theory exam's key is theory (the exam, its scores and `kiosk phase start "
        "theory` know it by that name)",
        "part T: the theory exam is answered on screen, not handed in",
        "part #4: the key is 1 to 16 letters, digits, - or _ (got 'bad key!')",
    ]


def test_the_file_s_own_syntax_is_a_line_number():
    assert _problems('[[part]]\nkey = "A"\nminutes = = 3\n')[0].startswith("line 3: not TOML")
    assert _problems('{"part": [\n{"key": }]}', "t.json")[0].startswith("line 2: not JSON")
    with pytest.raises(ImportErrors) as refused:
        timetable.parse("[[part]]\nname = '模块A'".encode("gb18030"), "t.toml", Settings())
    assert [p.render() for p in refused.value.problems] == ["The timetable is not UTF-8 text."]


def test_the_cli_sets_and_shows_the_timetable_and_refuses_a_bad_one_changing_nothing(
        tmp_path, instance):
    good, bad = tmp_path / "timetable.toml", tmp_path / "bad.toml"
    good.write_text(SEED_000, encoding="utf-8")
    bad.write_text(SEED_000.replace("minutes = 90\n", "minutes = -1\n", 1), encoding="utf-8")
    runner = CliRunner()
    env = {"KIOSK_LANG": "en"}
    args = ["--instance", str(instance.path)]
    shown = runner.invoke(main, [*args, "timetable", "show", "--json"], env=env)
    assert [p["key"] for p in json.loads(shown.output)["parts"]] == ["theory", "practical"]
    assert runner.invoke(main, [*args, "timetable", "set", str(good)], env=env).exit_code == 0
    refused = runner.invoke(main, [*args, "timetable", "set", str(bad)], env=env)
    assert refused.exit_code != 0
    assert "part B: minutes is a number of minutes" in refused.output
    shown = json.loads(runner.invoke(main, [*args, "timetable", "show", "--json"],
                                     env=env).output)
    assert [(p["key"], p["minutes"], p["state"]) for p in shown["parts"]] == [
        ("A", 60, "not_started"), ("B", 90, "not_started"), ("C", 90, "not_started")]
    started = runner.invoke(main, [*args, "phase", "start", "A", "--json"], env=env)
    assert json.loads(started.output)["phase"] == "A"
    unknown = runner.invoke(main, [*args, "phase", "start", "theory"], env=env)
    assert unknown.exit_code != 0 and "No part theory in the timetable" in unknown.output
    again = runner.invoke(main, [*args, "timetable", "set", str(good)], env=env)
    assert again.exit_code != 0 and "once a part has started" in again.output


def test_the_timetable_cannot_change_once_a_part_started_but_a_schedule_stays(session, now):
    _set(session)
    later = now + timedelta(hours=1)
    phases.start(session, "B", 90, actor=CHIEF, now=now, at=later)
    _set(session, SEED_000.replace("minutes = 90\n", "minutes = 80\n", 1))
    row = phases.get_phase(session, "B")
    assert row.starts_at == later and row.ends_at == later + timedelta(minutes=80)
    phases.start(session, "A", 60, actor=CHIEF, now=now, at=now)
    with pytest.raises(Conflict):
        _set(session)
    assert [p.minutes for p in timetable.parts(session, Settings())] == [60, 80, 90]
    assert session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "timetable.set")).all() == ["timetable.set", "timetable.set"]


def test_one_part_runs_at_a_time_and_an_extension_holds_the_next_part_back(session, now):
    """Module B cannot start while A still runs for any station; ending A (which ends every
    extension in it) or waiting for the last extended deadline lets it start."""
    _set(session)
    stations = make_stations(session, 2)
    phases.start(session, "A", 60, actor=CHIEF, now=now)
    with pytest.raises(Conflict) as refused:
        phases.start(session, "B", 90, actor=CHIEF, now=now + timedelta(minutes=10))
    assert refused.value.details["stations"] == "every station"
    phases.extend(session, stations[0].code, 10, REASON, actor=CHIEF,
                  now=now + timedelta(minutes=30))
    after_a = now + timedelta(minutes=61)
    with pytest.raises(Conflict) as refused:
        phases.start(session, "B", 90, actor=CHIEF, now=after_a)
    assert refused.value.details["stations"] == stations[0].code  # only the extended one
    # Scheduling B for after the extension is fine; so is starting it once the extension ran out.
    phases.start(session, "B", 90, actor=CHIEF, now=after_a, at=now + timedelta(minutes=70))
    with pytest.raises(Conflict):
        phases.start(session, "C", 90, actor=CHIEF, now=after_a,
                     at=now + timedelta(minutes=100))  # overlaps B as scheduled
    phases.cancel(session, "B", actor=CHIEF, now=after_a)
    phases.end(session, "A", actor=CHIEF, now=after_a)
    phases.start(session, "B", 90, actor=CHIEF, now=after_a)
    assert timetable.day(session, Settings(), after_a).running.key == "B"


def test_a_paused_part_holds_the_next_one_back(session, now):
    _set(session)
    phases.start(session, "A", 60, actor=CHIEF, now=now)
    phases.pause(session, "A", actor=CHIEF, now=now + timedelta(minutes=5))
    with pytest.raises(Conflict):
        phases.start(session, "B", 90, actor=CHIEF, now=now + timedelta(hours=3))


def test_an_extension_may_not_run_into_a_later_part(session, now):
    _set(session)
    station = make_stations(session, 1)[0]
    phases.start(session, "A", 60, actor=CHIEF, now=now)
    phases.start(session, "B", 90, actor=CHIEF, now=now, at=now + timedelta(minutes=70))
    with pytest.raises(Conflict) as refused:
        phases.extend(session, station.code, 15, REASON, actor=CHIEF, now=now)
    assert "would run into" in refused.value.message
    assert phases.extend(session, station.code, 10, REASON, actor=CHIEF, now=now).minutes == 10
    # B scheduled but not begun: no extension is given for it before its start.
    with pytest.raises(Conflict):
        phases.extend(session, station.code, 5, REASON, phase_name="B", actor=CHIEF, now=now)
    with pytest.raises(NotFound):
        phases.extend(session, station.code, 5, REASON, phase_name="Z", actor=CHIEF, now=now)


def test_an_extension_moves_only_that_station_s_deadline_in_that_part(session, now):
    _set(session)
    extended, other = make_stations(session, 2)
    phases.start(session, "A", 60, actor=CHIEF, now=now)
    phases.extend(session, extended.code, 10, REASON, actor=CHIEF, now=now)
    the_day = timetable.day(session, Settings(), now + timedelta(minutes=65))
    assert the_day.of("A").state == "running"  # the extended station still works
    assert the_day.of("A").last_deadline == now + timedelta(minutes=70)
    assert timetable.day(session, Settings(), now + timedelta(minutes=70)).of(
        "A").state == "ended"
    from kiosk.stations.window import station_window
    assert station_window(session, "A", other.id).deadline(now) == now + timedelta(minutes=60)
    assert station_window(session, "B", extended.id).deadline(now) is None


def test_the_clock_names_the_part_what_comes_next_and_the_day(app, monkeypatch):
    instance = app.extensions["kiosk"]
    start = clock.now()
    with instance.session() as session:
        _set(session)
        station = make_stations(session, 1)[0]
        badge = issue_badge(session, station, instance.badge_key())
        phases.start(session, "A", 60, actor=CHIEF, now=start)
    client = app.test_client()
    client.post("/api/v1/station/login", json={"token": badge.qr_token})
    now_a = client.get("/api/v1/clock").get_json()
    assert now_a["phase"] == "A" and now_a["part"]["name"].startswith("模块A")
    assert now_a["part"]["kind"] == "practical" and now_a["warnings_at_minutes"] == [15]
    assert now_a["next_part"]["key"] == "B" and now_a["next_part"]["starts_at"] is None
    assert [p["state"] for p in now_a["day"]] == ["running", "not_started", "not_started"]
    with instance.session() as session:
        phases.end(session, "A", actor=CHIEF, now=clock.now())
        phases.start(session, "B", 90, actor=CHIEF, now=clock.now(),
                     at=start + timedelta(hours=2))
    between = client.get("/api/v1/clock").get_json()
    # Between parts: the next part (scheduled) is shown, and the one after it comes next.
    assert between["phase"] == "B" and between["phase_state"] == "scheduled"
    assert between["part"]["key"] == "B" and between["next_part"]["key"] == "C"
    assert between["day"][0]["state"] == "ended"


def test_an_instance_without_a_timetable_runs_the_default_day(session, now):
    settings = Settings(theory_minutes=30, practical_minutes=120)
    assert [(p.key, p.minutes, p.hand_in) for p in timetable.parts(session, settings)] == [
        ("theory", 30, False), ("practical", 120, True)]
    assert session.scalar(select(TimetablePart.id)) is None
    phases.start(session, "theory", 30, actor=CHIEF, now=now)
    with pytest.raises(Conflict):
        phases.start(session, "practical", 120, actor=CHIEF, now=now)


def test_an_instance_from_before_timetables_migrates_with_nothing_lost(tmp_path):
    """Its phases keep their clocks, its hand-ins become the practical part's, its day is the
    default one, and a timetable with new keys can follow once nothing has started."""
    from alembic import command
    from sqlalchemy import text

    from kiosk import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(db._alembic_config(engine), "0010_draw_result_shown")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO station (id, code, badge_generation, spare, occupied, "
                          "created_at) VALUES (1, 'A01', 0, 0, 1, '2026-11-22 01:00:00')"))
        conn.execute(text("INSERT INTO phase (name, minutes, starts_at, ends_at, updated_at) "
                          "VALUES ('practical', 150, '2026-11-22 01:00:00', "
                          "'2026-11-22 03:30:00', '2026-11-22 01:00:00')"))
        conn.execute(text(
            "INSERT INTO hand_in (station_id, version, receipt_no, filename, size, sha256, "
            "cipher_sha256, stored_name, received_at, via, late) VALUES (1, 1, 'R1', 'a.zip', "
            "4, 'ab', 'cd', 's1', '2026-11-22 02:00:00', 'kiosk', 0)"))
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT part, version FROM hand_in")).all() == [
            ("practical", 1)]
        assert conn.execute(text("SELECT name, minutes FROM phase")).all() == [
            ("practical", 150)]
        # A second version of the same part and a first one of another part both fit.
        conn.execute(text(
            "INSERT INTO hand_in (station_id, part, version, receipt_no, filename, size, sha256,"
            " cipher_sha256, stored_name, received_at, via, late) VALUES (1, 'A', 1, 'R2', "
            "'b.zip', 4, 'ab', 'cd', 's2', '2026-11-22 02:00:00', 'kiosk', 0)"))
        conn.execute(text("INSERT INTO phase (name, minutes, updated_at, exam_session_id) "
                          "VALUES ('A', 60, '2026-11-22 01:00:00', 1)"))
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_a_pause_shifts_a_later_scheduled_part_instead_of_overlapping_it(session, now):
    _set(session)
    phases.start(session, "A", 60, actor=CHIEF, now=now)
    phases.start(session, "B", 90, actor=CHIEF, now=now, at=now + timedelta(minutes=70))
    phases.start(session, "C", 90, actor=CHIEF, now=now, at=now + timedelta(minutes=170))
    phases.pause(session, "A", actor=CHIEF, now=now + timedelta(minutes=10))
    phases.resume(session, "A", actor=CHIEF, now=now + timedelta(minutes=30))
    b, c = phases.get_phase(session, "B"), phases.get_phase(session, "C")
    # A now ends at 80 min: B moves from 70 to 80, its 90 minutes kept.
    assert b.starts_at == now + timedelta(minutes=80)
    assert b.ends_at == now + timedelta(minutes=170)
    assert c.starts_at == now + timedelta(minutes=170)  # B's new end: no overlap, not moved
    moved = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "phase.rescheduled")).all()
    assert [(e.subject, json.loads(e.details)["after_pause_of"]) for e in moved] == [("B", "A")]


def test_what_comes_next_is_after_the_part_shown_in_the_day_s_order(app):
    """The practical started before the theory (a rehearsal, a changed plan): the clock does
    not announce the theory, earlier in the day, as what comes next."""
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        phases.start(session, "practical", 30, actor=CHIEF, now=clock.now())
    answer = app.test_client().get("/api/v1/clock").get_json()
    assert answer["phase"] == "practical" and answer["next_part"] is None


def test_the_timetable_written_back_as_toml_reads_as_the_same_parts():
    """The 赛程 page's edit box starts from `as_toml`: saving it unchanged changes nothing."""
    parts = timetable.parse(SEED_000.encode(), "t.toml", Settings())
    assert timetable.parse(timetable.as_toml(parts).encode(), "t.toml", Settings()) == parts


def test_a_file_too_large_to_be_a_timetable_is_refused_unread(tmp_path, instance):
    huge = tmp_path / "timetable.toml"
    huge.write_bytes(b"#" * (timetable.MAX_BYTES + 1))
    refused = CliRunner().invoke(main, ["--instance", str(instance.path), "timetable", "set",
                                        str(huge)], env={"KIOSK_LANG": "en"})
    assert refused.exit_code != 0
    assert "A timetable is a small text file (at most 1 MB)." in refused.output
    assert _problems("#" * (timetable.MAX_BYTES + 1)) == [
        "A timetable is a small text file (at most 1 MB)."]
