"""A short practical phase in a real browser: the warning banner appears at its threshold, an
announcement reaches the kiosk and the hall clock, and the page stops at the end."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import badge_sign_in, screenshot, served_demo
from tests.servers import cli

pytestmark = pytest.mark.e2e
SHIFTED_CLOCK = """(() => {
  const shift = %d, RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) { super(...(args.length ? args : [RealDate.now() + shift])); }
    static now() { return RealDate.now() + shift; }
  }
  globalThis.Date = ShiftedDate;
})();"""
PHASE_MINUTES = 0.45  # 27 s
WARNING_MINUTES = 0.25  # the banner at 15 s before the end


@pytest.fixture
def phase_server(tmp_path):
    with served_demo(tmp_path / "phase",
                     config=f"warnings_at_minutes = [{WARNING_MINUTES}]\n") as demo:
        yield demo


def test_warning_at_the_threshold_announcement_and_stop_at_the_end(browser, phase_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    badge_sign_in(page, phase_server["url"], phase_server["stations"][0]["code"])
    expect(page.locator("[data-view=waiting]")).to_be_visible()

    hall_context = browser.new_context(viewport={"width": 1280, "height": 720})
    hall = hall_context.new_page()
    from kiosk.instance import open_instance

    instance = open_instance(phase_server["path"])
    token = instance.hall_token()
    instance.engine.dispose()
    hall.goto(f"{phase_server['url']}/hall/{token}")

    begun = cli(phase_server["path"], "phase", "start", "practical", "--minutes",
                str(PHASE_MINUTES))
    # From the server's start, not from the command's exit (a second later on a busy machine).
    from datetime import UTC, datetime

    since = datetime.now(UTC) - datetime.fromisoformat(begun["starts_at"])
    started = time.monotonic() - since.total_seconds()
    expect(page.locator("[data-view=practical]")).to_be_visible(timeout=10000)
    banner = page.locator("[data-warning-banner]")
    expect(banner).to_be_hidden()
    assert time.monotonic() - started < (PHASE_MINUTES - WARNING_MINUTES) * 60

    expect(hall.locator("[data-hall-countdown]")).to_have_text(re.compile(r"^00:[0-2]\d$"))
    cli(phase_server["path"], "announce", "请保存作品")
    expect(page.locator("[data-announcement]")).to_have_text("请保存作品", timeout=10000)
    expect(hall.locator("[data-hall-note]")).to_have_text("请保存作品", timeout=10000)

    expect(banner).to_be_visible(timeout=20000)
    warned_after = time.monotonic() - started
    threshold = (PHASE_MINUTES - WARNING_MINUTES) * 60
    assert threshold - 1 <= warned_after <= threshold + 6  # at the threshold, by the server
    screenshot(page, "practical-warning")
    screenshot(hall, "hall-clock")

    expect(page.locator("[data-done-text]")).to_contain_text("实操技能考核已结束",
                                                            timeout=20000)
    assert time.monotonic() - started >= PHASE_MINUTES * 60 - 1
    hall_context.close()
    context.close()


def test_a_workstation_clock_hours_wrong_still_counts_down_the_servers_time(browser,
                                                                            phase_server):
    """The countdown comes from the server's deadline and the server's clock; a workstation
    whose own clock is three hours ahead (or a day behind) shows the same remaining time."""
    from datetime import timedelta

    cli(phase_server["path"], "phase", "start", "practical", "--minutes", "30")
    shown = {}
    # Two workstations (one browser per station), one clock ahead and one behind.
    for index, (label, offset) in enumerate((("ahead", timedelta(hours=3)),
                                             ("behind", timedelta(days=-1))), start=1):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        # The workstation's system clock is wrong: every Date the page sees is shifted.
        page.add_init_script(SHIFTED_CLOCK % int(offset.total_seconds() * 1000))
        badge_sign_in(page, phase_server["url"], phase_server["stations"][index]["code"])
        countdown = page.locator("[data-practical-countdown]")
        expect(countdown).to_have_text(re.compile(r"\d+:\d\d"), timeout=10000)
        minutes, seconds = (int(x) for x in re.findall(r"(\d+):(\d\d)", countdown.inner_text())
                            [-1])
        shown[label] = minutes * 60 + seconds
        assert 28 * 60 <= shown[label] <= 30 * 60, (label, countdown.inner_text())
        context.close()
