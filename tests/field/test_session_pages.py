"""Each staff page of one session's day is about the session chosen in the header, says which
(场次：…), and shows only that session's stations, clocks, hand-ins, task books, announcements
and incidents — with the same stations' codes in both sessions."""

import re

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.collect.hand_ins import hand_in_counts
from kiosk.field import dashboard as board
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from tests.stations.two_sessions import staff_on, two_session_day

OWN = {"AM": "上午", "PM": "下午"}


def said_session(html: str) -> str | None:
    """The session a page says it is about (its heading's 场次), None if it names none."""
    found = re.search(r"data-page-session>· [^<]*?[：:]\s*(\S+场)</span>", html)
    return found.group(1) if found else None


@pytest.fixture
def day(app):
    return two_session_day(app)


def _other(code: str) -> str:
    return "PM" if code == "AM" else "AM"


@pytest.mark.parametrize("code", ["AM", "PM"])
def test_each_page_says_its_session_and_shows_its_data_only(app, day, code):
    client = staff_on(app, code)
    mine, theirs = OWN[code], OWN[_other(code)]
    pages = {
        "/control": [f"{mine}公告"],
        "/timetable": [],
        "/field": [],
        "/collect": [day.receipts[code]],
        "/materials": [f"{mine}任务书.pdf"],
        "/materials/fetches": [f"{mine}任务书.pdf"],
    }
    for url, expected in pages.items():
        page = client.get(url, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, url
        assert said_session(page.text) == f"{mine}场", url
        for text in expected:
            assert text in page.text, (url, text)
        assert f"{theirs}公告" not in page.text and f"{theirs}任务书" not in page.text, url
        assert day.receipts[_other(code)] not in page.text, url
    station = "A01" if code == "AM" else "A02"
    detail = client.get(f"/field/{station}", headers={"Accept-Language": "zh-CN"}).text
    assert f"{mine}违规" in detail and said_session(detail) == f"{mine}场"
    other_station = "A02" if code == "AM" else "A01"
    assert f"{theirs}违规" not in client.get(f"/field/{other_station}").text


def test_the_desk_prints_only_its_sessions_receipts(app, day):
    client = staff_on(app, "AM")
    assert client.get(f"/collect/receipts/{day.receipts['AM']}.pdf").status_code == 200
    assert client.get(f"/collect/receipts/{day.receipts['PM']}.pdf").status_code == 404


def test_the_board_counts_each_sessions_hand_ins_and_incidents_on_its_own_stations(app, day):
    instance = day.instance
    for code, station in (("AM", "A01"), ("PM", "A02")):
        with instance.session() as session:
            exam_sessions.enter(session, exam_sessions.by_code(session, code))
            rows, current = board.dashboard(session, clock.now(), instance.settings)
            by_code = {r.code: r for r in rows}
            assert set(by_code) == {"A01", "A02"}
            assert [c for c, r in by_code.items() if r.incidents] == [station]
            assert [c for c, r in by_code.items() if r.online] == [station]
            ids = {s.id: s.code for s in session.scalars(select(Station))}
            counted = hand_in_counts(session, "practical")
            assert [ids[i] for i in counted] == [station]
    # PM's board works on PM's running practical, AM's on its own day (ended).
    assert current.name == "practical" and by_code[station].hand_ins == 1
