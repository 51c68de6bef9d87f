"""The check-in desk and the first draw in a real browser, as the staff use them."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import screenshot, sign_in

pytestmark = pytest.mark.e2e


def _roster(demo):
    """The demo's roster is the seed's."""
    import csv
    from importlib import resources

    text = (resources.files("kiosk.seed") / "roster.csv").read_text("utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def test_the_desk_checks_in_by_scanner_and_by_name(page, demo_server):
    people = _roster(demo_server)
    sign_in(page, demo_server, role="checkin")
    page.click("nav >> text=检录台")
    field = page.locator("[data-scan-input]")
    expect(field).to_be_focused()
    # A scanner types the ID and Enter, fast, into the focused field.
    page.keyboard.type(people[0]["身份证号"], delay=5)
    page.keyboard.press("Enter")
    expect(page.locator(".person-name")).to_have_text(people[0]["姓名"])
    expect(page.locator(".desk-result")).to_have_class(re.compile("ok"))
    expect(field).to_be_focused()  # ready for the next contestant
    screenshot(page, "checkin-desk")
    # The same ID again: already checked in, nothing changes.
    page.keyboard.type(people[0]["身份证号"])
    page.keyboard.press("Enter")
    expect(page.locator(".desk-result")).to_have_class(re.compile("already"))
    expect(page.locator(".person-status")).to_contain_text("已于")
    # A name: choose among the matches.
    page.keyboard.type(people[1]["姓名"])
    page.keyboard.press("Enter")
    page.locator(".match").first.click()
    expect(page.locator(".person-name")).to_have_text(people[1]["姓名"])
    expect(page.locator("[data-present]")).to_have_text(re.compile(r"^[2-9]|\d\d"))


def test_the_first_draw_ceremony_runs_in_the_browser(browser, demo_server):
    """Judge and supervisor on two screens: commitment, entropy, prepare, print, seal."""
    people = _roster(demo_server)
    desk = browser.new_context(viewport={"width": 1366, "height": 900})
    page = desk.new_page()
    sign_in(page, demo_server, role="checkin")
    page.goto(demo_server["url"] + "/checkin")
    expect(page.locator("[data-scan-input]")).to_be_focused()
    for person in people[2:8]:
        page.keyboard.type(person["身份证号"])
        page.keyboard.press("Enter")
        expect(page.locator(".person-name")).to_have_text(person["姓名"])
    desk.close()

    judge_context = browser.new_context(viewport={"width": 1366, "height": 900})
    judge = judge_context.new_page()
    sign_in(judge, demo_server, role="crypt1")
    judge.click("nav >> text=一次抽签")
    summary = judge.get_by_text(re.compile(r"参加抽签 \d+ 人"))  # on the draw page, once loaded
    taking_part = int(re.search(r"参加抽签 (\d+) 人", summary.inner_text()).group(1))
    judge.click("text=生成承诺值")
    commitment = judge.locator("[data-commitment]").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    screenshot(judge, "draw-commitment")

    supervisor_context = browser.new_context(viewport={"width": 1366, "height": 900})
    supervisor = supervisor_context.new_page()
    sign_in(supervisor, demo_server, role="supervisor")
    supervisor.goto(demo_server["url"] + "/draw/1")
    assert supervisor.locator("[data-commitment]").inner_text() == commitment
    supervisor.fill("input[name=entropy]", "5 3 6 1 2")
    supervisor.click("button:has-text('抽签')")
    expect(supervisor.locator("table.grid tbody tr")).to_have_count(taking_part)
    supervisor_context.close()

    judge.reload()
    judge.click("button:has-text('准备封存')")
    expect(judge.locator("text=封存记录 SHA-256")).to_be_visible()
    screenshot(judge, "draw-result")
    judge.check("input[name=confirm]")
    judge.click("button:has-text('立即封存')")
    expect(judge.locator(".card.sealed")).to_be_visible()
    expect(judge.locator("table.grid")).to_have_count(0)  # the pairs are gone from the page
    judge_context.close()
