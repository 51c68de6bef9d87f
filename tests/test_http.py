"""The HTTP layer under Flask, against a real `kiosk serve`: what one hostile workstation can do
before any view runs (issue 14, items 1, 2 and 7)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.servers import Server, closed_by_server

LOGIN = "/api/v1/station/login"
UPLOAD = "/api/v1/collect/upload"
MiB = 1024 * 1024


@pytest.fixture
def start_server(kiosk_instance, monkeypatch):
    """A real server with these KIOSK_* settings (or TMPDIR) in its environment."""
    servers: list[Server] = []

    def start(**environ: str) -> Server:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        server = Server(kiosk_instance.path).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def connect(server: Server, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def answer_of(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes (or stops talking for `timeout`)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def clock_status(server: Server, source: str) -> int:
    with connect(server, source) as sock:
        sock.sendall(b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\n\r\n")
        reply = answer_of(sock)
    return int(reply.split(b" ", 2)[1]) if reply else 0


def status_and_json(reply: bytes) -> tuple[int, dict]:
    assert reply, "no answer: the server is still reading (or dropped the connection)"
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body or b"{}")


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


# ----------------------------------------------------------------------------- item 1: body limits

def test_a_large_body_to_sign_in_is_answered_413_before_it_is_read(start_server):
    server = start_server()
    with connect(server) as sock:
        sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/json"
                     f"\r\nContent-Length: {20 * MiB}\r\n\r\n".encode() + b'{"token": "')
        # Nothing more of the 20 MB is sent: the answer must come from the headers alone.
        status, body = status_and_json(answer_of(sock))
    assert status == 413
    assert body["error"] == "too_large"


def test_a_chunked_body_is_cut_off_at_the_limit(start_server):
    server = start_server()
    sent = 0
    with connect(server) as sock:
        sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/json"
                     "\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"a" * 4096
        while sent < 4 * MiB and not select.select([sock], [], [], 0.01)[0]:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        status, _ = status_and_json(answer_of(sock))
    assert status == 413
    assert sent < 1 * MiB, "the server read far past the 16 KiB limit"


def test_the_server_memory_stays_flat_under_large_bodies(start_server):
    """Ten clients push 20 MB of valid JSON each at sign-in, whatever the server answers."""
    server = start_server()
    before = peak_rss_kib(server.process.pid)
    body = b'{"token": "' + b"a" * (20 * MiB) + b'"}'
    statuses = []
    for _ in range(10):
        with connect(server) as sock:
            sock.sendall(f"POST {LOGIN} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: "
                         f"application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(body)
            reply = answer_of(sock)
            statuses.append(int(reply.split(b" ", 2)[1]) if reply else 0)
    grown_mib = (peak_rss_kib(server.process.pid) - before) / 1024
    assert grown_mib < 8, f"peak RSS grew {grown_mib:.0f} MiB"
    assert set(statuses) <= {413, 0}  # 0: reset while we were still pushing


# ----------------------------------------------------------------------------- item 2: starvation

def test_a_disallowed_address_is_closed_without_an_answer(start_server):
    server = start_server(KIOSK_ALLOWED_NETWORKS="127.0.0.0/25")
    outsiders = [connect(server, "127.0.0.200") for _ in range(20)]
    try:
        with contextlib.suppress(ConnectionResetError):
            outsiders[0].sendall(b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\n\r\n")
        assert answer_of(outsiders[0], timeout=5) == b"", "an HTTP answer to an outsider"
        # The idle ones are closed too, at once: none of them holds a slot.
        assert all(closed_by_server(sock, within=5) for sock in outsiders[1:])
    finally:
        for sock in outsiders:
            sock.close()
    assert clock_status(server, "127.0.0.10") == 200


def test_one_address_cannot_hold_more_than_its_connections(start_server):
    server = start_server(KIOSK_CONNECTIONS_PER_ADDRESS="8")
    held = [connect(server, "127.0.0.9") for _ in range(8)]
    try:
        # Answered while all 8 are open: they are served, not refused.
        assert clock_status(server, "127.0.0.10") == 200
        extra = connect(server, "127.0.0.9")
        assert closed_by_server(extra, within=5), "a 9th connection from one address was kept"
        extra.close()
        assert not any(closed_by_server(sock, within=0.2) for sock in held)
        # Another address is served meanwhile; and a slot freed is a slot again.
        assert clock_status(server, "127.0.0.10") == 200
        held.pop().close()
        time.sleep(0.5)
        again = connect(server, "127.0.0.9")
        again.sendall(b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\n\r\n")
        assert answer_of(again).startswith(b"HTTP/1.1 200")
        again.close()
    finally:
        for sock in held:
            sock.close()


def test_a_header_trickler_is_cut_off_while_others_are_served(start_server):
    server = start_server(KIOSK_HEADER_TIMEOUT_SECONDS="2")
    trickler = connect(server, "127.0.0.9")
    silent = connect(server, "127.0.0.9")
    trickler.sendall(b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\n")
    cut_off = False
    give_up = time.monotonic() + 20  # well past the 2 s limit, short of channel_timeout (30 s)
    try:
        while time.monotonic() < give_up:
            try:
                trickler.sendall(b"X")  # one header byte every half second: never silent
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            if closed_by_server(trickler, within=0.5):
                cut_off = True
                break
            assert clock_status(server, "127.0.0.10") == 200
        assert cut_off, "the trickler still holds its connection"
        assert closed_by_server(silent, within=1), "a connection that never spoke is kept"
    finally:
        trickler.close()
        silent.close()


# ----------------------------------------------------------------------------- item 7: the spool

MARKER = b"HAND-IN-MARKER-7f3a9c-"


def _plaintext_in_spool(pid: int, folder: Path) -> list[str]:
    """The files in `folder`, and those the server holds open there (deleted or not), whose
    content holds the marker."""
    found = []
    candidates = [path for path in folder.rglob("*") if path.is_file()]
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith(str(folder)):
                candidates.append(fd)
        except OSError:
            continue
    for path in candidates:
        try:
            if MARKER in path.read_bytes():
                found.append(str(path))
        except OSError:
            continue
    return found


def test_a_spooled_body_is_never_on_disk_in_plaintext(start_server, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    server = start_server(TMPDIR=str(spool))
    body = (MARKER * (MiB // len(MARKER) + 1))[:MiB] * 8  # 8 MiB: past the in-memory part
    with connect(server) as sock:
        sock.sendall(f"POST {UPLOAD}?filename=a.zip HTTP/1.1\r\nHost: kiosk\r\nContent-Type: "
                     f"application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        sock.sendall(body[:6 * MiB])
        time.sleep(0.5)  # the first 6 MiB are in; the server waits for the rest
        assert _plaintext_in_spool(server.process.pid, spool) == []
        sock.sendall(body[6 * MiB:])
        reply = answer_of(sock)
    assert reply.startswith(b"HTTP/1.1 401")  # read whole, then refused: nobody signed in
    assert _plaintext_in_spool(server.process.pid, spool) == []


@pytest.fixture
def full_temp_folder(tmp_path):
    """A temp folder with room for 2 MiB only (a tmpfs; needs root)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_temp_folder_answers_507_and_keeps_nothing(start_server, full_temp_folder):
    server = start_server(TMPDIR=str(full_temp_folder))
    body = b"x" * (6 * MiB)
    with connect(server) as sock:
        sock.sendall(f"POST {UPLOAD}?filename=a.zip HTTP/1.1\r\nHost: kiosk\r\nContent-Type: "
                     f"application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        reply = answer_of(sock)
    assert reply, "the connection was dropped without an answer"
    status, answer = status_and_json(reply)
    assert status == 507
    assert answer["error"] == "insufficient_storage" and answer["message"]
    usage = os.statvfs(full_temp_folder)
    assert usage.f_bfree == usage.f_blocks, "the spool file still takes space"
    assert list(full_temp_folder.iterdir()) == []
    assert clock_status(server, "127.0.0.1") == 200


def test_an_address_guessing_past_its_limit_is_left_waiting(start_server):
    """Issue 14, item 4: a refusal at the door is cheap, but still a request parsed by the one
    interpreter that serves the hall. An address past its badge-guess limit is not read from
    until its time is up, so flat-out guessing gets a few answers a second, not a thousand,
    while every other address is served."""
    server = start_server()
    body = json.dumps({"token": "WRONGWRONGWRONG"}).encode()
    request = (f"POST {LOGIN} HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    flood = [connect(server, "127.0.0.77") for _ in range(4)]
    answered, deadline = 0, time.monotonic() + 4
    for sock in flood:
        sock.setblocking(False)
        sock.sendall(request)
    while time.monotonic() < deadline:
        readable, _, _ = select.select(flood, [], [], 0.2)
        for sock in readable:
            data = sock.recv(65536)
            answered += data.count(b"HTTP/1.1 ")
            with contextlib.suppress(BlockingIOError):
                sock.sendall(request * data.count(b"HTTP/1.1 "))  # one more per answer
        assert clock_status(server, "127.0.0.1") == 200  # the hall is served meanwhile
    for sock in flood:
        sock.close()
    # 20 guesses at once, then one every 3 s, each met by at most one refusal per connection.
    assert 20 <= answered <= 20 + 4 * 3 + 8, answered
