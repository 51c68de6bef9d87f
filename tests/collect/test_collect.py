"""Hand-in: streamed, hashed, encrypted, receipted; refused when it must be; nothing half-stored."""

import errno
import hashlib
import io
import os
import re
import shutil
import subprocess
from datetime import timedelta

import pyrage
import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.collect import hand_ins as collect
from kiosk.collect.models import HandIn
from kiosk.crypto import load_verify_key
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user
from tests.plugins.collect import upload
from tests.servers import Client, Server


def test_round_trip_hash_encryption_and_the_standard_age_tool(hall, tmp_path):
    instance, identity, (kiosk, _) = hall
    data = os.urandom(2_500_000)
    response = upload(kiosk, data, "../../etc/作品 v2.zip")
    assert response.status_code == 201
    body = response.get_json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
    assert body["filename"] == "作品 v2.zip"  # the path is gone, the Unicode name kept
    with instance.session() as session:
        hand_in = session.scalar(select(HandIn))
    stored = instance.archives_dir / hand_in.stored_name
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hand_in.cipher_sha256
    assert data[:4096] not in stored.read_bytes()  # never plaintext on disk
    assert pyrage.decrypt(stored.read_bytes(), [identity]) == data
    if shutil.which("age"):
        key = tmp_path / "archive.key"
        key.write_text(f"{identity}\n")
        opened = subprocess.run(["age", "-d", "-i", str(key), str(stored)], capture_output=True,
                                check=True).stdout
        assert opened == data


def test_every_version_is_kept(hall):
    _, _, (kiosk, _) = hall
    first = upload(kiosk, b"one").get_json()
    second = upload(kiosk, b"two").get_json()
    assert (first["version"], second["version"]) == (1, 2)
    assert first["receipt_no"] != second["receipt_no"]


def test_the_receipt_is_genuine_and_a_forged_one_is_not(hall):
    instance, _, (kiosk, _) = hall
    body = upload(kiosk, b"work").get_json()
    key = load_verify_key(instance.keys_dir)
    receipt = collect.verify_receipt(body["receipt_payload"], key)
    assert (receipt.station, receipt.size, receipt.sha256) == ("A01", 4, body["sha256"])
    assert re.fullmatch(r"[A-Z2-7]+", body["receipt_payload"])  # QR alphanumeric mode
    payload = body["receipt_payload"]
    forged = payload[:40] + ("A" if payload[40] != "A" else "B") + payload[41:]
    with pytest.raises(Exception, match=r"NOT genuine|not a receipt"):
        collect.verify_receipt(forged, key)


def test_a_station_cannot_read_another_stations_receipt(hall):
    _, _, (mine, theirs) = hall
    number = upload(mine, b"secret work").get_json()["receipt_no"]
    assert mine.get(f"/api/v1/collect/receipts/{number}.pdf").status_code == 200
    assert theirs.get(f"/api/v1/collect/receipts/{number}.pdf").status_code == 404


def test_uploads_after_the_deadline_are_423(hall):
    instance, _, (kiosk, _) = hall
    instance.settings.grace_seconds = 0
    with instance.session() as session:
        phases.end(session, "practical", actor=CHIEF, now=clock.now())
    response = upload(kiosk, b"too late")
    assert response.status_code == 423
    with instance.session() as session:
        assert session.scalar(select(HandIn.id)) is None


