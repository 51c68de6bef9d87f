"""Hand-ins per part (issue 17 item 4): each practical part with a hand-in has its own box, its
own window (its clock and the station's extensions in it) and its own versions; receipts,
slips, the desk and the export name the part."""

import base64
import hashlib
import io
import json
import re
import struct
from datetime import timedelta

import pyrage
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.collect import hand_ins as collect
from kiosk.collect.export import verify_bundle
from kiosk.collect.models import HandIn
from kiosk.crypto import b64url, load_signing_key, load_verify_key
from kiosk.judge_keys import add_judge_key
from kiosk.stations import phases, timetable
from kiosk.stations.models import Station
from kiosk.stations.timetable import Part
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user

DAY = [Part("theory", "理论知识考试", "theory", 20),
       Part("A", "Module A 模块A", "practical", 60, hand_in=True),
       Part("B", "Module B 模块B", "practical", 90, hand_in=True),
       Part("D", "Module D 模块D", "practical", 30, hand_in=False)]
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def modules(app):
    """Two modules with a hand-in (A, B), one without (D), a theory part; two stations signed
    in, an archive key; nothing started yet."""
    instance = app.extensions["kiosk"]
    identity = pyrage.x25519.Identity.generate()
    with instance.session() as session:
        timetable.replace(session, DAY, actor=CHIEF, now=clock.now())
        stations = make_stations(session, 2)
        badges = [issue_badge(session, s, instance.badge_key()) for s in stations]
        add_judge_key(session, "archive judge", str(identity.to_public()), "archive",
                      actor=CHIEF, now=clock.now())
    clients = []
    for badge in badges:
        client = app.test_client()
        client.post("/api/v1/station/login", json={"token": badge.qr_token})
        clients.append(client)
    return instance, clients


def _start(instance, key, minutes=60, now=None):
    with instance.session() as session:
        phases.start(session, key, minutes, actor=CHIEF, now=now or clock.now())


def _end(instance, key):
    with instance.session() as session:
        phases.end(session, key, actor=CHIEF, now=clock.now())


def send(client, data: bytes, part: str | None = None, name="work.zip"):
    query = f"filename={name}" + (f"&part={part}" if part else "")
    return client.post(f"/api/v1/collect/upload?{query}", data=data, headers=OCTETS)


def test_a_modules_end_locks_only_that_modules_hand_in(modules):
    instance, (kiosk, _) = modules
    instance.settings.grace_seconds = 0
    _start(instance, "A")
    assert send(kiosk, b"module A work", "A").status_code == 201
    _end(instance, "A")
    _start(instance, "B", 90)
    late = send(kiosk, b"module A, too late", "A")
    assert late.status_code == 423
    assert "Module A" in late.get_json()["message"]
    on_time = send(kiosk, b"module B work", "B")
    assert on_time.status_code == 201
    assert on_time.get_json()["part"] == "B"
    # Without a part, the hand-in goes to the module under way.
    assert send(kiosk, b"module B again").get_json()["part"] == "B"
    with instance.session() as session:
        filed = [(h.part, h.version) for h in session.scalars(select(HandIn).order_by(HandIn.id))]
    assert filed == [("A", 1), ("B", 1), ("B", 2)]


def test_unknown_parts_and_parts_without_a_hand_in_are_refused_with_the_reason(modules):
    instance, (kiosk, _) = modules
    _start(instance, "A")
    unknown = send(kiosk, b"work", "Z")
    assert unknown.status_code == 404 and "Z" in unknown.get_json()["message"]
    for part in ("theory", "D"):
        refused = send(kiosk, b"work", part)
        assert refused.status_code == 409, part
        assert refused.get_json()["error"] == "no_hand_in"
        assert "A, B" in refused.get_json()["message"]  # where a hand-in can go
    opened = kiosk.post("/api/v1/collect/uploads?filename=w.zip&size=4&part=D")
    assert opened.status_code == 409
    with instance.session() as session:
        assert session.scalar(select(HandIn.id)) is None


def test_a_part_not_started_is_423_and_nothing_running_answers_as_before(modules):
    instance, (kiosk, _) = modules
    refused = send(kiosk, b"early")
    assert refused.status_code == 423 and refused.get_json()["state"] == "not_started"
    _start(instance, "A")
    assert send(kiosk, b"for B, early", "B").status_code == 423


