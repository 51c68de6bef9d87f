"""`hall`: the practical phase running, two stations signed in, an archive key; `upload` sends
a file from a station as the workstation does."""

from __future__ import annotations

import pyrage
import pytest

from kiosk import clock
from kiosk.judge_keys import add_judge_key
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations


def open_hall(app):
    """Practical phase running, two stations with badges, an archive key: the instance, the
    archive key's identity, and the two stations' clients. Called directly by a test that
    needs the hall only after steps of its own."""
    instance = app.extensions["kiosk"]
    identity = pyrage.x25519.Identity.generate()
    with instance.session() as session:
        stations = make_stations(session, 2)
        badges = [issue_badge(session, s, instance.badge_key()) for s in stations]
        add_judge_key(session, "archive judge", str(identity.to_public()), "archive",
                      actor=CHIEF, now=clock.now())
        phases.start(session, "practical", 60, actor=CHIEF, now=clock.now())
    clients = []
    for badge in badges:
        client = app.test_client()
        client.post("/api/v1/station/login", json={"token": badge.qr_token})
        clients.append(client)
    return instance, identity, clients


@pytest.fixture
def hall(app):
    return open_hall(app)


def upload(client, data: bytes, name="作品.zip"):
    return client.post(f"/api/v1/collect/upload?filename={name}", data=data,
                       headers={"Content-Type": "application/octet-stream"})
