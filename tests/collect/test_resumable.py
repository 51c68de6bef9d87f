"""The resumable hand-in: pieces into one age stream, resumed at the server's offset, never
applied twice, never plaintext on disk, everything freed when it fails."""

import errno
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kiosk import clock
from kiosk.collect import hand_ins as collect
from kiosk.collect import resumable
from kiosk.collect.models import HandIn
from kiosk.crypto import load_verify_key
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user
from tests.servers import Client, Server

PIECE = resumable.PIECE_BYTES
OCTETS = {"Content-Type": "application/octet-stream"}


def open_upload(client, size: int, name="作品.zip"):
    return client.post(f"/api/v1/collect/uploads?filename={name}&size={size}")


def put(client, upload_id: str, offset: int, piece: bytes):
    return client.put(f"/api/v1/collect/uploads/{upload_id}?offset={offset}", data=piece,
                      headers=OCTETS)


def rows(instance) -> int:
    with instance.session() as session:
        return session.scalar(select(func.count(HandIn.id)))


def files(instance) -> list[str]:
    return sorted(p.name for p in instance.archives_dir.iterdir()) \
        if instance.archives_dir.is_dir() else []


def test_an_interrupted_hand_in_resumes_at_the_servers_offset_and_age_opens_it(hall,
                                                                               tmp_path):
    instance, identity, (kiosk, _) = hall
    data = os.urandom(3 * PIECE + 12345)
    opened = open_upload(kiosk, len(data))
    assert opened.status_code == 201
    body = opened.get_json()
    assert (body["offset"], body["piece_bytes"]) == (0, PIECE)
    upload_id = body["upload_id"]
    assert put(kiosk, upload_id, 0, data[:PIECE]).get_json()["offset"] == PIECE
    # The cable drops: this piece reached the server but its answer never reached the kiosk.
    put(kiosk, upload_id, PIECE, data[PIECE:2 * PIECE])
    # The kiosk asks where to go on, and resumes from there, not from zero.
    state = kiosk.get(f"/api/v1/collect/uploads/{upload_id}").get_json()
    assert (state["offset"], state["size"], state["receipt"]) == (2 * PIECE, len(data), None)
    assert put(kiosk, upload_id, 2 * PIECE, data[2 * PIECE:3 * PIECE]).status_code == 200
    done = put(kiosk, upload_id, 3 * PIECE, data[3 * PIECE:])
    assert done.status_code == 201
    receipt = done.get_json()
    assert receipt["sha256"] == hashlib.sha256(data).hexdigest()
    assert (receipt["size"], receipt["filename"], receipt["version"]) == (len(data), "作品.zip",
                                                                         1)
    assert set(receipt) == {"receipt_no", "station", "filename", "size", "sha256",
                            "received_at", "receipt_payload", "version", "part",
                            "part_name"}
    assert collect.verify_receipt(receipt["receipt_payload"], load_verify_key(
        instance.keys_dir)).sha256 == receipt["sha256"]
    assert rows(instance) == 1
    with instance.session() as session:
        hand_in = session.scalar(select(HandIn))
    assert files(instance) == [hand_in.stored_name]  # no partial left
    stored = instance.archives_dir / hand_in.stored_name
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hand_in.cipher_sha256
    assert pyrage.decrypt(stored.read_bytes(), [identity]) == data
    if shutil.which("age") is None:
        pytest.skip("the age command is not installed")
    key = tmp_path / "archive.key"
    key.write_text(f"{identity}\n")
    opened = subprocess.run(["age", "-d", "-i", str(key), str(stored)], capture_output=True,
                            check=True).stdout
    assert opened == data


def test_a_repeated_piece_is_acknowledged_and_not_applied_twice(hall):
    instance, identity, (kiosk, _) = hall
    data = os.urandom(PIECE + 1000)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    first = put(kiosk, upload_id, 0, data[:PIECE])
    again = put(kiosk, upload_id, 0, data[:PIECE])
    assert first.get_json()["offset"] == again.get_json()["offset"] == PIECE
    # A resent piece that straddles the offset: only its new tail is applied.
    done = put(kiosk, upload_id, PIECE - 500, data[PIECE - 500:])
    assert done.status_code == 201
    assert done.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    # The final answer was lost: the last piece again gets the same receipt, no second row.
    repeat = put(kiosk, upload_id, PIECE, data[PIECE:])
    assert repeat.status_code == 201
    assert repeat.get_json()["receipt_no"] == done.get_json()["receipt_no"]
    state = kiosk.get(f"/api/v1/collect/uploads/{upload_id}").get_json()
    assert state["offset"] == len(data)
    assert state["receipt"]["receipt_no"] == done.get_json()["receipt_no"]
    assert rows(instance) == 1
    with instance.session() as session:
        stored = instance.archives_dir / session.scalar(select(HandIn.stored_name))
    assert pyrage.decrypt(stored.read_bytes(), [identity]) == data