def test_versions_and_the_version_judged_are_per_part(modules):
    instance, (kiosk, other) = modules
    _start(instance, "A")
    assert [send(kiosk, d, "A").get_json()["version"] for d in (b"a1", b"a2")] == [1, 2]
    _end(instance, "A")
    _start(instance, "B", 90)
    assert send(kiosk, b"b1", "B").get_json()["version"] == 1
    assert send(other, b"other b1", "B").get_json()["version"] == 1
    mine = kiosk.get("/api/v1/collect/mine").get_json()
    by_part = {p["key"]: p for p in mine["parts"]}
    assert list(by_part) == ["A", "B"]  # the boxes of the day, in its order
    assert [h["version"] for h in by_part["A"]["hand_ins"]] == [1, 2]
    assert [h["judged"] for h in by_part["A"]["hand_ins"]] == [False, True]
    assert [h["judged"] for h in by_part["B"]["hand_ins"]] == [True]
    assert by_part["A"]["name"] == "Module A 模块A"
    assert sum(h["judged"] for h in mine["hand_ins"]) == 2  # one per part


def test_an_extension_in_a_moves_only_that_stations_a_deadline(modules):
    instance, (extended, other) = modules
    instance.settings.grace_seconds = 0
    now = clock.now()
    # Module A began 61 minutes ago; A01 was granted 10 minutes a while before its end.
    _start(instance, "A", 60, now=now - timedelta(minutes=61))
    with instance.session() as session:
        phases.extend(session, "A01", 10, "设备故障（非选手原因）", phase_name="A",
                      actor=CHIEF, now=now - timedelta(minutes=2))
    assert send(extended, b"A01 within its extension", "A").status_code == 201
    assert send(other, b"A02 after the end of A", "A").status_code == 423
    # Module B's window is its own: not started, for the extended station too.
    assert send(extended, b"for B", "B").status_code == 423


def test_resumable_uploads_carry_their_part_from_the_opening(modules):
    instance, (kiosk, _) = modules
    _start(instance, "A")
    opened = kiosk.post("/api/v1/collect/uploads?filename=w.zip&size=4&part=A")
    assert opened.status_code == 201 and opened.get_json()["part"] == "A"
    upload_id = opened.get_json()["upload_id"]
    done = kiosk.put(f"/api/v1/collect/uploads/{upload_id}?offset=0", data=b"work",
                     headers=OCTETS)
    assert done.status_code == 201 and done.get_json()["part"] == "A"
    state = kiosk.get(f"/api/v1/collect/uploads/{upload_id}").get_json()
    assert state["receipt"]["part"] == "A"


