"""Task books in a real browser: the chief judge adds one on the page; a workstation shows
nothing before the part starts, then lists it and downloads it."""

import hashlib

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import badge_sign_in, screenshot, sign_in
from tests.servers import cli, served_demo

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path):
    with served_demo(tmp_path / "materials") as demo:
        yield demo


def test_the_chief_adds_a_task_book_and_a_station_downloads_it_after_the_start(
        browser, server, tmp_path):
    book = tmp_path / "任务书 模块A.pdf"
    book.write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 100)
    chief = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = sign_in(chief.new_page(), server, role="chief")
    page.goto(server["url"] + "/materials")
    part = page.locator("section[data-part=practical]")
    part.locator("input[type=file]").set_input_files(str(book))
    part.locator("button[type=submit]").click()
    expect(part.locator("tr[data-file]")).to_have_count(1)
    expect(part.locator("tr[data-file] code")).to_have_text(
        hashlib.sha256(book.read_bytes()).hexdigest())
    screenshot(page, "materials")

    station = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    kiosk = station.new_page()
    badge_sign_in(kiosk, server["url"], server["stations"][2]["code"])
    panel = kiosk.locator("[data-materials]")
    kiosk.wait_for_timeout(1500)
    expect(panel).to_be_hidden()  # before the start: nothing, not even the empty panel
    cli(server["path"], "phase", "start", "practical", "--minutes", "30")
    link = panel.locator("a", has_text=book.name)
    expect(link).to_be_visible(timeout=15000)
    screenshot(kiosk, "workstation-materials")
    # The list shown, the page asks for it again only when the clock's tag of it changes:
    # over two more clock answers, nothing (it asked every second answer before).
    asked = {"clock": 0, "materials": 0}
    kiosk.on("request", lambda r: [asked.__setitem__(k, asked[k] + 1) for k in asked
                                   if r.url.endswith(f"/api/v1/{k}")])
    with kiosk.expect_request(lambda r: r.url.endswith("/api/v1/clock"), timeout=8000):
        pass
    with kiosk.expect_request(lambda r: r.url.endswith("/api/v1/clock"), timeout=8000):
        pass
    kiosk.wait_for_timeout(500)
    assert asked["clock"] >= 2 and asked["materials"] == 0, asked
    with kiosk.expect_download() as download:
        link.click()
    saved = tmp_path / "saved.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == book.name
    assert saved.read_bytes() == book.read_bytes()
    page.goto(server["url"] + "/materials/fetches")
    row = page.locator(f"tr[data-station='{server['stations'][2]['station']}']")
    expect(row.locator("td .ok")).to_have_count(1)
    screenshot(page, "materials-fetches")
    chief.close()
    station.close()
