"""`exam_event`: an event ready for the theory exam: a bank, stations with badges, a spec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from kiosk import clock
from kiosk.stations import phases
from kiosk.theory_exam.papers import SpecInput, key_maps, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations

GRACE = timedelta(seconds=2)  # the answer-save grace the tests pass to the exam services


def bank_csv(single=12, tf=8) -> bytes:
    rows = ["题型,题干,选项A,选项B,选项C,选项D,答案,分值,分类"]
    rows += [f"单选,单选题{i}？,甲{i},乙{i},丙{i},丁{i},{'ABCD'[i % 4]},1,"
             f"{'类一' if i % 2 else '类二'}" for i in range(single)]
    rows += [f"判断,判断题{i}。,,,,,{'对' if i % 2 else '错'},1,类一" for i in range(tf)]
    return "\n".join(rows).encode()


@dataclass
class Exam:
    instance: object
    session: object
    stations: list
    badges: dict

    def start(self, minutes=20):
        return phases.start(self.session, "theory", minutes, actor=CHIEF, now=clock.now())


@pytest.fixture
def exam_event(instance, session):
    import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
    stations = make_stations(session, 4)
    badges = {s.code: issue_badge(session, s, instance.badge_key()) for s in stations}
    set_spec(session, SpecInput(single=10, tf=5, single_points=Decimal("2"),
                                tf_points=Decimal("1")), actor=CHIEF, now=clock.now())
    key_maps.clear()
    return Exam(instance, session, stations, badges)