def test_too_large_is_413_and_stores_nothing(hall, monkeypatch):
    instance, _, (kiosk, _) = hall
    instance.settings.upload_limit_mb = 1
    response = upload(kiosk, b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert not any(instance.archives_dir.iterdir())


def test_an_interrupted_upload_leaves_no_row_and_no_file(hall):
    instance, _, _ = hall
    with instance.session() as session:
        with pytest.raises(collect.IncompleteUpload):
            collect.ingest(session, archives=instance.archives_dir, station_id=1,
                           station_code="A01", body=io.BytesIO(b"only half"), filename="a.zip",
                           content_length=1000, limit=10**6, now_fn=clock.now,
                           grace=timedelta(seconds=2), actor=CHIEF)
        assert session.scalar(select(HandIn.id)) is None
    assert list(instance.archives_dir.iterdir()) == []


def test_a_full_disk_is_507_and_loses_nothing_acknowledged(hall, monkeypatch):
    instance, identity, (kiosk, _) = hall
    kept = upload(kiosk, b"acknowledged before").get_json()
    real_write = collect._HashingWriter._write

    def no_space(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(collect._HashingWriter, "_write", no_space)
    response = upload(kiosk, b"x" * 50_000)
    assert response.status_code == 507
    monkeypatch.setattr(collect._HashingWriter, "_write", real_write)
    with instance.session() as session:
        rows = list(session.scalars(select(HandIn)))
    assert [r.receipt_no for r in rows] == [kept["receipt_no"]]
    files = sorted(p.name for p in instance.archives_dir.iterdir())
    assert files == [rows[0].stored_name]
    stored = (instance.archives_dir / rows[0].stored_name).read_bytes()
    assert pyrage.decrypt(stored, [identity]) == b"acknowledged before"


def test_partial_files_from_a_crash_are_removed_at_start(kiosk_instance):
    instance = kiosk_instance.open()
    leftover = instance.archives_dir / ("abc.age" + collect.PARTIAL_SUFFIX)
    leftover.write_bytes(b"half")
    instance.engine.dispose()
    app = kiosk_instance.app()
    assert not leftover.exists()
    app.extensions["kiosk"].engine.dispose()


def test_the_receipt_qr_decodes_to_the_payload(hall, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    import zxingcpp
    from PIL import Image

    from kiosk.checkpoints import verify_for_instance

    instance, _, (kiosk, _) = hall
    body = upload(kiosk, b"work to receipt").get_json()
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(kiosk.get(f"/api/v1/collect/receipts/{body['receipt_no']}.pdf").data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "p")], check=True)
    page = next(tmp_path.glob("p-*.png"))
    texts = {code.text for code in zxingcpp.read_barcodes(Image.open(page))}
    # Beside it, the audit checkpoint current at printing, which this server vouches for.
    (checkpoint,) = texts - {body["receipt_payload"]}
    assert body["receipt_payload"] in texts
    assert verify_for_instance(instance, checkpoint).ok


def test_the_collection_desk_hands_in_for_a_station_and_lists_who_is_missing(hall, app):
    instance, _identity, _kiosks = hall
    with instance.session() as session:
        make_user(session, "field", username="desk_judge")
    judge = app.test_client()
    login(judge, "desk_judge")
    page = judge.get("/collect")
    assert "A01" in page.text and "A02" in page.text  # both signed in, nothing handed in yet
    token = csrf_from(page.text)
    refused = judge.post("/collect/upload?station=A02&filename=u.zip", data=b"usb",
                         headers={"Content-Type": "application/octet-stream"})
    assert refused.status_code == 400  # no CSRF token
    # A02 was signed in but nobody drew it: the judge confirmed the desk's warning.
    done = judge.post("/collect/upload?station=A02&filename=U盘作品.zip&confirm=1",
                      data=b"usb work",
                      headers={"Content-Type": "application/octet-stream",
                               "X-CSRFToken": token})
    assert done.status_code == 201
    with instance.session() as session:
        hand_in = session.scalar(select(HandIn))
    assert (hand_in.via, hand_in.collected_by, hand_in.filename) == ("desk", "desk_judge",
                                                                     "U盘作品.zip")
    after = judge.get("/collect").text
    assert "U盘作品.zip" in after
    slip = judge.get(f"/collect/receipts/{hand_in.receipt_no}.pdf")
    assert slip.mimetype == "application/pdf"
    assert collect.stations_without_hand_in(instance.session()) == ["A01"]


def test_a_server_killed_mid_upload_leaves_no_row_and_no_file(hall, kiosk_instance):
    """SIGKILL while the body is arriving: after the restart nothing of it exists, and what was
    acknowledged before is intact."""
    import socket
    import time


    instance, identity, _ = hall
    with instance.session() as session:
        badge = issue_badge(session, make_stations(session, 1)[0], instance.badge_key())
    instance.engine.dispose()
    server = Server(kiosk_instance.path).start()
    try:
        client = Client(server)
        assert client.call("POST", "/api/v1/station/login", {"token": badge.qr_token})[0] == 200
        # Acknowledged first.
        import urllib.request

        request = urllib.request.Request(server.url + "/api/v1/collect/upload?filename=a.zip",
                                         data=b"acknowledged", method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        with client.opener.open(request) as response:
            assert response.status == 201
        jar = next(h.cookiejar for h in client.opener.handlers if hasattr(h, "cookiejar"))
        session_cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        # Now half of a large body, then the server dies.
        size = 64 * 1024 * 1024
        raw = socket.create_connection(("127.0.0.1", server.port))
        raw.sendall((f"POST /api/v1/collect/upload?filename=big.zip HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {size}\r\nCookie: {session_cookie}\r\n\r\n").encode())
        raw.sendall(os.urandom(size // 2))
        time.sleep(0.5)
        server.kill()
        raw.close()
        server = Server(kiosk_instance.path, server.port).start()
        reopened = kiosk_instance.open()
        with reopened.session() as session:
            rows = list(session.scalars(select(HandIn).where(HandIn.filename == "big.zip")))
            kept = list(session.scalars(select(HandIn).where(HandIn.filename == "a.zip")))
        stored = {p.name for p in reopened.archives_dir.iterdir()}
        reopened.engine.dispose()
        assert rows == [] and len(kept) == 1
        assert stored == {kept[0].stored_name}  # no partial file, no orphan
        data = (instance.archives_dir / kept[0].stored_name).read_bytes()
        assert pyrage.decrypt(data, [identity]) == b"acknowledged"
    finally:
        server.stop()


def test_a_starting_server_keeps_other_servers_uploads_in_progress(tmp_path):
    """Several servers may share one archive folder: only orphans are removed at start."""
    import time as _time

    archives = tmp_path / "archives"
    archives.mkdir()
    host = collect._OWNER.rsplit("-", 1)[0]
    dead_pid = 2**22 + 12345  # above pid_max: certainly not running
    mine_dead = archives / f"a.age.{host}-{dead_pid}{collect.PARTIAL_SUFFIX}"
    mine_alive = archives / f"b.age.{host}-{os.getppid()}{collect.PARTIAL_SUFFIX}"
    other_fresh = archives / f"c.age.otherhost-77{collect.PARTIAL_SUFFIX}"
    other_old = archives / f"d.age.otherhost-78{collect.PARTIAL_SUFFIX}"
    for path in (mine_dead, mine_alive, other_fresh, other_old):
        path.write_bytes(b"half")
    old = _time.time() - 2 * 86400
    os.utime(other_old, (old, old))
    assert collect.remove_partials(archives) == 2
    assert sorted(p.name for p in archives.iterdir()) == sorted([mine_alive.name,
                                                                 other_fresh.name])


def test_a_hand_in_waiting_for_its_turn_keeps_its_arrival_time(hall):
    """Hand-ins are encrypted a few at a time; one that arrived before the end but waited for
    its turn past the end is still on time, and its receipt says when it arrived."""
    import threading
    import time
    from datetime import datetime

    instance, _, (kiosk, _) = hall
    instance.settings.grace_seconds = 0
    for _ in range(collect.INGEST_SLOTS):
        collect._ingest_slots.acquire()  # the turns are all taken by other uploads
    answer = {}
    sender = threading.Thread(target=lambda: answer.update(response=upload(kiosk, b"on time")))
    try:
        sender.start()
        time.sleep(0.3)  # the request has arrived and waits for a turn
        with instance.session() as session:
            ended = phases.end(session, "practical", actor=CHIEF, now=clock.now()).ended_at
        time.sleep(0.3)
    finally:
        for _ in range(collect.INGEST_SLOTS):
            collect._ingest_slots.release()
    sender.join(10)
    response = answer["response"]
    assert response.status_code == 201, response.get_json()
    assert datetime.fromisoformat(response.get_json()["received_at"]) < ended
    assert upload(kiosk, b"really late").status_code == 423


def test_an_empty_file_is_refused_with_the_reason_and_stores_nothing(hall):
    instance, _, (kiosk, _) = hall
    response = upload(kiosk, b"")
    assert response.status_code == 400
    assert "空" in response.get_json()["message"] or "empty" in response.get_json()["message"]
    with instance.session() as session:
        assert session.scalar(select(HandIn.id)) is None
    assert list(instance.archives_dir.iterdir()) == []
