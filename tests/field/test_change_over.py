"""The change-over between sessions (场次): once a session's day is over the hall serves the
next one; the control page says so; the new session's board starts clean; the hall clock and
the workstation name the session they are about."""

import re

from sqlalchemy import select

from kiosk import clock
from kiosk.field import dashboard as board
from kiosk.field import sessions_shown
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from tests.factories import issue_badge
from tests.stations.two_sessions import end_the_day, staff_on, two_sessions


def _said(html: str, marker: str) -> str:
    found = re.search(rf"<[^>]*{marker}[^>]*>([^<]*)<", html)
    return found.group(1).strip() if found else ""


def _am_over(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        am, _pm = two_sessions(session, instance)
        exam_sessions.enter(session, am)
        badge = issue_badge(session, session.scalars(select(Station)).first(),
                            instance.badge_key())
    client = app.test_client()
    assert client.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200
    client.get("/api/v1/clock")  # its heartbeat: AM's A01 is online
    end_the_day(instance, "AM")
    return instance


def test_once_a_sessions_day_is_over_the_control_page_names_the_next_session(app):
    _am_over(app)
    am_page = staff_on(app, "AM").get("/control").text
    notice = _said(am_page, "data-change-over")
    assert "下午场" in notice
    pm_page = staff_on(app, "PM").get("/control").text
    assert "data-change-over" not in pm_page  # PM's day has not begun


def test_the_next_sessions_board_starts_clean(app):
    instance = _am_over(app)
    now = clock.now()
    with instance.session() as session:
        exam_sessions.enter(session, exam_sessions.by_code(session, "AM"))
        am_rows, _ = board.dashboard(session, now, instance.settings)
        exam_sessions.enter(session, exam_sessions.by_code(session, "PM"))
        pm_rows, current = board.dashboard(session, now, instance.settings)
    assert [r.code for r in am_rows if r.last_seen] == ["A01"]
    assert [r.code for r in pm_rows if r.last_seen or r.online or r.hand_ins] == []
    assert current is None


def test_the_hall_clock_follows_the_session_the_hall_serves(app):
    instance = _am_over(app)
    url = f"/hall/{instance.hall_token()}"
    assert _said(app.test_client().get(url).text, "data-session-name") == "下午场"
    with instance.session() as session:
        assert sessions_shown.clock_session(session, instance.settings) is None  # of no one
        exam_sessions.enter(session, exam_sessions.current(session, instance.settings,
                                                           clock.now()))
        assert sessions_shown.clock_session(session, instance.settings) == {
            "code": "PM", "name": "下午场"}


def test_without_sessions_the_clock_and_the_hall_name_none(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        assert sessions_shown.clock_session(session, instance.settings) is None
    page = app.test_client().get(f"/hall/{instance.hall_token()}").text
    assert _said(page, "data-session-name") == ""
