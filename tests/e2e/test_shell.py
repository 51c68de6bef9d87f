"""The UI shell in a real browser: staff sign-in in Chinese, the role's navigation, language
switch, and a workstation signing in to its station with the badge code."""

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import screenshot, sign_in

pytestmark = pytest.mark.e2e


def _user(demo, role):
    return next(u for u in demo["users"] if u["role"] == role)


def test_supervisor_signs_in_in_chinese_and_reads_the_audit_log(page, demo_server):
    supervisor = _user(demo_server, "supervisor")
    page.goto(demo_server["url"] + "/")
    assert page.locator("h1").inner_text() == "工作人员登录"
    screenshot(page, "staff-login")
    page.fill("input[name=username]", supervisor["username"])
    page.fill("input[name=password]", supervisor["password"])
    page.click("button[type=submit].primary")
    page.wait_for_url("**/staff")
    assert page.locator("h1").inner_text() == "监督人员"
    page.click("nav >> text=操作日志")
    page.wait_for_url("**/audit")
    assert page.locator("table.grid tbody tr").count() > 10
    assert page.locator("tr[data-action='roster.imported']").count() == 1
    screenshot(page, "audit-log")
    page.fill("input[name=action]", "staff.")
    page.click("form.filters button")
    page.wait_for_url(re.compile(r"[?&]action=staff\.(&|$)"))  # the filtered page, loaded
    actions = [row.get_attribute("data-action")
               for row in page.locator("table.grid tbody tr[data-action]").all()]
    assert actions and all(a.startswith("staff.") for a in actions)


def test_a_supervisor_scans_a_checkpoint_from_paper_into_the_audit_log_page(page, demo_server):
    made = subprocess.run([sys.executable, "-m", "kiosk", "--instance", str(demo_server["path"]),
                           "audit", "checkpoint", "--json"], capture_output=True, text=True,
                          check=True)
    text = json.loads(made.stdout)["text"]
    supervisor = _user(demo_server, "supervisor")
    page.goto(demo_server["url"] + "/login")
    page.fill("input[name=username]", supervisor["username"])
    page.fill("input[name=password]", supervisor["password"])
    page.click("button[type=submit].primary")
    page.wait_for_url("**/staff")
    page.goto(demo_server["url"] + "/audit")
    # A USB scanner types into the focused field and ends with Enter.
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    outcome = page.locator("[data-checkpoint-outcome]")
    expect(outcome).to_have_attribute("data-checkpoint-outcome", "holds")
    expect(outcome).to_contain_text("审计日志仍完整保有此检查点")
    screenshot(page, "audit-checkpoint")


def test_a_wrong_password_says_so_in_chinese(page, demo_server):
    page.goto(demo_server["url"] + "/login")
    page.fill("input[name=username]", "chief")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit].primary")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()


def test_english_is_one_click_away_and_stays(page, demo_server):
    page.goto(demo_server["url"] + "/login")
    # The switch reloads the page: wait for the new heading, never read the old one.
    page.click("button:has-text('English')")
    expect(page.locator("h1")).to_have_text("Staff sign-in")
    page.reload()
    expect(page.locator("h1")).to_have_text("Staff sign-in")
    page.click("button:has-text('中文')")
    expect(page.locator("h1")).to_have_text("工作人员登录")


def test_workstation_signs_in_with_the_typed_badge_code(page, demo_server):
    token = next(s["code"] for s in demo_server["stations"] if s["station"] == "A07")
    page.goto(demo_server["url"] + "/kiosk")
    screenshot(page, "kiosk-login")
    badge = page.locator("input[name=token]")
    assert badge.get_attribute("type") == "password"  # no IME between the scanner and the field
    badge.fill("WRONGCODE123")
    badge.press("Enter")
    expect(page.get_by_text("工位牌编码无效")).to_be_visible()
    expect(badge).to_be_focused()  # ready for the next scan
    badge.fill(token.lower())  # typed as people type it: lower case, with the dashes
    badge.press("Enter")
    page.wait_for_selector("text=赛位 A07")
    assert page.locator(".kiosk-station").inner_text() == "A07"
    # Before the start: the rules and the wait, and nothing of the exam.
    expect(page.locator("[data-view=waiting]")).to_be_visible()
    expect(page.locator("[data-view=exam]")).to_be_hidden()
    expect(page.locator("[data-submit]")).to_be_hidden()
    expect(page.locator("[data-server-time]")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    screenshot(page, "kiosk-waiting")


def test_a_workstation_in_the_wrong_time_zone_still_shows_the_halls_time(browser, demo_server):
    """The workstation's clock settings never change what the contestant sees."""
    from datetime import datetime

    hall_time = datetime.now().astimezone()  # the server's zone is the hall's
    context = browser.new_context(timezone_id="America/Los_Angeles", locale="zh-CN")
    page = context.new_page()
    page.goto(demo_server["url"] + "/kiosk")
    shown = page.locator("[data-server-time]")
    expect(shown).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    hours, minutes, _ = (int(x) for x in shown.inner_text().split(":"))
    shown_minutes = hours * 60 + minutes
    expected = hall_time.hour * 60 + hall_time.minute
    assert min(abs(shown_minutes - expected), 1440 - abs(shown_minutes - expected)) <= 1
    context.close()


SIZES = [(1366, 768), (1920, 1080)]


def _header_layout(page) -> dict:
    return page.evaluate("""() => {
        const header = document.querySelector("header.topbar").getBoundingClientRect();
        const entries = [...document.querySelectorAll("header nav a")].map(a => {
            const box = a.getBoundingClientRect();
            return {text: a.textContent.trim(), top: Math.round(box.top), left: box.left,
                    right: box.right, shown: box.width > 0 && box.height > 0};
        });
        return {height: header.height, entries, width: window.innerWidth,
                scrollWidth: document.documentElement.scrollWidth};
    }""")


@pytest.mark.parametrize("role", ["chief", "supervisor", "checkin", "crypt1", "crypt2", "field",
                                  "scorer"])
def test_the_staff_header_is_one_compact_line_of_navigation_for_every_role(browser, demo_server,
                                                                            role):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, demo_server, role=role)
        expected = page.locator("ul.tasks a").all_inner_texts()  # the home page's task list
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            layout = _header_layout(page)
            texts = [e["text"] for e in layout["entries"]]
            assert texts[1:] == expected, (width, texts)  # nothing hidden: home + every task
            # At most a tenth of a 768-px screen; every entry on one line, inside the screen.
            assert layout["height"] <= 76, (width, layout["height"])
            assert len({e["top"] for e in layout["entries"]}) == 1, (width, layout["entries"])
            assert all(e["shown"] and e["left"] >= 0 and e["right"] <= width
                       for e in layout["entries"]), (width, layout["entries"])
            assert layout["scrollWidth"] <= width
    finally:
        context.close()


def test_in_english_the_chief_judges_header_wraps_compactly_and_hides_nothing(browser,
                                                                            demo_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, demo_server, role="chief")
        page.click("button:has-text('English')")
        expect(page.locator("h1")).to_have_text("Chief judge")
        page.wait_for_load_state("load")  # measured with its stylesheet, not before it
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            layout = _header_layout(page)
            assert len(layout["entries"]) == 15  # 赛程 joined 考试控制
            assert layout["height"] <= 110, (width, layout["height"])
            assert all(e["shown"] and e["right"] <= width for e in layout["entries"])
            assert layout["scrollWidth"] <= width
    finally:
        context.close()
