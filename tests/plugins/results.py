"""`day`: a day ready for scoring: everyone checked in, both draws run and sealed, the theory
exam over with known scores. `Day.truth` is what the sealed records hide (station → person),
kept by the test only to check the unsealing against."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.checkin import draw_stages
from kiosk.results import mark_entry
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam.models import Sitting
from tests.actors import CHIEF, crypt_judge, scorer
from tests.factories import make_user

WEIGHT = Decimal(15)  # the theory exam's weight in the total


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
                                    full_marks=Decimal(85), actor=scorer(number),
                                    now=clock.now())


def _run(session, stage):
    actor = crypt_judge(stage)
    committed = draw_stages.commit(session, stage, actor=actor, now=clock.now())
    draw_stages.draw(session, stage, "2 7 1 8", commitment=committed.commitment, actor=actor,
                     now=clock.now())
    pairs = draw_stages.plaintext_mapping(session, stage).pairs
    draw_stages.seal(session, stage, event_name="测试", actor=actor, now=clock.now())
    return pairs


@pytest.fixture
def day(event):
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
