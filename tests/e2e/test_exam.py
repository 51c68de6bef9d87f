"""The theory exam in a real browser, through everything that loses answers elsewhere: a reload,
a dropped network, and the deadline."""

import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import badge_sign_in, screenshot
from tests.servers import Server, cli

pytestmark = pytest.mark.e2e
PHASE_MINUTES = 0.6  # 36 s: long enough to work through the steps, short enough to watch the lock


@pytest.fixture
def exam_server(tmp_path):
    path = tmp_path / "exam"
    info = cli(path, "demo", "--no-serve")
    cli(path, "paper", "set", "--single", "8", "--tf", "4", "--single-points", "2",
        "--tf-points", "1")
    server = Server(path).start()
    cli(path, "phase", "start", "theory", "--minutes", str(PHASE_MINUTES))
    yield {**info, "url": server.url, "path": path, "started": time.monotonic()}
    server.stop()
    shutil.rmtree(path, ignore_errors=True)


def test_answers_survive_reload_and_offline_and_the_page_locks_at_the_deadline(browser,
                                                                              exam_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    code = exam_server["stations"][4]["code"]
    page.goto(exam_server["url"] + "/kiosk")
    expect(page.locator("input[name=token]")).to_be_focused()
    page.keyboard.type(code.replace("-", ""), delay=8)  # a scanner types fast and hits Enter
    page.keyboard.press("Enter")
    expect(page.locator("[data-view=exam]")).to_be_visible()
    expect(page.locator(".kiosk-station")).to_have_text("A05")
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^\d\d:\d\d$"))

    # Answer question 1 with the mouse and question 2 with the keyboard.
    page.locator(".option").nth(1).click()
    expect(page.locator("[data-save-status]")).to_have_text("已保存")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("c")
    expect(page.locator("[data-save-status]")).to_have_text("已保存")
    chosen_q2 = page.locator(".option.chosen").text_content()

    # A reload brings back exactly what the server acknowledged.
    page.reload()
    expect(page.locator(".nav-item.answered")).to_have_count(2)
    page.locator(".nav-item").nth(1).click()
    expect(page.locator(".option.chosen")).to_have_text(chosen_q2)

    # The network drops: the answer waits on this computer, the page says so.
    context.set_offline(True)
    page.locator(".nav-item").nth(2).click()
    page.keyboard.press("1")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("[data-save-status]")).to_have_class(re.compile("failed"))
    screenshot(page, "exam-offline")
    context.set_offline(False)
    expect(page.locator("[data-save-status]")).to_have_text("已保存", timeout=20000)
    expect(page.locator("[data-offline-banner]")).to_be_hidden()
    screenshot(page, "exam-question")

    # Confirmed by the server, not by the page: the results already count three answers.
    midway = cli(exam_server["path"], "exam", "scores")
    assert next(s for s in midway["stations"] if s["station"] == "A05")["answered"] == 3

    # At the deadline the page locks itself.
    remaining = PHASE_MINUTES * 60 - (time.monotonic() - exam_server["started"])
    expect(page.locator("[data-view=done]")).to_be_visible(timeout=(remaining + 15) * 1000)
    expect(page.locator("[data-done-text]")).to_contain_text("理论知识考试已结束")
    expect(page.locator("[data-done-closed]")).to_contain_text("答题已关闭")
    context.close()
    scores = cli(exam_server["path"], "exam", "scores")
    a05 = next(s for s in scores["stations"] if s["station"] == "A05")
    assert a05["answered"] == 3


def test_submitting_early_lists_the_unanswered_questions(browser, exam_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    badge_sign_in(page, exam_server["url"], exam_server["stations"][6]["code"])
    expect(page.locator("[data-view=exam]")).to_be_visible()
    page.keyboard.press("a")
    expect(page.locator("[data-save-status]")).to_have_text("已保存")
    page.click("[data-submit]")
    expect(page.locator("[data-confirm-text]")).to_contain_text("2、3、4")
    screenshot(page, "exam-submit")
    page.click("[data-confirm-yes]")
    expect(page.locator("[data-done-text]")).to_contain_text("已于")
    context.close()

