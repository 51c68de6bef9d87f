"""The staff side of the exam in a real browser: the chief judge starts the practical exam and
announces on 考试控制, the check-in staff print a badge on 工位牌, a field judge sees the
station online on 赛位监控 and extends its time, and the contestant's screen follows."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import badge_sign_in, screenshot, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e


@pytest.fixture
def day_server(tmp_path):
    with served_demo(tmp_path / "day") as demo:
        yield demo


def _staff(browser, demo, username):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return sign_in(context.new_page(), demo, username=username)


def _remaining_seconds(text):
    minutes, seconds = re.findall(r"(\d+):(\d\d)", text)[-1]
    return int(minutes) * 60 + int(seconds)


def test_chief_checkin_field_and_contestant_through_their_pages(browser, day_server):
    demo = day_server
    # Check-in staff reprint the badge of A05 only.
    desk = _staff(browser, demo, "checkin")
    desk.click("nav >> text=工位牌")
    desk.click("button[data-select=none]")
    desk.check("input[name=station][value=A05]")
    with desk.context.expect_page() as printed:
        desk.click("button[type=submit].primary")
    pdf = printed.value
    pdf.wait_for_load_state()
    assert pdf.evaluate("document.contentType") == "application/pdf"
    # The old A05 code no longer signs in; A01's still does.
    old_code = next(s["code"] for s in demo["stations"] if s["station"] == "A05")
    stale = browser.new_context(locale="zh-CN").new_page()
    badge_sign_in(stale, demo["url"], old_code)
    expect(stale.locator("[data-login-message]")).to_contain_text("无效")

    contestant = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    badge_sign_in(contestant, demo["url"], demo["stations"][0]["code"])
    expect(contestant.locator("[data-view=waiting]")).to_be_visible()

    # The chief judge starts the practical exam and announces, on 考试控制.
    chief = _staff(browser, demo, "chief")
    chief.click("nav >> text=考试控制")
    start = chief.locator("form:has(input[name=phase][value=practical])"
                          ":has(input[name=action][value=start])")
    start.locator("input[name=minutes]").fill("30")
    start.locator("button[type=submit]").click()
    # Running: the page now offers to end it (and to pause), not to start it.
    expect(chief.locator("form:has(input[name=phase][value=practical])"
                         ":has(input[name=action][value=end])")).to_be_visible()
    chief.fill("input[name=text]", "距离结束还有 30 分钟，请注意保存")
    chief.click("button:has-text('发布')")
    # The page reloads saying so, with the announcement listed (a screenshot mid-navigation
    # fails, so the test waits for both).
    expect(chief.locator(".flash-success")).to_contain_text("公告已发布")
    expect(chief.locator("table.grid td", has_text="请注意保存")).to_be_visible()
    screenshot(chief, "exam-control")

    expect(contestant.locator("[data-view=practical]")).to_be_visible(timeout=10000)
    expect(contestant.locator("[data-announcement]")).to_contain_text("请注意保存",
                                                                      timeout=10000)
    countdown = contestant.locator("[data-practical-countdown]")
    expect(countdown).to_have_text(re.compile(r"\d+:\d\d"))
    before = _remaining_seconds(countdown.inner_text())
    assert 28 * 60 < before <= 30 * 60

    # A field judge sees A01 online, and extends it by 10 minutes for a failed PC.
    field = _staff(browser, demo, "field")
    field.click("nav >> text=赛位监控")
    row = field.locator("table.dashboard tr", has_text="A01")
    expect(row).to_contain_text("在线")
    screenshot(field, "field-dashboard")
    row.locator("a", has_text="A01").click()
    extend = field.locator("form:has(input[name=action][value=extend])")
    extend.locator("input[name=minutes]").fill("10")
    extend.locator("button[type=submit]").click()
    expect(field.locator(".flash-success")).to_be_visible()
    # Only A01's deadline moves; its screen shows the new time within a poll or two.
    expect(countdown).to_have_text(re.compile(r"^(3[89]|40):\d\d"), timeout=15000)
    field.click("nav >> text=赛位监控")
    expect(field.locator("table.dashboard tr", has_text="A01")).to_contain_text("+10")
    for page in (desk, stale, contestant, chief, field, pdf):
        page.context.close()