def test_a_gap_is_409_with_the_servers_offset(hall):
    _, _, (kiosk, _) = hall
    data = os.urandom(3 * PIECE)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    put(kiosk, upload_id, 0, data[:PIECE])
    gap = put(kiosk, upload_id, 2 * PIECE, data[2 * PIECE:])
    assert gap.status_code == 409
    assert gap.get_json()["offset"] == PIECE
    assert gap.get_json()["error"] == "offset_mismatch"
    # Nothing of it was applied: the upload goes on from the server's offset.
    assert put(kiosk, upload_id, PIECE, data[PIECE:2 * PIECE]).get_json()["offset"] == 2 * PIECE
    assert put(kiosk, upload_id, 2 * PIECE, data[2 * PIECE:]).status_code == 201


def test_a_station_sees_and_feeds_only_its_own_uploads(hall):
    _, _, (mine, theirs) = hall
    data = b"my own work" * 1000
    upload_id = open_upload(mine, len(data)).get_json()["upload_id"]
    assert theirs.get(f"/api/v1/collect/uploads/{upload_id}").status_code == 404
    assert put(theirs, upload_id, 0, data).status_code == 404
    assert theirs.get("/api/v1/collect/uploads/no-such-upload").status_code == 404
    # Untouched by the other station's attempts.
    assert mine.get(f"/api/v1/collect/uploads/{upload_id}").get_json()["offset"] == 0
    done = put(mine, upload_id, 0, data)
    assert done.status_code == 201 and done.get_json()["station"] == "A01"


def test_a_full_disk_is_507_and_frees_the_partial_and_the_upload(hall, monkeypatch):
    instance, _, (kiosk, _) = hall
    data = os.urandom(3 * PIECE)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    assert put(kiosk, upload_id, 0, data[:PIECE]).status_code == 200
    assert len(resumable.uploads_for(instance.archives_dir)) == 1

    def no_space(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(collect._HashingWriter, "_write", no_space)
    full = put(kiosk, upload_id, PIECE, data[PIECE:2 * PIECE])
    assert full.status_code == 507
    assert full.get_json()["error"] == "insufficient_storage"
    assert files(instance) == []  # the partial file is gone
    assert len(resumable.uploads_for(instance.archives_dir)) == 0  # and the open upload
    assert kiosk.get(f"/api/v1/collect/uploads/{upload_id}").status_code == 404
    assert rows(instance) == 0


def test_a_full_disk_at_the_final_fsync_is_507_and_stores_nothing(hall, monkeypatch):
    instance, _, (kiosk, _) = hall
    data = os.urandom(PIECE + 5)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    put(kiosk, upload_id, 0, data[:PIECE])

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(collect.os, "fsync", no_space)
    assert put(kiosk, upload_id, PIECE, data[PIECE:]).status_code == 507
    monkeypatch.undo()
    assert files(instance) == [] and rows(instance) == 0
    assert len(resumable.uploads_for(instance.archives_dir)) == 0


def test_a_full_disk_when_the_upload_opens_is_507(hall, monkeypatch):
    instance, _, (kiosk, _) = hall
    real_open = open

    def no_space(path, mode="r", *args, **kwargs):
        if str(path).endswith(collect.PARTIAL_SUFFIX):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_space)
    assert open_upload(kiosk, 5000).status_code == 507
    monkeypatch.undo()
    assert files(instance) == []
    assert len(resumable.uploads_for(instance.archives_dir)) == 0


