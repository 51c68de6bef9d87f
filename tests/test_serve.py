"""`kiosk serve` for real: waitress on a loopback port, tuned for hundreds of seats."""

import os
import urllib.request

import pytest

from kiosk.serve import CONNECTION_LIMIT, waitress_options
from kiosk.web import PIECE_BODY_LIMIT
from tests.servers import Server


def test_waitress_is_set_for_hundreds_of_seats(app):
    options = waitress_options(app, "0.0.0.0", 8080, 16)
    assert options["connection_limit"] >= 4 * 500 or os.name == "nt"
    assert options["connection_limit"] == CONNECTION_LIMIT or os.name == "nt"
    assert options["asyncore_use_poll"] is (os.name != "nt")
    assert options["channel_timeout"] <= 60
    assert options["max_request_body_size"] >= 2048 * 1024 * 1024
    # A resumable piece and its headers are never spooled to disk.
    assert options["inbuf_overflow"] >= PIECE_BODY_LIMIT + 64 * 1024
    assert options["trusted_proxy"] is None


@pytest.fixture
def served(kiosk_instance):
    server = Server(kiosk_instance.path).start()
    yield server.url
    server.stop()


def test_kiosk_serve_answers_in_chinese(served):
    with urllib.request.urlopen(served + "/login", timeout=5) as response:
        assert response.status == 200
        assert "工作人员登录" in response.read().decode("utf-8")
    with urllib.request.urlopen(served + "/static/css/kiosk.css", timeout=5) as response:
        assert b"Microsoft YaHei" in response.read()


def test_the_app_as_built_is_kept_out_of_the_collectors_sight():
    """`kiosk serve` freezes what lives as long as the process before serving (issue 19)."""
    import gc

    from kiosk.serve import freeze_what_lives_on

    try:
        freeze_what_lives_on()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_kiosk_serve_hands_the_interpreter_over_every_half_millisecond(app, monkeypatch):
    """Beside the hand-ins a save's batch waited for the interpreter after each of its
    statements, 5 ms at a time (Python's default): `serve` sets the shorter interval before it
    serves (bench/hall_day.py measures both)."""
    import sys

    from kiosk import serve as kiosk_serve

    seen = {}
    monkeypatch.setattr(kiosk_serve, "create_kiosk_server", lambda *a, **k: type(
        "Server", (), {"print_listen": lambda self, f: None,
                       "run": lambda self: seen.setdefault("at", sys.getswitchinterval())})())
    monkeypatch.setattr(kiosk_serve, "freeze_what_lives_on", lambda: None)
    before = sys.getswitchinterval()
    try:
        kiosk_serve.serve(app, "127.0.0.1", 0, 4)
    finally:
        sys.setswitchinterval(before)
    assert seen["at"] == kiosk_serve.SWITCH_INTERVAL_S < 0.005  # Python's default: 5 ms


def test_every_thread_of_kiosk_serve_finds_a_database_connection(kiosk_instance, monkeypatch):
    """A request holds its connection until it has answered (an answer save too, while it
    waits for its group commit): `kiosk serve --threads 96` under load waited for the 61st
    connection of the default pool and answered 500 after 60 s (bench/hall_day.py). The pool
    now holds one for every thread that may hold one at once."""
    from click.testing import CliRunner

    from kiosk import cli
    from kiosk.serve import connections_for

    served = {}
    monkeypatch.setattr(cli, "serve", lambda app, *a, **k: served.setdefault("app", app))
    monkeypatch.setattr(cli, "BadgeFailureFlusher", lambda *a: type(
        "Idle", (), {"start": lambda self: None, "stop": lambda self, now: None})())
    result = CliRunner().invoke(cli.main, ["--instance", str(kiosk_instance.path), "serve",
                                           "--threads", "96"])
    assert result.exit_code == 0, result.output
    engine = served["app"].extensions["kiosk"].engine
    engine.pool._timeout = 1  # a connection short fails in a second here, not after 60 s
    held = [engine.connect() for _ in range(connections_for(96))]
    try:
        assert len(held) >= 96 + 2
    finally:
        for connection in held:
            connection.close()
        engine.dispose()
