"""Badge-code guessing costs the exam nothing (issue 14, item 4): over the limit a guess is
refused without touching the database, and a flood is audited as one event per address and
minute."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from kiosk import clock
from kiosk.models import AuditEvent
from kiosk.stations.guessing import BADGE_GUARD, GuessLimiter
from tests.factories import issue_badge, make_stations

FLOODER, HOME = "10.0.0.77", "10.0.0.5"
MINUTE = datetime(2026, 12, 1, 9, 14, tzinfo=UTC)


@pytest.fixture
def frozen_clock(monkeypatch):
    """The server's clock, set by the test: a flood that straddles a minute by luck would
    make the per-minute count flaky."""
    moment = {"now": MINUTE + timedelta(seconds=10)}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


def _badge(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        station = make_stations(session, 1)[0]
        return issue_badge(session, station, instance.badge_key())


def _guess(client, address: str, code: str = "WRONGCODE"):  # through the door, as served
    return client.post("/api/v1/station/login", json={"token": code},
                       environ_base={"REMOTE_ADDR": address})


def _failed_events(app) -> list[dict]:
    with app.extensions["kiosk"].session() as session:
        return [json.loads(e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "station.login_failed")
            .order_by(AuditEvent.seq))]


def test_a_flood_is_audited_once_per_address_and_minute_with_the_right_count(
        app, frozen_clock):
    badge = _badge(app)
    client = app.test_client()
    codes = [_guess(client, FLOODER).status_code for _ in range(50)]
    assert codes == [401] * 20 + [429] * 30
    assert [_guess(client, HOME).status_code for _ in range(3)] == [401] * 3
    assert _failed_events(app) == []  # nothing written per guess
    frozen_clock["now"] = MINUTE + timedelta(minutes=1, seconds=5)
    # The next event after the minute writes it: here a contestant signing in.
    assert _guess(app.test_client(), "10.0.0.6", badge.qr_token).status_code == 200
    minute = clock.iso(MINUTE)
    assert sorted(_failed_events(app), key=lambda d: d["address"]) == [
        {"address": HOME, "minute": minute, "count": 3, "unchecked": 0},
        {"address": FLOODER, "minute": minute, "count": 50, "unchecked": 30},
    ]
    assert _guess(app.test_client(), "10.0.0.8", "WRONG").status_code == 401
    assert len(_failed_events(app)) == 2  # a minute is written once


def test_over_the_limit_no_database_statement_runs(app, frozen_clock):
    client = app.test_client()
    for _ in range(20):
        assert _guess(client, FLOODER).status_code == 401
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["kiosk"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        refused = _guess(client, FLOODER)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"] == "too_many_attempts"
    assert statements == []


def test_a_correct_badge_from_another_address_still_signs_in_during_the_flood(
        app, frozen_clock):
    badge = _badge(app)
    flooder = app.test_client()
    for _ in range(40):
        _guess(flooder, FLOODER)
    assert _guess(flooder, FLOODER).status_code == 429
    assert _guess(app.test_client(), HOME, badge.fallback_display).status_code == 200


def test_the_last_minute_is_written_by_the_timer_or_at_shutdown(app, frozen_clock):
    from kiosk.stations.sign_in import BadgeFailureFlusher

    flusher = BadgeFailureFlusher(app.extensions["kiosk"], app.extensions[BADGE_GUARD])
    client = app.test_client()
    for _ in range(7):
        _guess(client, FLOODER)
    assert flusher.run_once(MINUTE + timedelta(seconds=50)) == 0  # the minute is not over
    assert flusher.run_once(MINUTE + timedelta(seconds=61)) == 1  # the timer, nobody else
    assert [e["count"] for e in _failed_events(app)] == [7]
    frozen_clock["now"] = MINUTE + timedelta(minutes=1, seconds=30)
    for _ in range(4):
        _guess(client, FLOODER)
    flusher.stop(MINUTE + timedelta(minutes=1, seconds=31))  # the server stops mid-minute
    assert [e["count"] for e in _failed_events(app)] == [7, 4]


def test_limiter_admits_no_more_than_the_limit_to_parallel_guesses():
    limiter = GuessLimiter(per_minute=20)
    now = MINUTE.timestamp()
    barrier = threading.Barrier(60)
    admitted = []

    def guess():
        barrier.wait()
        if limiter.reserve(FLOODER, now) == 0:
            admitted.append(1)

    threads = [threading.Thread(target=guess) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 20


def test_limiter_refills_and_a_correct_code_gives_its_guess_back():
    limiter = GuessLimiter(per_minute=20)
    now = MINUTE.timestamp()
    assert all(limiter.reserve(FLOODER, now) == 0 for _ in range(20))
    assert limiter.reserve(FLOODER, now) == 3  # one guess every 3 s after the burst
    assert limiter.reserve(FLOODER, now + 3) == 0
    assert limiter.reserve(FLOODER, now + 3) > 0
    limiter.refund(FLOODER)
    assert limiter.reserve(FLOODER, now + 3) == 0


def test_limiter_memory_is_bounded_and_new_addresses_share_one_bucket_when_full():
    limiter = GuessLimiter(per_minute=20, max_addresses=100)
    now = MINUTE.timestamp()
    results = [limiter.reserve(f"10.1.{n // 250}.{n % 250}", now) for n in range(10_000)]
    assert limiter.tracked() <= 101  # 100 addresses and the shared bucket
    # past the table, every newcomer draws on one bucket: guessing stays bounded
    assert results.count(0) == 100 + 20
    # a minute later the table has room again
    assert limiter.reserve("10.2.0.1", now + 61) == 0


def test_a_refusal_at_the_door_reads_like_the_services_in_either_language(app, frozen_clock):
    from werkzeug.test import Client

    client = app.test_client()
    assert [_guess(client, FLOODER).status_code for _ in range(20)] == [401] * 20
    at_the_door = _guess(client, FLOODER)
    behind_the_door = Client(app.wsgi_app.app).post(  # Flask itself, the service refusing
        "/api/v1/station/login", json={"token": "WRONGCODE"},
        environ_base={"REMOTE_ADDR": FLOODER})
    for refused in (at_the_door, behind_the_door):
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3"
        assert refused.headers["Cache-Control"] == "no-store"
    assert at_the_door.get_json() == behind_the_door.get_json() == {
        "error": "too_many_attempts", "message": "工位牌编码错误次数过多，请 3 秒后再试。"}
    client.set_cookie("kiosk_lang", "en")
    assert _guess(client, FLOODER).get_json()["message"] == (
        "Too many wrong badge codes; try again in 3 seconds.")
