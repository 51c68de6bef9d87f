"""The field judges' dashboard: alarm colours only when something is wrong for the state of the
day, and a refresh that is a script, not a meta refresh."""

import re
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from kiosk import clock
from kiosk.field import dashboard
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import login, make_stations, make_user


def _board(app):
    with app.extensions["kiosk"].session() as session:
        for station in make_stations(session, 3):
            station.occupied = True  # drawn: a contestant will sit here
        session.commit()
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    return judge


def _alarming_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*\boffline\b[^"]*">\s*<td><a [^>]*><strong>(\w+)', html)


def test_stations_that_never_connected_are_not_an_alarm_before_the_exam(app):
    judge = _board(app)
    board = judge.get("/field").text
    assert _alarming_rows(board) == []
    assert "尚未连接" in board  # said plainly, in a neutral colour
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "practical", 150, actor=CHIEF, now=clock.now(),
                     at=clock.now() + timedelta(hours=1))
    assert _alarming_rows(judge.get("/field").text) == []  # scheduled: still fine


def test_a_drawn_station_offline_during_the_exam_is_an_alarm(app):
    judge = _board(app)
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "practical", 150, actor=CHIEF, now=clock.now())
    assert _alarming_rows(judge.get("/field").text) == ["A01", "A02", "A03"]


def test_the_alarm_rule(now):
    row = dashboard.StationRow("A01", spare=False, occupied=True, bound_ip=None)
    assert not dashboard.offline_alarm(row, "not_started", now)
    assert not dashboard.offline_alarm(row, "scheduled", now)
    assert dashboard.offline_alarm(row, "running", now)
    assert dashboard.offline_alarm(row, "paused", now)
    assert not dashboard.offline_alarm(row, "ended", now)
    row.deadline = now - timedelta(minutes=1)  # its time is over: gone home is fine
    assert not dashboard.offline_alarm(row, "running", now)
    row.deadline, row.online = now + timedelta(minutes=1), True
    assert not dashboard.offline_alarm(row, "running", now)
    spare = dashboard.StationRow("A09", spare=True, occupied=False, bound_ip=None)
    assert not dashboard.offline_alarm(spare, "running", now)  # nobody was meant to be there
    spare.last_seen = now - timedelta(minutes=5)  # someone used it, and it dropped
    assert dashboard.offline_alarm(spare, "running", now)


def test_the_dashboard_has_no_meta_refresh_but_a_script_and_a_link(app):
    judge = _board(app)
    board = judge.get("/field").text
    assert 'http-equiv="refresh"' not in board
    assert "js/dashboard.js" in board
    assert re.search(r"<noscript>.*<a href=\"[^\"]*\">[^<]*刷新", board, re.S)


STATES = ("not_started", "scheduled", "running", "paused", "ended")


@given(state=st.sampled_from(STATES), online=st.booleans(), occupied=st.booleans(),
       seen=st.booleans(), deadline_in=st.one_of(st.none(), st.integers(-600, 600)))
def test_an_alarm_only_for_a_seat_in_use_offline_while_its_time_runs(state, online, occupied,
                                                                     seen, deadline_in):
    now = clock.now()
    row = dashboard.StationRow("A01", spare=False, occupied=occupied, bound_ip=None, online=online,
                           last_seen=now - timedelta(minutes=3) if seen else None,
                           deadline=None if deadline_in is None
                           else now + timedelta(seconds=deadline_in))
    time_runs = state in ("running", "paused") and (deadline_in is None or deadline_in >= 0)
    assert dashboard.offline_alarm(row, state, now) == (
        not online and (occupied or seen) and time_runs)
