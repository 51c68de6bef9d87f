"""`event`: a roster of twelve, fourteen stations, and judges' keys for both draws."""

from __future__ import annotations

from dataclasses import dataclass

import pyrage
import pytest

from kiosk import clock
from kiosk.checkin.roster import check_in, import_roster
from kiosk.judge_keys import add_judge_key
from tests.actors import SOMEONE
from tests.factories import id_number, make_stations


@dataclass
class Event:
    instance: object
    session: object
    people: list
    keys: dict  # role -> pyrage identity

    def checkin(self, count=None):
        for person in self.people[:count]:
            check_in(self.session, person.id, staff_id=None, actor=SOMEONE, now=clock.now())


@pytest.fixture
def event(instance, session):
    rows = "\r\n".join(f"选手{i:02d},{id_number(i)},单位{i % 3},{'职工组' if i % 2 else '学生组'}"
                       for i in range(1, 13))
    people = import_roster(session, ("姓名,身份证号,单位,组别\r\n" + rows).encode(),
                           "roster.csv", groups=["职工组", "学生组"], actor=SOMEONE,
                           now=clock.now())
    make_stations(session, 14)
    keys = {}
    for role in ("crypt1", "crypt2"):
        identity = pyrage.x25519.Identity.generate()
        add_judge_key(session, f"judge {role}", str(identity.to_public()), role,
                      actor=SOMEONE, now=clock.now())
        keys[role] = identity
    return Event(instance, session, people, keys)