def test_the_receipt_and_its_slip_name_the_part(modules):
    instance, (kiosk, _) = modules
    _start(instance, "A")
    _end(instance, "A")
    _start(instance, "B", 90)
    body = send(kiosk, b"module B work", "B").get_json()
    assert (body["part"], body["part_name"]) == ("B", "Module B 模块B")
    receipt = collect.verify_receipt(body["receipt_payload"], load_verify_key(instance.keys_dir))
    assert (receipt.part, receipt.station, receipt.size) == ("B", "A01", 13)
    assert re.fullmatch(r"[A-Z2-7]+", body["receipt_payload"])  # still QR alphanumeric
    slip = kiosk.get(f"/api/v1/collect/receipts/{body['receipt_no']}.pdf").data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(slip)).pages)
    assert "Module B" in text
    result = CliRunner().invoke(main, ["--instance", str(instance.path), "receipt", "verify",
                                       body["receipt_payload"], "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["part"] == "B"


def test_a_receipt_issued_before_parts_still_verifies_as_the_practicals(app):
    """A KR1 payload, as every receipt printed before this change: no part in it."""
    instance = app.extensions["kiosk"]
    key = load_signing_key(instance.keys_dir)
    record = (b"KR1" + bytes([3]) + b"A07" + bytes([11]) + b"0520-3FA9C1"
              + struct.pack(">QQ", 1_716_000_000_000, 4096) + hashlib.sha256(b"w").digest())
    payload = base64.b32encode(record + key.sign(record)).decode().rstrip("=")
    receipt = collect.verify_receipt(payload, load_verify_key(instance.keys_dir))
    assert (receipt.part, receipt.station, receipt.receipt_no, receipt.size) == (
        "practical", "A07", "0520-3FA9C1", 4096)
    result = CliRunner().invoke(main, ["--instance", str(instance.path), "receipt", "verify",
                                       payload])
    assert result.exit_code == 0, result.output


@pytest.fixture
def two_part_bundle(modules, tmp_path):
    instance, (first, second) = modules
    _start(instance, "A")
    send(first, b"A01 module A")
    send(first, b"A01 module A v2")
    _end(instance, "A")
    _start(instance, "B", 90)
    send(first, b"A01 module B")
    send(second, b"A02 module B")
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["--instance", str(instance.path), "export", "--out",
                                       str(out), "--json"])
    assert result.exit_code == 0, result.output
    return instance, out


def test_the_export_manifest_and_the_seal_record_name_the_parts(two_part_bundle):
    _instance, out = two_part_bundle
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [(r["station"], r["part"], r["version"]) for r in manifest["hand_ins"]] == [
        ("A01", "A", 1), ("A01", "A", 2), ("A01", "B", 1), ("A02", "B", 1)]
    assert manifest["parts"] == [{"key": "A", "name": "Module A 模块A", "hand_ins": 2},
                                 {"key": "B", "name": "Module B 模块B", "hand_ins": 2}]
    assert manifest["hand_ins"][0]["file"].startswith("archives/A01-A-v1-")
    assert (out / "manifest.csv").read_text("utf-8-sig").splitlines()[0].startswith(
        "station,part,version")
    record = "".join(p.extract_text() for p in PdfReader(out / "seal-record.pdf").pages)
    assert "Module A" in record and "Module B" in record
    assert verify_bundle(out) == []
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


def _resign(instance, out, manifest: dict) -> None:
    data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
    (out / "manifest.json").write_bytes(data)
    key = load_signing_key(instance.keys_dir)
    digest = hashlib.sha256(data).hexdigest()
    (out / "manifest.sig").write_text(b64url(key.sign(digest.encode("ascii"))) + "\n")


def test_a_bundle_whose_parts_do_not_add_up_is_named_and_an_old_one_verifies(two_part_bundle):
    instance, out = two_part_bundle
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    # Signed with the server's key, yet the list of parts hides one of A's hand-ins.
    wrong = {**manifest, "parts": [{**manifest["parts"][0], "hand_ins": 1},
                                   manifest["parts"][1]]}
    _resign(instance, out, wrong)
    assert verify_bundle(out) == ["part A: the manifest lists 1 hand-ins, the bundle has 2"]
    # A bundle from before parts: no part anywhere, nothing to say about them.
    old = {**manifest, "hand_ins": [{k: v for k, v in row.items() if k != "part"}
                                    for row in manifest["hand_ins"]]}
    del old["parts"]
    _resign(instance, out, old)
    assert verify_bundle(out) == []


def test_the_desk_files_under_the_part_chosen_and_lists_the_part(modules, app):
    instance, _kiosks = modules
    instance.settings.grace_seconds = 0
    _start(instance, "A")
    _end(instance, "A")
    _start(instance, "B", 90)
    with instance.session() as session:
        make_user(session, "field", username="desk_judge")
        session.scalar(select(Station).where(Station.code == "A01")).occupied = True
        session.commit()
    judge = app.test_client()
    login(judge, "desk_judge")
    page = judge.get("/collect").text
    assert "Module B" in re.search(r"data-desk-part-name>[^<]*", page).group(0)  # the running
    page = judge.get("/collect?part=A").text
    token = re.search(r'data-form-token="([^"]+)"', page).group(1)
    # The desk's script sends the form's token and no part: the form is for module A.
    done = judge.post(f"/collect/upload?station=A01&filename=usb.zip&form_token={token}",
                      data=b"from the USB stick", headers={**OCTETS, "X-CSRFToken":
                                                           csrf_from(page)})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["part"] == "A" and done.get_json()["late"]
    with instance.session() as session:
        hand_in = session.scalar(select(HandIn))
        assert (hand_in.part, hand_in.via) == ("A", "desk")
        assert collect.hand_in_counts(session, "A") == {hand_in.station_id: (
            1, hand_in.received_at)}
        assert collect.hand_in_counts(session, "B") == {}
    listing = judge.get("/collect?part=B").text
    assert 'data-part="A"' in listing  # the recent hand-in names its part
    assert "A01" in re.search(r"data-missing>.*?</section>", listing, re.S).group(0)
