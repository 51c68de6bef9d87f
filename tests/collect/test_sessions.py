"""Hand-ins of an event in sessions (场次): a station's seat code is the same in every session,
so its receipts, slips and the sealed export say whose session they are, and never mix."""

import io
import json

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from kiosk.cli import main
from kiosk.collect import hand_ins as collect
from kiosk.crypto import load_verify_key
from tests.plugins.collect import upload
from tests.stations.two_sessions import two_session_day


@pytest.fixture
def day(app):
    return two_session_day(app)


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_receipt_names_its_session_and_verifies_as_that_sessions(day):
    key = load_verify_key(day.instance.keys_dir)
    for code, station in (("AM", "A01"), ("PM", "A02")):
        receipt = collect.verify_receipt(day.payloads[code], key)
        assert (receipt.session, receipt.station) == (code, station)
    result = CliRunner().invoke(main, ["--instance", str(day.instance.path), "receipt",
                                       "verify", day.payloads["PM"], "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["session"] == {"code": "PM", "name": "下午场"}
    said = CliRunner().invoke(main, ["--instance", str(day.instance.path), "receipt",
                                     "verify", day.payloads["AM"]])
    assert said.exit_code == 0 and "上午场" in said.output


def test_the_slip_prints_the_session_and_a_station_sees_its_own_sessions_receipts_only(day):
    pm = day.clients["PM"]
    slip = pm.get(f"/api/v1/collect/receipts/{day.receipts['PM']}.pdf")
    assert slip.status_code == 200
    text = _pdf_text(slip.data)
    assert "场次" in text and "下午场" in text
    assert pm.get(f"/api/v1/collect/receipts/{day.receipts['AM']}.pdf").status_code == 404


def test_a_one_session_receipt_is_as_before(hall):
    """No session defined: the receipt is KR2, its slip prints no 场次."""
    instance, _, (first, _) = hall
    body = upload(first, b"work").get_json()
    receipt = collect.verify_receipt(body["receipt_payload"],
                                     load_verify_key(instance.keys_dir))
    assert receipt.session == ""
    slip = first.get(f"/api/v1/collect/receipts/{body['receipt_no']}.pdf").data
    assert "场次" not in _pdf_text(slip)


def test_the_export_of_a_session_has_its_hand_ins_only_and_names_it(day, tmp_path):
    path = str(day.instance.path)
    runner = CliRunner()
    missing = runner.invoke(main, ["--instance", path, "export", "--out",
                                   str(tmp_path / "none")])
    assert missing.exit_code != 0 and "--session" in missing.output
    for code, station in (("AM", "A01"), ("PM", "A02")):
        out = tmp_path / code
        result = runner.invoke(main, ["--instance", path, "export", "--session", code,
                                      "--out", str(out), "--json"])
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        assert manifest["session"]["code"] == code
        assert [(r["station"], r["receipt_no"]) for r in manifest["hand_ins"]] == [
            (station, day.receipts[code])]
        assert "场次" in _pdf_text((out / "seal-record.pdf").read_bytes())
        assert runner.invoke(main, ["verify", str(out)]).exit_code == 0
