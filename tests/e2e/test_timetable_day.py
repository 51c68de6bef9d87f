"""A day of two practical modules (A, then B) in a real browser: 考试控制 lists the parts, A's
15-minute warning shows 15 minutes before A's own end, an extension moves only that station's
deadline, A's end shows the between-parts screen on the workstation; 赛程 shows the timetable."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import badge_sign_in, screenshot, sign_in
from tests.servers import cli, served_demo

pytestmark = pytest.mark.e2e

TWO_MODULES = """
[[part]]
key = "A"
name = "模块A：数据处理"
kind = "practical"
minutes = 60
warnings = [15, 5, 1]

[[part]]
key = "B"
name = "模块B：模型训练"
kind = "practical"
minutes = 90
reading_minutes = 10
"""


@pytest.fixture
def two_modules(tmp_path):
    def prepare(path):
        (path / "timetable.toml").write_text(TWO_MODULES, "utf-8")
        cli(path, "timetable", "set", str(path / "timetable.toml"))

    with served_demo(tmp_path / "two", prepare=prepare) as demo:
        yield demo


def _staff(browser, demo, username):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return sign_in(context.new_page(), demo, username=username)


def _seconds(text):
    found = re.findall(r"(\d+):(\d\d)(?::(\d\d))?", text)[-1]
    if found[2]:
        return int(found[0]) * 3600 + int(found[1]) * 60 + int(found[2])
    return int(found[0]) * 60 + int(found[1])


def test_two_modules_on_the_control_page_and_the_workstation(browser, two_modules):
    demo = two_modules
    chief = _staff(browser, demo, "chief")
    chief.goto(demo["url"] + "/timetable")
    expect(chief.locator("[data-timetable]")).to_contain_text("模块A：数据处理")
    expect(chief.locator("[data-timetable]")).to_contain_text("模块B：模型训练")
    screenshot(chief, "timetable")

    chief.goto(demo["url"] + "/control")
    expect(chief.locator("[data-part=A]")).to_be_visible()
    expect(chief.locator("[data-part=B]")).to_be_visible()
    parts = chief.locator(".day-parts li")
    expect(parts).to_have_count(2)
    expect(parts.nth(0)).to_contain_text("模块A")

    a01 = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    badge_sign_in(a01, demo["url"], demo["stations"][0]["code"])
    a02 = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    badge_sign_in(a02, demo["url"], demo["stations"][1]["code"])

    # A runs 15 min 12 s: its 15-minute warning comes after about 12 seconds.
    start = chief.locator("[data-part=A] form:has(input[name=action][value=start])")
    start.locator("input[name=minutes]").fill("15.2")
    start.locator("button[type=submit]").click()
    expect(chief.locator(".flash-success")).to_be_visible()
    # B cannot start while A runs: the refusal names A.
    start_b = chief.locator("[data-part=B] form:has(input[name=action][value=start])")
    start_b.locator("button[type=submit]").click()
    expect(chief.locator(".flash-error")).to_contain_text("模块A")
    expect(chief.locator("[data-day-now]")).to_contain_text("模块A")
    screenshot(chief, "control-parts")

    for screen in (a01, a02):
        expect(screen.locator("[data-view=practical]")).to_be_visible(timeout=10000)
        expect(screen.locator("[data-practical-title]")).to_have_text("模块A：数据处理")
        expect(screen.locator("[data-practical-next]")).to_contain_text("模块B")
    banner = a01.locator("[data-warning-banner]")
    expect(banner).to_be_hidden()
    expect(banner).to_be_visible(timeout=20000)
    expect(banner).to_contain_text("15")
    remaining = _seconds(a01.locator("[data-practical-countdown]").inner_text())
    assert 14 * 60 < remaining <= 15 * 60

    # A field judge extends A02 by 5 minutes in A: only A02's deadline moves.
    judge = _staff(browser, demo, "field")
    judge.goto(demo["url"] + "/field/" + demo["stations"][1]["station"])
    form = judge.locator("form:has(input[name=action][value=extend])")
    expect(form.locator("select[name=part]")).to_have_value("A")
    form.locator("input[name=minutes]").fill("5")
    form.locator("button[type=submit]").click()
    expect(judge.locator(".flash-success")).to_be_visible()
    a02_countdown = a02.locator("[data-practical-countdown]")
    expect(a02_countdown).to_have_text(re.compile(r"^(19|20):"), timeout=10000)
    assert _seconds(a01.locator("[data-practical-countdown]").inner_text()) < 15 * 60

    # A ends (the chief judge ends it, extensions included): the between-parts screen.
    chief.goto(demo["url"] + "/control")
    end = chief.locator("[data-part=A] form:has(input[name=action][value=end])")
    end.locator("input[name=confirm]").check()
    end.locator("button[type=submit]").click()
    for screen in (a01, a02):
        expect(screen.locator("[data-view=done]")).to_be_visible(timeout=10000)
        expect(screen.locator("[data-done-text]")).to_contain_text("模块A：数据处理")
        expect(screen.locator("[data-view=practical]")).to_be_hidden()
        between = screen.locator("[data-done-between]")
        expect(between).to_contain_text("模块A：数据处理")
        expect(between).to_contain_text("模块B：模型训练")
    screenshot(a01, "workstation-between-parts")
    # A workstation not signed in says so too, before its badge is scanned.
    waiting = browser.new_context(locale="zh-CN").new_page()
    waiting.goto(demo["url"] + "/kiosk")
    expect(waiting.locator("[data-login-day]")).to_contain_text("模块A：数据处理", timeout=10000)
    expect(waiting.locator("[data-login-day]")).to_contain_text("模块B：模型训练")

    expect(a01.locator("[data-warning-banner]")).to_be_hidden()  # A is over: no A warning

    # B scheduled in 5 minutes, within its 10 minutes of reading time: the waiting screen says
    # the task books are out and when work starts, and that A has ended; so does the hall.
    at = (datetime.now() + timedelta(minutes=5)).replace(second=0, microsecond=0)
    cli(demo["path"], "phase", "start", "B", "--minutes", "90", "--at", at.isoformat())
    expect(a01.locator("[data-view=waiting]")).to_be_visible(timeout=10000)
    expect(a01.locator("[data-phase-message]")).to_contain_text("任务书", timeout=5000)
    expect(a01.locator("[data-phase-message]")).to_contain_text(at.strftime("%H:%M"))
    expect(a01.locator("[data-between]")).to_contain_text("模块A：数据处理")
    hall_url = chief.locator("a[href*='/hall/']").first.get_attribute("href")
    hall = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    hall.goto(hall_url)
    expect(hall.locator("[data-hall-phase]")).to_contain_text("模块B：模型训练", timeout=10000)
    expect(hall.locator("[data-hall-next]")).to_contain_text("模块A：数据处理")

    # B starts now: the practical screen of B.
    cli(demo["path"], "phase", "start", "B", "--minutes", "1")
    expect(a01.locator("[data-view=practical]")).to_be_visible(timeout=10000)
    expect(a01.locator("[data-practical-title]")).to_have_text("模块B：模型训练")