def test_no_plaintext_on_disk_while_the_pieces_arrive(hall, tmp_path, monkeypatch):
    instance, _, (kiosk, _) = hall
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    marker = b"PLAINTEXT-MARKER-7f3a9c"
    data = (marker + os.urandom(1000)) * 3000  # about 3 MiB, the marker in every piece

    def plaintext_on_disk() -> list[str]:
        found = []
        for folder in (instance.path, temp):
            for path in folder.rglob("*"):
                if path.is_file() and marker in path.read_bytes():
                    found.append(str(path))
        return found

    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    offset = 0
    while offset < len(data):
        answer = put(kiosk, upload_id, offset, data[offset:offset + PIECE])
        assert answer.status_code in (200, 201)
        offset = min(offset + PIECE, len(data))
        assert plaintext_on_disk() == [], f"after the piece ending at {offset}"
    assert answer.status_code == 201


def test_a_second_upload_of_the_station_abandons_the_first(hall):
    instance, _, (kiosk, _) = hall
    first = open_upload(kiosk, 3 * PIECE).get_json()["upload_id"]
    put(kiosk, first, 0, os.urandom(PIECE))
    assert len([f for f in files(instance) if f.endswith(collect.PARTIAL_SUFFIX)]) == 1
    second = open_upload(kiosk, 10).get_json()["upload_id"]
    assert kiosk.get(f"/api/v1/collect/uploads/{first}").status_code == 404
    assert len(files(instance)) == 1  # the second's partial only
    assert put(kiosk, second, 0, b"0123456789").status_code == 201
    assert len(resumable.uploads_for(instance.archives_dir)) == 0


def test_an_idle_upload_expires_and_frees_its_thread_and_file(hall, monkeypatch):
    instance, _, (kiosk, _) = hall
    uploads = resumable.uploads_for(instance.archives_dir)
    monkeypatch.setattr(uploads, "idle", resumable.timedelta(seconds=0.2))
    upload_id = open_upload(kiosk, 2 * PIECE).get_json()["upload_id"]
    put(kiosk, upload_id, 0, os.urandom(PIECE))
    (upload,) = uploads._by_id.values()
    for _ in range(100):  # the worker notices by itself, without any request
        if not upload.stream.alive and files(instance) == []:
            break
        time.sleep(0.1)
    assert files(instance) == []
    assert not upload.stream._worker.is_alive()
    assert kiosk.get(f"/api/v1/collect/uploads/{upload_id}").status_code == 404
    assert len(uploads) == 0


def test_the_window_is_asked_when_it_opens_and_when_the_last_piece_arrives(hall):
    instance, _, (kiosk, _) = hall
    instance.settings.grace_seconds = 0
    data = os.urandom(PIECE + 10)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    assert put(kiosk, upload_id, 0, data[:PIECE]).status_code == 200
    with instance.session() as session:
        phases.end(session, "practical", actor=CHIEF, now=clock.now())
    late = put(kiosk, upload_id, PIECE, data[PIECE:])
    assert late.status_code == 423
    assert rows(instance) == 0 and files(instance) == []
    assert open_upload(kiosk, 10).status_code == 423
    assert files(instance) == []


def test_the_receipts_time_is_when_the_last_piece_arrived(hall):
    """A last piece that arrived before the end but waited for an encryption turn past it is on
    time, and its receipt says when it arrived."""
    import threading
    from datetime import datetime

    instance, _, (kiosk, _) = hall
    instance.settings.grace_seconds = 0
    data = os.urandom(PIECE + 10)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    put(kiosk, upload_id, 0, data[:PIECE])
    for _ in range(collect.INGEST_SLOTS):
        collect._ingest_slots.acquire()  # every turn is taken by other hand-ins
    answer = {}
    sender = threading.Thread(target=lambda: answer.update(
        response=put(kiosk, upload_id, PIECE, data[PIECE:])))
    try:
        sender.start()
        time.sleep(0.3)  # the last piece has arrived and waits for a turn
        with instance.session() as session:
            ended = phases.end(session, "practical", actor=CHIEF, now=clock.now()).ended_at
    finally:
        for _ in range(collect.INGEST_SLOTS):
            collect._ingest_slots.release()
    sender.join(10)
    response = answer["response"]
    assert response.status_code == 201, response.get_json()
    assert datetime.fromisoformat(response.get_json()["received_at"]) < ended


