"""How many sockets the server holds for a hall (issue 19): a kept-alive connection idle between
requests is closed soon (keepalive_idle_seconds), so a Windows server, whose select() stops at
512 sockets, holds 500 polling stations; and the workstation pages poll as that policy says."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import kiosk.serve
from kiosk.config import ConfigError, Settings
from kiosk.http import IDLE_SWEEP_EVERY
from kiosk.serve import CHANNEL_TIMEOUT, WINDOWS_CONNECTION_LIMIT, waitress_options
from tests.servers import Server, closed_by_server

JS = Path(kiosk.serve.__file__).parent / "static" / "js"
WINDOWS_SELECT_LIMIT = 512
CLOCK = b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\n\r\n"


@pytest.fixture
def server(kiosk_instance):
    running = Server(kiosk_instance.path).start()
    yield running
    running.stop()


def connect(server: Server, source: str) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def one_answer(sock: socket.socket) -> bytes:
    """One keep-alive answer, read by its Content-Length (the connection stays open)."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "closed before an answer"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def sockets_held(pid: int, port: int) -> int:
    """The sockets process `pid` holds on `port` (its listening socket and every connection to
    it; not its database connections), as select() on Windows would count them."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed while we looked
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    held = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    held += 1
    return held


def wait_for_sockets(pid: int, port: int, at_most: int, within: float) -> int:
    give_up = time.monotonic() + within
    while (held := sockets_held(pid, port)) > at_most and time.monotonic() < give_up:
        time.sleep(0.1)
    return held


# ----------------------------------------------------------------------------- the server


def test_an_idle_kept_alive_connection_is_closed_by_the_server(server):
    sock = connect(server, "127.0.2.1")
    try:
        for _ in range(3):  # back to back on one connection: kept alive
            sock.sendall(CLOCK)
            assert one_answer(sock).startswith(b"HTTP/1.1 200")
        # Then idle: closed well before waitress's channel_timeout (30 s) would have.
        assert closed_by_server(sock, within=CHANNEL_TIMEOUT / 3), \
            "an idle kept-alive connection is kept"
    finally:
        sock.close()


def test_a_request_arriving_slowly_is_not_taken_for_idle(server):
    """Headers that take longer than the idle time are header_timeout's (10 s), not cut off as
    idle: the request is answered."""
    sock = connect(server, "127.0.2.2")
    try:
        sock.sendall(CLOCK)
        assert one_answer(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /api/v1/clock HTTP/1.1\r\n")
        time.sleep(Settings().keepalive_idle_seconds + 3 * IDLE_SWEEP_EVERY + 1)
        sock.sendall(b"Host: kiosk\r\n\r\n")
        assert one_answer(sock).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def test_stations_that_keep_their_connections_open_hold_no_server_sockets(server):
    """Forty browsers, each keeping its kept-alive connection (as Chromium does for minutes):
    the server holds them while they are answered, then lets go of every one, as select() on
    Windows would count them."""
    pid, port = server.process.pid, server.port
    before = wait_for_sockets(pid, port, at_most=1, within=5)  # the start-up probe's gone
    assert before == 1  # listening
    stations = [connect(server, f"127.0.3.{i + 1}") for i in range(40)]
    try:
        for sock in stations:
            sock.sendall(CLOCK)
        for sock in stations:
            assert one_answer(sock).startswith(b"HTTP/1.1 200")
        assert sockets_held(pid, port) >= before + 40 - 5  # held while they talk (a few gone)
        assert wait_for_sockets(pid, port, at_most=before, within=CHANNEL_TIMEOUT / 3) <= before
        # Each browser notices its connection closed, and its next poll is answered on a new one.
        assert all(closed_by_server(sock, within=1) for sock in stations)
        again = connect(server, "127.0.3.1")
        again.sendall(CLOCK)
        assert one_answer(again).startswith(b"HTTP/1.1 200")
        again.close()
    finally:
        for sock in stations:
            sock.close()


def test_a_connection_that_never_spoke_is_left_to_the_header_timeout(server):
    """A connection opened and not yet used is not closed as idle (header_timeout closes it)."""
    sock = connect(server, "127.0.2.3")
    try:
        assert not closed_by_server(sock, within=Settings().keepalive_idle_seconds + 1)
        sock.sendall(CLOCK)
        assert one_answer(sock).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


# ----------------------------------------------------------------------------- the policy


def test_a_windows_server_stays_under_select_with_the_idle_policy(app, monkeypatch):
    monkeypatch.setattr(kiosk.serve, "os", SimpleNamespace(name="nt"))
    options = waitress_options(app, "0.0.0.0", 8080, 16)
    assert options == waitress_options(app, "0.0.0.0", 8080, 16, windows=True)
    assert options["asyncore_use_poll"] is False  # select(), as waitress has it on Windows
    # The listening socket and waitress's wake-up socket share select() with the connections.
    assert options["connection_limit"] == WINDOWS_CONNECTION_LIMIT
    assert WINDOWS_CONNECTION_LIMIT + 2 <= WINDOWS_SELECT_LIMIT
    assert options["channel_timeout"] == CHANNEL_TIMEOUT
    linux = waitress_options(app, "0.0.0.0", 8080, 16, windows=False)
    assert linux["asyncore_use_poll"] is True
    assert linux["connection_limit"] > WINDOWS_SELECT_LIMIT


def test_serve_closes_idle_kept_alive_connections_after_the_setting(app, monkeypatch):
    made = {}

    class Stub:
        def print_listen(self, _format):
            pass

        def run(self):
            pass

    def create(*args, **kwargs):
        made.update(kwargs)
        return Stub()

    monkeypatch.setattr(kiosk.serve, "create_kiosk_server", create)
    kiosk.serve.serve(app, "127.0.0.1", 8080, 4)
    assert made["keepalive_idle"] == app.config["KIOSK_SETTINGS"].keepalive_idle_seconds


def test_the_idle_time_is_a_setting(tmp_path):
    assert Settings.load(tmp_path, {"KIOSK_KEEPALIVE_IDLE_SECONDS": "2.5"}) \
        .keepalive_idle_seconds == 2.5
    for wrong in ("0", "31", "soon"):
        with pytest.raises(ConfigError, match=r"(?i)keepalive_idle_seconds"):
            Settings.load(tmp_path, {"KIOSK_KEEPALIVE_IDLE_SECONDS": wrong})


def js_constants() -> dict[str, int]:
    """The intervals server-clock.js exports (a number, or a multiple of POLL_MS)."""
    text = (JS / "server-clock.js").read_text(encoding="utf-8")
    values: dict[str, int] = {}
    for name, expression in re.findall(r"export const (\w+_MS) = ([^;]+);", text):
        if match := re.fullmatch(r"(\d+) \* (\w+)", expression.strip()):
            values[name] = int(match.group(1)) * values[match.group(2)]
        else:
            values[name] = int(expression)
    return values


def test_the_station_pages_poll_as_the_socket_policy_says():
    """A station wakes the server once per clock poll, and its connection is closed between
    polls: 500 stations then hold about a quarter of 500 sockets, half of select()'s 512 at most
    (the figure measured: bench/scaling.py, docs/operations.md)."""
    constants = js_constants()
    poll_ms = constants["POLL_MS"]
    assert poll_ms == 5000  # also the station's heartbeat (kiosk/api.py)
    idle_ms = (Settings().keepalive_idle_seconds + IDLE_SWEEP_EVERY) * 1000
    assert idle_ms < poll_ms / 2  # each poll finds its connection closed
    assert 500 * idle_ms / poll_ms < WINDOWS_SELECT_LIMIT / 2
    # Nothing else on a station's page asks on its own timer while the screen polls: the
    # hand-in box and the task books take the screen's answer (kiosk:clock).
    screen = (JS / "station-screen.js").read_text(encoding="utf-8")
    assert 'dispatchEvent(new CustomEvent("kiosk:clock"' in screen
    assert "setInterval(pollClock, POLL_MS)" in screen
    for page in ("station-handin.js", "station-materials.js"):
        text = (JS / page).read_text(encoding="utf-8")
        assert 'addEventListener("kiosk:clock"' in text, page
        assert not re.search(r"setInterval\([^;]*,\s*\d+\s*\)", text), f"{page}: a timer of its own"
    assert constants["MATERIALS_MS"] == 2 * poll_ms  # every second clock answer
    assert constants["OWN_CLOCK_MS"] > poll_ms  # the box's own ask: only when no screen shares
    # The other polling pages use the same interval (one a hall, or one a desk).
    for page in ("hall.js", "station-sign-in.js"):
        assert "POLL_MS" in (JS / page).read_text(encoding="utf-8"), page


@pytest.fixture
def small_server(app):
    """An in-process KioskServer with room for 8 sockets (its wake-up and listening sockets
    among them) and a 30 s idle time: a Windows server at its connection limit, in small."""
    import threading

    from waitress import wasyncore

    from kiosk.http import create_kiosk_server

    options = waitress_options(app, "127.0.0.1", 0, 4, windows=False)
    options.update(connection_limit=8)
    server = create_kiosk_server(app, app, header_timeout=10, connections_per_address=32,
                                 keepalive_idle=30, **options)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield SimpleNamespace(port=int(server.effective_port))
    stop.set()
    thread.join(timeout=5)
    for channel in list(server._map.values()):
        channel.close()
    server.task_dispatcher.shutdown()


def test_a_server_at_its_connection_limit_closes_idle_connections_at_once(small_server):
    """Six stations kept alive fill the 8 slots (with the listening and the wake-up socket):
    the idle ones are closed at once instead of after the idle time (30 s here), and one more
    station is answered (at the exam's start, all of a Windows hall fetches its paper
    together)."""
    stations = [connect(small_server, f"127.0.4.{i + 1}") for i in range(6)]
    try:
        for sock in stations:
            sock.sendall(CLOCK)
            assert one_answer(sock).startswith(b"HTTP/1.1 200")
        # Those already answered when the sixth came; it is kept, the server no longer full.
        assert all(closed_by_server(sock, within=10) for sock in stations[:5])
        late = connect(small_server, "127.0.4.100")
        late.sendall(CLOCK)
        assert one_answer(late).startswith(b"HTTP/1.1 200")
        late.close()
    finally:
        for sock in stations:
            sock.close()
