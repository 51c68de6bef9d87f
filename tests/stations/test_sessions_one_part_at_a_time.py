"""One part at a time across sessions (场次): the hall's stations serve one session at a time,
so a session's part cannot start while another session's part still runs for any station, nor
be scheduled over one; an extension cannot run into the next session's start."""

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import clock, scope
from kiosk.cli import main
from kiosk.errors import Conflict
from kiosk.models import AuditEvent
from kiosk.stations import exam_sessions, phases
from tests.actors import CHIEF
from tests.stations.two_sessions import two_sessions


def _message(refused) -> str:
    return refused.value.message % {k: str(v) for k, v in refused.value.details.items()}


def test_the_next_session_cannot_start_while_an_extension_of_the_last_still_runs(
        session, instance, now):
    am, pm = two_sessions(session, instance)
    exam_sessions.enter(session, am)
    phases.start(session, "practical", 60, actor=CHIEF, now=now - timedelta(minutes=61))
    phases.extend(session, "A02", 30, "设备故障", actor=CHIEF, now=now - timedelta(minutes=5),
                  phase_name="practical")
    exam_sessions.enter(session, pm)
    with pytest.raises(Conflict) as refused:
        phases.start(session, "theory", 20, actor=CHIEF, now=now)
    said = _message(refused)
    assert "上午场" in said and "A02" in said and "one session at a time" in said
    assert phases.get_phase(session, "theory") is None  # nothing changed
    # Its own session is not in the way of itself: PM's clock had nothing yet.
    exam_sessions.enter(session, am)
    phases.end(session, "practical", actor=CHIEF, now=now)
    exam_sessions.enter(session, pm)
    phases.start(session, "theory", 20, actor=CHIEF, now=now)
    assert clock.phase_state(phases.as_rule(phases.get_phase(session, "theory")), now) == \
        "running"


def test_a_session_cannot_be_scheduled_over_another_sessions_part(session, instance, now):
    am, pm = two_sessions(session, instance)
    exam_sessions.enter(session, am)
    phases.start(session, "practical", 150, actor=CHIEF, now=now, at=now + timedelta(hours=1))
    exam_sessions.enter(session, pm)
    with pytest.raises(Conflict) as refused:
        phases.start(session, "practical", 150, actor=CHIEF, now=now,
                     at=now + timedelta(hours=2))
    assert "上午场" in _message(refused)
    # After AM's part, PM may be scheduled.
    phases.start(session, "practical", 150, actor=CHIEF, now=now, at=now + timedelta(hours=4))


def test_an_extension_cannot_run_into_the_next_sessions_start(session, instance, now):
    am, pm = two_sessions(session, instance)
    exam_sessions.enter(session, am)
    phases.start(session, "practical", 60, actor=CHIEF, now=now)
    exam_sessions.enter(session, pm)
    phases.start(session, "theory", 20, actor=CHIEF, now=now,
                 at=now + timedelta(minutes=70))
    exam_sessions.enter(session, am)
    with pytest.raises(Conflict) as refused:
        phases.extend(session, "A01", 30, "设备故障", actor=CHIEF, now=now)
    assert "下午场" in _message(refused)
    phases.extend(session, "A01", 5, "设备故障", actor=CHIEF, now=now)


def test_a_pause_in_one_session_moves_the_next_sessions_scheduled_start(
        session, instance, now):
    am, pm = two_sessions(session, instance)
    exam_sessions.enter(session, am)
    phases.start(session, "practical", 60, actor=CHIEF, now=now)
    exam_sessions.enter(session, pm)
    phases.start(session, "theory", 20, actor=CHIEF, now=now, at=now + timedelta(minutes=60))
    exam_sessions.enter(session, am)
    phases.pause(session, "practical", actor=CHIEF, now=now + timedelta(minutes=10))
    phases.resume(session, "practical", actor=CHIEF, now=now + timedelta(minutes=25))
    exam_sessions.enter(session, pm)
    assert phases.get_phase(session, "theory").starts_at == now + timedelta(minutes=75)
    with scope.event_wide(session):
        moved = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "phase.rescheduled")).one()
    assert '"session": "PM"' in moved.details or '"PM"' in moved.details


def test_the_phase_and_timetable_commands_name_their_session(instance):
    runner = CliRunner()
    env = {"KIOSK_INSTANCE": str(instance.path)}
    for code, groups in (("AM", "职工组"), ("PM", "学生组")):
        assert runner.invoke(main, ["sessions", "add", code, "--name", f"{code}场",
                                    "--groups", groups], env=env).exit_code == 0
    started = runner.invoke(main, ["phase", "start", "practical", "--session", "PM", "--json"],
                            env=env)
    assert started.exit_code == 0, started.output
    assert json.loads(started.output)["session"] == {"code": "PM", "name": "PM场"}
    shown = runner.invoke(main, ["timetable", "show", "--session", "AM"], env=env)
    assert shown.exit_code == 0 and "AM场" in shown.output
    refused = runner.invoke(main, ["phase", "start", "practical", "--session", "AM",
                                   "--minutes", "5"], env=env)
    assert refused.exit_code != 0 and "PM场" in refused.output