def test_a_piece_over_piece_bytes_or_past_the_size_is_refused(hall):
    _, _, (kiosk, _) = hall
    upload_id = open_upload(kiosk, 3 * PIECE).get_json()["upload_id"]
    assert put(kiosk, upload_id, 0, b"x" * (PIECE + 1)).status_code == 413
    upload_id = open_upload(kiosk, 10).get_json()["upload_id"]
    assert put(kiosk, upload_id, 0, b"x" * 11).status_code == 400
    assert put(kiosk, upload_id, 0, b"").status_code == 400
    assert kiosk.post("/api/v1/collect/uploads?size=abc").status_code == 400
    assert kiosk.post("/api/v1/collect/uploads?size=0").status_code == 400
    assert kiosk.post(f"/api/v1/collect/uploads?size={2**40}").status_code == 413


def test_the_collection_desk_hands_in_in_pieces(hall, app):
    instance, identity, (kiosk, _) = hall
    with instance.session() as session:
        make_user(session, "field", username="desk_judge")
    judge = app.test_client()
    login(judge, "desk_judge")
    token = csrf_from(judge.get("/collect").text)
    data = os.urandom(PIECE + 77)
    assert judge.post(f"/collect/uploads?station=A02&size={len(data)}").status_code == 400
    opened = judge.post(f"/collect/uploads?station=A02&filename=U盘.zip&size={len(data)}"
                        "&confirm=1",
                        headers={"X-CSRFToken": token})
    assert opened.status_code == 201
    upload_id = opened.get_json()["upload_id"]
    # The station's own kiosk does not see the desk's upload.
    assert kiosk.get(f"/api/v1/collect/uploads/{upload_id}").status_code == 404
    url = f"/collect/uploads/{upload_id}?station=A02"
    assert judge.put(f"{url}&offset=0", data=data[:PIECE],
                     headers={**OCTETS, "X-CSRFToken": token}).get_json()["offset"] == PIECE
    assert judge.get(url).get_json()["offset"] == PIECE
    done = judge.put(f"{url}&offset={PIECE}", data=data[PIECE:],
                     headers={**OCTETS, "X-CSRFToken": token})
    assert done.status_code == 201
    assert done.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    with instance.session() as session:
        hand_in = session.scalar(select(HandIn))
    assert (hand_in.via, hand_in.collected_by, hand_in.filename) == ("desk", "desk_judge",
                                                                     "U盘.zip")
    stored = instance.archives_dir / hand_in.stored_name
    assert pyrage.decrypt(stored.read_bytes(), [identity]) == data


