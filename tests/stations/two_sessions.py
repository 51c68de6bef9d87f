"""Two sessions (场次) on the hall's stations, for the tests of each session's own day: AM
(上午场, 职工组) and PM (下午场, 学生组), each with the same stations (other rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

import pyrage
from sqlalchemy import select

from kiosk import clock
from kiosk.field import announcements, incidents
from kiosk.judge_keys import add_judge_key
from kiosk.materials import task_books
from kiosk.stations import exam_sessions, phases
from kiosk.stations.models import Station
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user


def two_sessions(session, instance, stations: int = 2):
    make_stations(session, stations)
    settings = instance.settings
    am = exam_sessions.add(session, "AM", name="上午场", groups=["职工组"], capacity=None,
                           settings=settings, actor=CHIEF, now=clock.now())
    pm = exam_sessions.add(session, "PM", name="下午场", groups=["学生组"], capacity=None,
                           settings=settings, actor=CHIEF, now=clock.now())
    return am, pm


@dataclass
class TwoSessionDay:
    """AM's day over (its practical with a hand-in at A01, an incident, an announcement and a
    task book), PM's practical running (the same at A02): each session's own data, on the
    same stations' codes."""

    instance: object
    identity: object
    receipts: dict[str, str] = field(default_factory=dict)  # session → receipt_no
    payloads: dict[str, str] = field(default_factory=dict)  # session → receipt payload
    clients: dict[str, object] = field(default_factory=dict)  # session → workstation client


def _one_sessions_day(app, day: TwoSessionDay, code: str, station: str, word: str) -> None:
    instance = day.instance
    now = clock.now()
    with instance.session() as session:
        exam_session = exam_sessions.enter(session, exam_sessions.by_code(session, code))
        assert exam_session.code == code
        announcements.announce(session, f"{word}公告", actor=CHIEF, now=now)
        task_books.add(session, task_books.folder_of(instance.path), instance.settings,
                       "practical", f"{word}任务书.pdf", BytesIO(f"{word}".encode()),
                       limit=2**20, actor=CHIEF, now=now)
        phases.start(session, "practical", 60, actor=CHIEF, now=now)
        incidents.note_incident(session, station, f"{word}违规", actor=CHIEF, now=now)
        row = session.scalars(select(Station).where(Station.code == station)).one()
        badge = issue_badge(session, row, instance.badge_key())
    client = app.test_client()
    assert client.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200
    answer = client.post("/api/v1/collect/upload?filename=" + f"{word}作品.zip",
                         data=f"{word} work".encode(),
                         headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 201, answer.get_json()
    day.receipts[code] = answer.get_json()["receipt_no"]
    day.payloads[code] = answer.get_json()["receipt_payload"]
    day.clients[code] = client


def end_the_day(instance, code: str) -> None:
    """Every part of session `code` ended (theory started and ended too): its day is over."""
    now = clock.now()
    with instance.session() as session:
        exam_sessions.enter(session, exam_sessions.by_code(session, code))
        for key in ("practical", "theory"):
            row = phases.get_phase(session, key)
            if row is None or row.starts_at is None:
                phases.start(session, key, 20, actor=CHIEF, now=now)
            if phases.get_phase(session, key).ended_at is None:
                phases.end(session, key, actor=CHIEF, now=now)


def two_session_day(app) -> TwoSessionDay:
    instance = app.extensions["kiosk"]
    identity = pyrage.x25519.Identity.generate()
    with instance.session() as session:
        two_sessions(session, instance)
        add_judge_key(session, "archive judge", str(identity.to_public()), "archive",
                      actor=CHIEF, now=clock.now())
    day = TwoSessionDay(instance, identity)
    _one_sessions_day(app, day, "AM", "A01", "上午")
    end_the_day(instance, "AM")
    _one_sessions_day(app, day, "PM", "A02", "下午")
    return day


def staff_on(app, code: str, role: str = "supervisor"):
    """A staff client signed in, with session `code` chosen in the header."""
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        user = make_user(session, role)
    client = app.test_client()
    login(client, user.username)
    page = client.get("/staff")
    client.post("/session", data={"code": code, "csrf_token": csrf_from(page.text)})
    return client
