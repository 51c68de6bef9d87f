"""What the field judges and the chief judge read on their pages: every code in words, what was
typed kept on a refusal, headed tables, minutes read by the one rule for typed numbers."""

import re
from datetime import timedelta

import pytest

from kiosk import clock
from kiosk.field import telemetry
from kiosk.stations import binding, phases
from kiosk.stations.models import Station, TelemetryEvent
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_stations, make_user


def _judge(app, role="field"):
    with app.extensions["kiosk"].session() as session:
        for station in make_stations(session, 2):
            station.occupied = True
        session.commit()
        make_user(session, role, username="judge")
    client = app.test_client()
    login(client, "judge")
    return client


def _act(client, code, **form):
    page = client.get(f"/field/{code}")
    return client.post(f"/field/{code}/act", data={"csrf_token": csrf_from(page.text), **form},
                       follow_redirects=True)


def test_every_telemetry_kind_has_a_label():
    assert sorted(set(telemetry.TELEMETRY_KINDS) | {binding.REFUSED_WORKSTATION}) == \
        sorted(telemetry.TELEMETRY_LABELS)
    assert telemetry.telemetry_label("something_new") is None  # shown raw


def test_a_refused_workstation_reads_in_words_on_the_board_and_the_station(app):
    judge = _judge(app)
    with app.extensions["kiosk"].session() as session:
        a01 = session.query(Station).filter_by(code="A01").one()
        session.add(TelemetryEvent(station_id=a01.id, kind=binding.REFUSED_WORKSTATION,
                                   at=clock.now(), detail="10.0.0.9 → 10.0.0.1"))
        session.add(TelemetryEvent(station_id=a01.id, kind="blur", at=clock.now(), detail=""))
        session.commit()
    for page in (judge.get("/field").text, judge.get("/field/A01").text):
        assert "other_workstation" not in page
        assert "在另一台工位机上登录被拒" in page
        assert "blur" not in re.sub(r"<[^>]+>", " ", page).replace("blur()", "")


def test_a_refused_incident_keeps_what_the_judge_typed(app):
    judge = _judge(app)
    page = _act(judge, "A01", action="incident", rule="擅自离开赛位", note="离开约五分钟",
                deduction="abc%")
    assert "不是有效的扣分" in page.text or "abc%" in page.text
    assert 'value="擅自离开赛位"' in page.text
    assert ">离开约五分钟</textarea>" in page.text
    assert 'value="abc%"' in page.text
    # Once recorded, the form is empty again for the next incident.
    page = _act(judge, "A01", action="incident", rule="擅自离开赛位", note="离开", deduction="5%")
    assert 'value="擅自离开赛位"' not in page.text


def test_the_logs_have_column_headings(app):
    judge = _judge(app)
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    _act(judge, "A01", action="extend", minutes="5", reason="设备故障")
    page = _act(judge, "A01", action="incident", rule="规定", note="说明", deduction="2").text
    extensions = page.split("延时记录")[1].split("</table>")[0]
    incidents = page.rsplit("违规记录</h2>", 1)[1].split("</table>")[0]
    for heading in ("时间", "分钟", "原因", "批准人"):
        assert f">{heading}</th>" in extensions, heading
    for heading in ("时间", "违反规定", "情况说明", "拟扣分", "记录人"):
        assert f">{heading}</th>" in incidents, heading


@pytest.mark.parametrize("typed", ["nan", "inf", "1e1", "-5", "٥", "five", "0"])
def test_extension_minutes_that_are_not_a_number_are_refused_with_the_reason(app, typed):
    judge = _judge(app)
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    page = _act(judge, "A01", action="extend", minutes=typed, reason="设备故障").text
    assert "flash-error" in page
    assert f'value="{typed}"' in page  # kept, to correct
    assert 'value="设备故障"' in page
    with app.extensions["kiosk"].session() as session:
        assert session.query(phases.Extension).count() == 0


def test_full_width_minutes_are_read_as_what_they_mean(app):
    judge = _judge(app)
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    page = _act(judge, "A01", action="extend", minutes="１０", reason="设备故障").text
    assert "flash-success" in page and "10" in page
    with app.extensions["kiosk"].session() as session:
        assert [e.minutes for e in session.query(phases.Extension)] == [10]


# ----------------------------------------------------------------------------- exam control

def _control(client, **form):
    page = client.get("/control")
    return client.post("/control/phase", data={"csrf_token": csrf_from(page.text), **form},
                       follow_redirects=True).text


def test_an_ended_phase_says_when_it_ended_not_its_planned_minutes(app):
    chief = _judge(app, role="chief")
    with app.extensions["kiosk"].session() as session:
        start = clock.now() - timedelta(minutes=3)
        phases.start(session, "theory", 20, actor=CHIEF, now=start)
        phases.end(session, "theory", actor=CHIEF, now=start + timedelta(minutes=2))
    page = chief.get("/control").text
    card = page.split("phase-card state-ended")[1].split("</section>")[0]
    ended = (start + timedelta(minutes=2)).astimezone().strftime("%H:%M:%S")
    assert "· 20.0 分钟" not in card and "· 20 分钟" not in card
    assert "已结束：<strong>" in card and ended in card
    assert "提前结束" in card
    assert "计划 20 分钟" in card


def test_schedule_change_and_cancel_each_say_what_happened(app):
    chief = _judge(app, role="chief")
    later = (clock.now() + timedelta(hours=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    page = _control(chief, phase="practical", action="start", minutes="150", at=later)
    assert "flash-success" in page and "实操技能考核将于" in page
    later2 = (clock.now() + timedelta(hours=3)).astimezone().strftime("%Y-%m-%dT%H:%M")
    page = _control(chief, phase="practical", action="start", minutes="150", at=later2)
    assert "flash-success" in page and "开始时间已改为" in page
    page = _control(chief, phase="practical", action="cancel")
    assert "flash-success" in page and "已取消" in page
    page = _control(chief, phase="practical", action="start", minutes="150")
    assert "flash-success" in page and "实操技能考核已开始" in page


def test_the_minutes_rule():
    from kiosk import numbers

    assert numbers.parse_minutes("10") == 10.0
    assert numbers.parse_minutes("１０．５") == 10.5
    assert numbers.parse_minutes(" 2.5 ") == 2.5
    for typed in ("nan", "inf", "1e1", "-5", "0", "٥", "", None, "10 分钟", "1,5"):
        with pytest.raises(numbers.NotMinutes):
            numbers.parse_minutes(typed)
