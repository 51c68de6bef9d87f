"""Phases: a start is never in the past; a scheduled start can be changed or cancelled before it
begins; every message names a phase by its display name (理论知识考试, 实操技能考核)."""

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.errors import Conflict, KioskError
from kiosk.models import AuditEvent
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_user


def _actions(session) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
            if e.action.startswith("phase.")]


def test_a_start_time_in_the_past_is_refused_and_changes_nothing(session, now):
    with pytest.raises(KioskError) as refused:
        phases.start(session, "practical", 150, actor=CHIEF, now=now,
                     at=now - timedelta(days=2000))
    assert "past" in refused.value.message
    assert clock.phase_state(phases.as_rule(phases.get_phase(session, "practical")),
                             now) == "not_started"
    assert _actions(session) == []
    # The phase can still be started: nothing was left behind.
    phases.start(session, "practical", 150, actor=CHIEF, now=now)
    assert clock.phase_state(phases.as_rule(phases.get_phase(session, "practical")),
                             now) == "running"


def test_a_scheduled_start_can_be_changed_and_cancelled_before_it_begins(session, now):
    first, later = now + timedelta(hours=1), now + timedelta(hours=2)
    phases.start(session, "practical", 150, actor=CHIEF, now=now, at=first)
    row = phases.start(session, "practical", 120, actor=CHIEF, now=now, at=later)
    assert row.starts_at == later and row.ends_at == later + timedelta(minutes=120)
    phases.cancel(session, "practical", actor=CHIEF, now=now)
    assert clock.phase_state(phases.as_rule(phases.get_phase(session, "practical")),
                             now) == "not_started"
    assert phases.current(session, now) is None
    assert _actions(session) == ["phase.scheduled", "phase.rescheduled",
                                 "phase.schedule_cancelled"]
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "phase.rescheduled")).one()
    assert clock.iso(first) in event.details and clock.iso(later) in event.details


def test_a_running_phase_cannot_be_cancelled_or_rescheduled(session, now):
    phases.start(session, "practical", 150, actor=CHIEF, now=now)
    with pytest.raises(Conflict):
        phases.cancel(session, "practical", actor=CHIEF, now=now)
    with pytest.raises(Conflict):
        phases.start(session, "practical", 150, actor=CHIEF, now=now,
                     at=now + timedelta(hours=1))
    with pytest.raises(Conflict):
        phases.cancel(session, "theory", actor=CHIEF, now=now)  # nothing scheduled


def test_the_display_name_is_the_competition_documents_term(session):
    from kiosk.i18n import cli_gettext

    assert cli_gettext(phases.display_name(session, "theory")) == "理论知识考试"
    assert cli_gettext(phases.display_name(session, "practical")) == "实操技能考核"


def _cli(path, *args):
    return CliRunner().invoke(main, ["--instance", str(path), *args], env={"KIOSK_LANG": "zh"})


def test_the_cli_refuses_a_past_start_with_the_reason_and_cancels_a_scheduled_one(
        kiosk_instance):
    past = _cli(kiosk_instance.path, "phase", "start", "practical", "--at", "2020-01-01T09:00")
    assert past.exit_code != 0
    assert "已过" in past.output and "2020-01-01 09:00" in past.output, past.output
    soon = (clock.now() + timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    assert _cli(kiosk_instance.path, "phase", "start", "practical", "--at", soon).exit_code == 0
    cancelled = _cli(kiosk_instance.path, "phase", "cancel", "practical")
    assert cancelled.exit_code == 0, cancelled.output
    assert "实操技能考核" in cancelled.output
    again = _cli(kiosk_instance.path, "phase", "cancel", "practical")
    assert again.exit_code != 0
    started = _cli(kiosk_instance.path, "phase", "start", "practical", "--minutes", "5")
    assert started.exit_code == 0, started.output
    twice = _cli(kiosk_instance.path, "phase", "start", "practical")
    assert twice.exit_code != 0
    # The phase is named as the documents name it, never by its key, inside Chinese text.
    assert "实操技能考核已经开始" in twice.output and "practical" not in twice.output


def _chief(app):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="chief")
    client = app.test_client()
    login(client, "chief")
    return client


def _post(client, **form):
    token = csrf_from(client.get("/control").text)
    return client.post("/control/phase", data={"csrf_token": token, **form},
                       follow_redirects=True)


def test_the_control_page_refuses_a_past_start_and_changes_or_cancels_a_scheduled_one(app):
    chief = _chief(app)
    refused = _post(chief, phase="practical", action="start", minutes="150",
                    at="2020-01-01T09:00")
    assert "已过" in refused.text and "2020-01-01 09:00" in refused.text
    soon = clock.now() + timedelta(hours=1)
    later = clock.now() + timedelta(hours=2)
    scheduled = _post(chief, phase="practical", action="start", minutes="150",
                      at=soon.astimezone().strftime("%Y-%m-%dT%H:%M"))
    assert soon.astimezone().strftime("%H:%M") in scheduled.text
    changed = _post(chief, phase="practical", action="start", minutes="150",
                    at=later.astimezone().strftime("%Y-%m-%dT%H:%M"))
    assert later.astimezone().strftime("%Y-%m-%d %H:%M") in changed.text
    assert 'value="cancel"' in changed.text
    cancelled = _post(chief, phase="practical", action="cancel")
    assert later.astimezone().strftime("%Y-%m-%d %H:%M") not in cancelled.text
    with app.extensions["kiosk"].session() as session:
        assert _actions(session) == ["phase.scheduled", "phase.rescheduled",
                                     "phase.schedule_cancelled"]


def test_a_message_that_names_a_phase_uses_its_display_name(app):
    chief = _chief(app)
    _post(chief, phase="practical", action="start", minutes="150")
    twice = _post(chief, phase="practical", action="start", minutes="150")
    assert "实操技能考核已经开始" in twice.text
    assert "practical 已" not in twice.text
    paused = _post(chief, phase="theory", action="pause")
    assert "理论知识考试尚未开始" in paused.text
