"""A day ready for scoring: everyone checked in, both draws run and sealed, the theory exam
over with known scores. `Day.truth` is what the sealed records hide (station → person), kept
by the test only to check the unsealing against."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.audit import Actor
from kiosk.checkin import draw_stages
from kiosk.results import mark_entry
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam.models import Sitting
from tests.checkin.conftest import event  # noqa: F401  (the fixture)
from tests.factories import make_user

CHIEF = Actor("chief", "chief")
SUPERVISOR = Actor("sup", "supervisor")
WEIGHT = Decimal(15)


@dataclass
class Day:
    event: object
    truth: dict  # station -> id_number
    stations: list

    @property
    def session(self):
        return self.event.session

    def marks(self, marks: dict[str, str], entry: int | None = None) -> None:
        text = "赛位号,分数\n" + "".join(f"{code},{mark}\n" for code, mark in marks.items())
        for number in (entry,) if entry else (1, 2):
            mark_entry.import_marks(self.session, text.encode(), "marks.csv", entry=number,
                                 full_marks=Decimal(85), actor=Actor(f"s{number}", "scorer"),
                                 now=clock.now())


def _run(session, stage):
    actor = Actor(f"crypt{stage}", f"crypt{stage}")
    committed = draw_stages.commit(session, stage, actor=actor, now=clock.now())
    draw_stages.draw(session, stage, "2 7 1 8", commitment=committed.commitment, actor=actor,
               now=clock.now())
    pairs = draw_stages.plaintext_mapping(session, stage).pairs
    draw_stages.seal(session, stage, event_name="测试", actor=actor, now=clock.now())
    return pairs


@pytest.fixture
def day(event):  # noqa: F811
    session = event.session
    event.checkin()
    people = {p["contestant_no"]: p["id_number"] for p in _run(session, 1)}
    truth = {p["station"]: people[p["contestant_no"]] for p in _run(session, 2)}
    phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
    phases.end(session, "theory", actor=CHIEF, now=clock.now())
    stations = sorted(truth)
    ids = dict(session.execute(select(Station.code, Station.id)).all())
    with draw_stages.write_transaction(session):
        for index, code in enumerate(stations):
            session.add(Sitting(station_id=ids[code], score=Decimal(60 + 3 * index),
                                answered=100, time_used_s=600.0 + index, graded_at=clock.now()))
    make_user(session, "supervisor", "sup")
    return Day(event, truth, stations)
