"""The day as a list of parts on 考试控制, the board and a station's page: what runs now, what
comes next, one part at a time, the extension and the early finish in the running part."""

import re
from datetime import timedelta

from kiosk import clock
from kiosk.collect.models import HandIn
from kiosk.field import incidents
from kiosk.stations import phases, timetable
from kiosk.stations.models import EarlyFinish, Extension, PhaseRow, Station
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_stations, make_user

TWO_MODULES = b"""
[[part]]
key = "A"
name = "Module A"
kind = "practical"
minutes = 60

[[part]]
key = "B"
name = "Module B"
kind = "practical"
minutes = 90
"""


def _day(app, role="chief"):
    settings = app.extensions["kiosk"].settings
    with app.extensions["kiosk"].session() as session:
        for station in make_stations(session, 2):
            station.occupied = True
        session.commit()
        timetable.replace(session, timetable.parse(TWO_MODULES, "t.toml", settings),
                          actor=CHIEF, now=clock.now())
        make_user(session, role, username="judge")
    client = app.test_client()
    login(client, "judge")
    return client


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _post_phase(client, **form):
    page = client.get("/control")
    return client.post("/control/phase", data={"csrf_token": csrf_from(page.text), **form},
                       follow_redirects=True)


def test_the_control_page_lists_the_parts_with_now_and_next(app):
    chief = _day(app)
    page = chief.get("/control").text
    assert 'data-part="A"' in page and 'data-part="B"' in page
    assert page.index('data-part="A"') < page.index('data-part="B"')
    assert 'name="minutes" value="60' in page and 'name="minutes" value="90' in page
    started = _post_phase(chief, phase="A", action="start", minutes="60")
    summary = re.search(r'data-day-now>(.*?)</p>', started.text, re.S).group(1)
    assert "Module A" in summary and "Module B" in summary


def test_a_second_part_while_one_runs_is_refused_readably(app):
    chief = _day(app)
    _post_phase(chief, phase="A", action="start", minutes="60")
    refused = _post_phase(chief, phase="B", action="start", minutes="90")
    text = _text(refused.text)
    assert "Module A" in text and "Module B" in text
    with app.extensions["kiosk"].session() as session:
        assert phases.get_phase(session, "B") is None


def test_the_board_counts_the_hand_ins_of_the_part_shown(app):
    judge = _day(app, role="field")
    with app.extensions["kiosk"].session() as session:
        now = clock.now()
        phases.start(session, "A", 60, actor=CHIEF, now=now - timedelta(minutes=61))
        a01 = session.query(Station).filter_by(code="A01").one()
        phases.start(session, "B", 90, actor=CHIEF, now=now)
        session.add(HandIn(station_id=a01.id, part="A", version=1, filename="a.zip", size=1,
                           sha256="0" * 64, received_at=now - timedelta(minutes=30),
                           cipher_sha256="0" * 64, stored_name="x", receipt_no="R1"))
        session.commit()
    board = judge.get("/field").text
    rows = re.findall(r"<tr class=.*?</tr>", board, re.S)
    # In B nobody handed in: A's file does not count for B.
    assert len(rows) == 2 and all("data-no-hand-in" in r for r in rows)
    assert "Module B" in board


def test_an_extension_goes_to_the_part_chosen_and_only_that_station(app):
    judge = _day(app, role="field")
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "A", 60, actor=CHIEF, now=clock.now())
    page = judge.get("/field/A01")
    assert re.search(r'<option value="A" selected', page.text)
    judge.post("/field/A01/act", data={"csrf_token": csrf_from(page.text), "action": "extend",
                                       "part": "A", "minutes": "5", "reason": "设备故障"},
               follow_redirects=True)
    with app.extensions["kiosk"].session() as session:
        row = session.query(PhaseRow).filter_by(name="A").one()
        extensions = session.query(Extension).all()
        assert [(e.phase_id, e.minutes) for e in extensions] == [(row.id, 5)]


def test_an_early_finish_takes_the_running_practical_part(app):
    _day(app, role="field")
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "A", 60, actor=CHIEF, now=clock.now())
        incidents.early_finish(session, "A01", actor=CHIEF, now=clock.now(),
                               settings=app.extensions["kiosk"].settings)
        row = session.query(PhaseRow).filter_by(name="A").one()
        assert session.query(EarlyFinish).one().phase_id == row.id
