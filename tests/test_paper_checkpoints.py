"""Every paper record kiosk prints carries the audit checkpoint current when it was printed:
the event number, the hash's first 16 hex digits and a QR code that decodes to the signed text."""

import json
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from kiosk.checkin.records import record_sheet
from kiosk.checkpoints import Checkpoint, signed_text
from kiosk.cli import main
from kiosk.collect.models import HandIn
from kiosk.pdf import hex_groups
from tests.factories import login, make_user

KEY = Ed25519PrivateKey.generate()
AT = datetime(2026, 5, 20, 1, 2, 3, tzinfo=UTC)
HASH = "0123456789abcdef" + "5a" * 24
CHECKPOINT = Checkpoint(417, HASH, AT, KEY.sign(signed_text(417, HASH, AT).encode("ascii")))
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                   reason="poppler-utils not installed")


def _pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def _qr_texts(data: bytes, tmp_path, dpi: int = 200) -> list[set[str]]:
    """The QR codes on each page, as a scanner reads them from paper."""
    import zxingcpp
    from PIL import Image

    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "record.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")],
                   check=True)
    return [{code.text for code in zxingcpp.read_barcodes(Image.open(page))}
            for page in sorted(tmp_path.glob("page-*.png"))]


def _assert_carries_checkpoint(data: bytes) -> None:
    for text in _pages_text(data):
        assert f"事件 {CHECKPOINT.seq}" in text
        assert hex_groups(HASH[:16], 4) in text
        # The full line, to type if the QR cannot be scanned (wrapped over lines in Courier).
        assert CHECKPOINT.text in "".join(text.split())


def _draw_round():
    return SimpleNamespace(stage=2, method="computer", commitment="c" * 64, entropy="3 1 4",
                           drawn_at=AT, ciphertext_sha256="e" * 64)


def _hand_in() -> HandIn:
    return HandIn(receipt_no="R-0001-01", filename="作品.zip", size=12345, sha256="a" * 64,
                  received_at=AT, version=1, via="kiosk")


def _records() -> dict[str, bytes]:
    from kiosk.collect.slips import receipt_pdf, roll_receipt_pdf

    pairs = [{"contestant_no": f"{n:03d}", "station": f"A{n:02d}", "late": False}
             for n in range(1, 4)]
    mapping = SimpleNamespace(round=_draw_round(), pairs=pairs, redraws=[])
    slip = {"station": "A01", "payload": "KR1TESTPAYLOAD", "event_name": "测试赛",
            "fingerprint": "ab" * 16, "checkpoint": CHECKPOINT}
    return {
        "draw record 2": record_sheet(mapping, kind=2, event_name="测试赛", session_name="第一场",
                                      checkpoint=CHECKPOINT),
        "station draw record": record_sheet(mapping, kind="station", event_name="测试赛",
                                            session_name="第一场", checkpoint=CHECKPOINT),
        "receipt A4": receipt_pdf(_hand_in(), **slip),
        "receipt roll": roll_receipt_pdf(_hand_in(), **slip),
    }


def test_each_record_carries_the_checkpoint_on_every_page():
    for name, data in _records().items():
        try:
            _assert_carries_checkpoint(data)
        except AssertionError as exc:
            raise AssertionError(name) from exc


def test_the_draw_record_stage_1_and_the_export_seal_record_carry_it(monkeypatch):
    from kiosk.collect.export import _seal_record

    pairs = [{"contestant_no": "001", "name": "张三", "id_number": "42010219900101001X",
              "organization": "单位", "group": "职工组", "late": False}]
    round_ = _draw_round()
    round_.stage = 1
    sheet = record_sheet(SimpleNamespace(round=round_, pairs=pairs, redraws=[]), kind=1,
                         event_name="测试赛", session_name="第一场", checkpoint=CHECKPOINT)
    _assert_carries_checkpoint(sheet)
    instance = SimpleNamespace(settings=SimpleNamespace(event_name="测试赛", pdf_font=""))
    monkeypatch.setattr("kiosk.checkpoints.checkpoint_for_print", lambda _instance: CHECKPOINT)
    seal = _seal_record(instance, [{"station": "A01", "version": 1, "receipt_no": "R-1",
                                    "size": 10, "sha256": "f" * 64}], "d" * 64, "ab" * 16)
    _assert_carries_checkpoint(seal)


@needs_poppler
def test_the_checkpoint_qr_decodes_beside_the_receipts_own(tmp_path):
    records = _records()
    for page in _qr_texts(records["receipt A4"], tmp_path / "a4"):
        # Both copies: the receipt's signed payload and the checkpoint.
        assert page == {"KR1TESTPAYLOAD", CHECKPOINT.text}
    assert _qr_texts(records["receipt roll"], tmp_path / "roll") == [
        {"KR1TESTPAYLOAD", CHECKPOINT.text}]
    assert _qr_texts(records["station draw record"], tmp_path / "draw") == [{CHECKPOINT.text}]


@needs_poppler
def test_the_printed_check_in_sheet_carries_a_checkpoint_this_server_verifies(
        kiosk_instance, tmp_path):
    runner = CliRunner()
    out = tmp_path / "sheet.pdf"
    printed = runner.invoke(main, ["--instance", str(kiosk_instance.path), "roster", "sheet",
                                   "--out", str(out)])
    assert printed.exit_code == 0, printed.output
    (scanned,) = _qr_texts(out.read_bytes(), tmp_path)
    assert len(scanned) == 1
    text = scanned.pop()
    checked = runner.invoke(main, ["--instance", str(kiosk_instance.path), "audit", "verify",
                                   "--json", "--checkpoint", text])
    assert checked.exit_code == 0, checked.output
    seq = json.loads(checked.output)["checkpoint"]["seq"]
    assert f"事件 {seq}" in _pages_text(out.read_bytes())[0]


def test_the_results_sheet_carries_it():
    from kiosk.results.final import FinalResults, FinalRow, results_pdf

    row = FinalRow(1, "A01", None, None, None, None, None, Decimal(20), Decimal(80),
                   Decimal(70), Decimal(0), Decimal(90), 600.0, None)
    lock = SimpleNamespace(locked_at=AT, sha256="b" * 64)
    for sealed in (True, False):
        final = FinalResults(sealed, lock, [(None if sealed else "职工组", [row])])
        _assert_carries_checkpoint(results_pdf(
            final, event_name="测试赛", session_name="第一场", now=AT,
            theory_weight=Decimal(20), practical_full=Decimal(80), checkpoint=CHECKPOINT))


@needs_poppler
def test_a_checkpoint_sheet_prints_from_the_command_and_the_audit_page(
        kiosk_instance, app, tmp_path):
    out = tmp_path / "cli" / "checkpoint.pdf"
    made = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "audit",
                                     "checkpoint", "--json", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert _qr_texts(out.read_bytes(), tmp_path / "cli") == [{json.loads(made.output)["text"]}]
    with app.extensions["kiosk"].session() as session:
        make_user(session, "supervisor", username="keeper")
    client = app.test_client()
    login(client, "keeper")
    assert "/audit/checkpoint.pdf" in client.get("/audit").text
    sheet = client.get("/audit/checkpoint.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    (scanned,) = _qr_texts(sheet.data, tmp_path / "page")
    assert len(scanned) == 1
    assert "审计检查点记录" in _pages_text(sheet.data)[0]
