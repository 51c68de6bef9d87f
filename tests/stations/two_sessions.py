"""Two sessions (场次) on the hall's stations, for the tests of each session's own day: AM
(上午场, 职工组) and PM (下午场, 学生组), each with the same stations (other rows)."""

from __future__ import annotations

from kiosk import clock
from kiosk.stations import exam_sessions
from tests.actors import CHIEF
from tests.factories import make_stations


def two_sessions(session, instance, stations: int = 2):
    make_stations(session, stations)
    settings = instance.settings
    am = exam_sessions.add(session, "AM", name="上午场", groups=["职工组"], capacity=None,
                           settings=settings, actor=CHIEF, now=clock.now())
    pm = exam_sessions.add(session, "PM", name="下午场", groups=["学生组"], capacity=None,
                           settings=settings, actor=CHIEF, now=clock.now())
    return am, pm