def test_a_server_killed_mid_upload_leaves_nothing_and_the_kiosk_starts_again(
        hall, kiosk_instance):
    """SIGKILL between two pieces: at the restart the partial file is gone, the upload is
    unknown (404), and the same file handed in again from zero is received whole."""
    import urllib.error
    import urllib.request


    instance, identity, _ = hall
    with instance.session() as session:
        badge = issue_badge(session, make_stations(session, 1)[0], instance.badge_key())
    instance.engine.dispose()
    data = os.urandom(2 * PIECE + 99)

    def send(client, method, path, body=None):
        request = urllib.request.Request(client.server.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            with client.opener.open(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    server = Server(kiosk_instance.path).start()
    try:
        client = Client(server)
        assert client.call("POST", "/api/v1/station/login", {"token": badge.qr_token})[0] == 200
        status, opened = send(client, "POST", f"/api/v1/collect/uploads?size={len(data)}")
        assert status == 201
        upload = f"/api/v1/collect/uploads/{opened['upload_id']}"
        assert send(client, "PUT", upload + "?offset=0", data[:PIECE]) == (
            200, {"upload_id": opened["upload_id"], "offset": PIECE})
        assert [p for p in files(instance) if p.endswith(collect.PARTIAL_SUFFIX)]
        server.kill()
        server = Server(kiosk_instance.path, server.port).start()
        client.server = server
        assert files(instance) == []  # the partial went at the start
        assert send(client, "GET", upload)[0] == 404
        assert send(client, "PUT", upload + f"?offset={PIECE}", data[PIECE:2 * PIECE])[0] == 404
        status, opened = send(client, "POST", f"/api/v1/collect/uploads?size={len(data)}")
        upload = f"/api/v1/collect/uploads/{opened['upload_id']}"
        for offset in range(0, len(data), PIECE):
            status, answer = send(client, "PUT", upload + f"?offset={offset}",
                                  data[offset:offset + PIECE])
        assert status == 201 and answer["sha256"] == hashlib.sha256(data).hexdigest()
    finally:
        server.stop()
    reopened = kiosk_instance.open()
    with reopened.session() as session:
        stored = session.scalar(select(HandIn.stored_name))
        assert session.scalar(select(func.count(HandIn.id))) == 1
    reopened.engine.dispose()
    assert files(instance) == [stored]
    assert pyrage.decrypt((instance.archives_dir / stored).read_bytes(), [identity]) == data


def test_the_same_piece_sent_twice_at_once_is_applied_once(hall, app):
    """A kiosk that retried while its first attempt was still being served: both are answered
    with the same offset, and the bytes are in the file once."""
    import threading

    instance, identity, (kiosk, _) = hall
    name = app.config["SESSION_COOKIE_NAME"]
    retry = app.test_client()
    retry.set_cookie(name, kiosk.get_cookie(name).value)
    data = os.urandom(2 * PIECE)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    answers = []
    senders = [threading.Thread(target=lambda c=c: answers.append(
        put(c, upload_id, 0, data[:PIECE]).get_json()["offset"])) for c in (kiosk, retry)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(30)
    assert answers == [PIECE, PIECE]
    done = put(kiosk, upload_id, PIECE, data[PIECE:])
    assert done.get_json()["sha256"] == hashlib.sha256(data).hexdigest()
    with instance.session() as session:
        stored = instance.archives_dir / session.scalar(select(HandIn.stored_name))
    assert pyrage.decrypt(stored.read_bytes(), [identity]) == data


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_any_order_of_resent_overlapping_or_early_pieces_gives_the_file(hall, data):
    """Whatever a flaky cable makes of the pieces — resent, overlapping, too early — the server
    applies each byte once and in order: the hand-in is the file, or nothing yet."""
    instance, identity, _ = hall
    content = data.draw(st.binary(min_size=1, max_size=6000), label="file")
    uploads = resumable.uploads_for(instance.archives_dir)
    grace = resumable.timedelta(seconds=2)
    with instance.session() as session:
        upload = resumable.open_upload(session, uploads, archives=instance.archives_dir,
                                       owner="station:1", station_id=1, station_code="A01",
                                       filename="f.bin", size=len(content), limit=10**6,
                                       now=clock.now(), grace=grace)
        server_offset, result = 0, None
        while result is None or result.hand_in is None:
            start = data.draw(st.integers(0, len(content) - 1), label="offset")
            end = data.draw(st.integers(start + 1, len(content)), label="end")
            try:
                result = resumable.feed_piece(session, uploads, upload.upload_id,
                                              owner="station:1", offset=start,
                                              piece=content[start:end], now=clock.now(),
                                              grace=grace, actor=CHIEF)
            except resumable.OffsetMismatch as gap:
                assert start > server_offset and gap.details["offset"] == server_offset
                continue
            server_offset = max(server_offset, end)
            assert result.offset == server_offset
        hand_in = result.hand_in
    assert hand_in.sha256 == hashlib.sha256(content).hexdigest()
    stored = (instance.archives_dir / hand_in.stored_name).read_bytes()
    assert pyrage.decrypt(stored, [identity]) == content


def test_a_piece_before_the_last_writes_nothing_to_the_database(hall):
    """The answer saves share one SQLite writer: a piece takes no write transaction (only the
    opening reads and the last piece commits), so 50 hand-ins do not queue beside them."""
    from sqlalchemy import event

    instance, _, (kiosk, _) = hall
    data = os.urandom(3 * PIECE)
    upload_id = open_upload(kiosk, len(data)).get_json()["upload_id"]
    put(kiosk, upload_id, 0, data[:PIECE])
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append(statement.split()[0].upper())

    event.listen(instance.engine, "before_cursor_execute", note)
    commits: list[int] = []

    def committed(_conn):
        commits.append(1)

    event.listen(instance.engine, "commit", committed)
    try:
        assert put(kiosk, upload_id, PIECE, data[PIECE:2 * PIECE]).status_code == 200
    finally:
        event.remove(instance.engine, "before_cursor_execute", note)
        event.remove(instance.engine, "commit", committed)
    assert [s for s in seen if s not in ("SELECT", "WITH")] == [], seen
    assert commits == []
    assert put(kiosk, upload_id, 2 * PIECE, data[2 * PIECE:]).status_code == 201
