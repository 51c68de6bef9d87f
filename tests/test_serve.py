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
