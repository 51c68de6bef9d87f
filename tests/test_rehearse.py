"""`kiosk rehearse` plays the whole day; CI runs it as organisers would the evening before."""

import json

from click.testing import CliRunner

from kiosk.cli import main


def test_the_rehearsal_plays_every_step_of_the_day(tmp_path):
    result = CliRunner().invoke(main, ["rehearse", "--to", str(tmp_path / "r"), "--stations",
                                       "6", "--json"])
    report = json.loads(result.output)
    failed = [s for s in report["steps"] if not s["ok"]]
    assert result.exit_code == 0 and report["ok"], failed
    names = [s["name"] for s in report["steps"]]
    # Without a timetable: the default day (theory, then practical), step for step as ever.
    assert names == [
        "demo instance", "check-in", "first draw, record sheet, seal",
        "second draw, record sheet, seal", "station badges", "theory exam starts",
        "stations take the theory exam", "theory exam ends", "grading", "practical exam starts",
        "hand-in with receipts", "practical exam ends", "sealed export of the hand-ins",
        "scoring, review, lock", "unsealing", "results sheet", "audit log",
        "backup and restore"]
    for pdf in ("rehearsal-record-1.pdf", "rehearsal-badges.pdf", "rehearsal-results.pdf"):
        assert (tmp_path / "r" / pdf).read_bytes()[:5] == b"%PDF-"


def test_a_failing_step_stops_the_rehearsal_and_exits_1(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "something").write_text("not empty")
    result = CliRunner().invoke(main, ["rehearse", "--to", str(tmp_path / "r"), "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 1 and not report["ok"]
    assert [s["name"] for s in report["steps"]] == ["demo instance"]
    assert "not empty" in report["steps"][0]["detail"] or "demo" in report["steps"][0]["detail"]


def test_a_rehearsal_of_two_sessions_gives_one_ranking_per_group(tmp_path):
    """`kiosk rehearse --sessions 2`: the session draw, each session's day on the same
    stations (a morning badge refused in the afternoon), one scoring, unsealing session by
    session, one ranking per group."""
    result = CliRunner().invoke(main, ["rehearse", "--to", str(tmp_path / "r"), "--stations",
                                       "4", "--sessions", "2", "--json"])
    report = json.loads(result.output)
    failed = [s for s in report["steps"] if not s["ok"]]
    assert result.exit_code == 0 and report["ok"], failed
    steps = {s["name"]: s["detail"] for s in report["steps"]}
    assert "AM 40, PM 20" in steps["session draw at the leaders' meeting"]
    assert "上午场" in steps["PM: a badge of the session before refused"]
    assert steps["one ranking per group"] == "one ranking per group: 学生组 4 (PM); 职工组 4 (AM)"
    for pdf in ("rehearsal-session-draw.pdf", "rehearsal-badges-AM.pdf",
                "rehearsal-badges-PM.pdf", "rehearsal-record-1-PM.pdf", "rehearsal-results.pdf"):
        assert (tmp_path / "r" / pdf).read_bytes()[:5] == b"%PDF-", pdf


def test_sessions_and_a_timetable_are_not_rehearsed_together(tmp_path):
    timetable = tmp_path / "t.toml"
    timetable.write_text('[[part]]\nkey = "A"\nname = "A"\nkind = "practical"\nminutes = 9\n',
                         "utf-8")
    result = CliRunner().invoke(main, ["rehearse", "--to", str(tmp_path / "r"), "--sessions",
                                       "2", "--timetable", str(timetable)])
    assert result.exit_code != 0 and "--timetable" in result.output
