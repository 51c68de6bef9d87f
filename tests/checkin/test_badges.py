"""Printed badges work: rendered to pixels like a printout, decoded like a scanner, logged in."""

import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from kiosk import clock
from kiosk.checkin.badges import render_badges
from kiosk.stations.sign_in import FALLBACK_ALPHABET, issue_badges
from tests.actors import SOMEONE
from tests.factories import make_stations

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                reason="poppler-utils not installed")


def test_badges_decode_with_a_scanner_library_to_tokens_that_log_in(app, client, tmp_path):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        stations = make_stations(session, 10)
        secrets = issue_badges(session, stations, badge_key=instance.badge_key(),
                               actor=SOMEONE, now=clock.now())
    pdf = tmp_path / "badges.pdf"
    pdf.write_bytes(render_badges(secrets, event_name="测试赛事", session_name="第一场"))
    # 150 dpi: an ordinary office printout, then read like a camera would.
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    decoded = []
    for page in sorted(tmp_path.glob("page-*.png")):
        decoded += [code.text for code in zxingcpp.read_barcodes(Image.open(page))]
    assert sorted(decoded) == sorted(s.qr_token for s in secrets)
    for secret in secrets:
        response = client.post("/api/v1/station/login", json={"token": secret.qr_token})
        assert response.get_json()["station"] == secret.station


def test_a_badge_shows_station_and_code_but_no_name(tmp_path):
    from kiosk.stations.sign_in import new_badge_secrets

    secret = new_badge_secrets("B12")
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(render_badges([secret], event_name="省赛", session_name="第二场"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "B12" in text and secret.fallback_display in text and "第二场" in text
    assert "姓名" not in text and "身份证" not in text


def test_tokens_are_long_ascii_and_codes_avoid_look_alikes():
    from kiosk.stations.sign_in import new_badge_secrets

    secret = new_badge_secrets("A01")
    assert secret.qr_token.isascii() and len(secret.qr_token) * 5 >= 128
    look_alikes = ["0OQD", "1IL7", "5S", "2Z", "8B", "6G", "UV"]
    for group in look_alikes:
        assert len(set(group) & set(FALLBACK_ALPHABET)) <= 1, group
    assert set(secret.fallback_code) <= set(FALLBACK_ALPHABET)
