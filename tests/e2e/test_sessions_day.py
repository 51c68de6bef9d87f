"""An event of two sessions (场次) in a real browser: the session draw at the leaders' meeting
on its page, the header's session switch, each session's check-in desk (a contestant of the
other session told where they belong), and a workstation refusing the afternoon's badge while
the hall serves the morning."""

import csv
import re
from importlib import resources

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kiosk import clock
from kiosk.instance import open_instance
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges
from tests.actors import FACTORY
from tests.e2e.pages import assert_accessible, badge_sign_in, screenshot, sign_in
from tests.servers import cli, served_demo

pytestmark = pytest.mark.e2e


def _two_sessions(path):
    cli(path, "sessions", "add", "AM", "--name", "上午场", "--groups", "职工组")
    cli(path, "sessions", "add", "PM", "--name", "下午场", "--groups", "学生组")
    instance = open_instance(path)
    try:
        with instance.session() as session:
            exam_sessions.enter(session, exam_sessions.by_code(session, "PM"))
            station = session.scalars(select(Station).where(Station.code == "A01")).one()
            [badge] = issue_badges(session, [station], badge_key=instance.badge_key(),
                                   actor=FACTORY, now=clock.now())
    finally:
        instance.engine.dispose()
    return {"pm_badge": badge.fallback_display}


@pytest.fixture
def two_sessions(tmp_path):
    with served_demo(tmp_path / "sessions", prepare=_two_sessions) as demo:
        yield demo


def _roster():
    text = (resources.files("kiosk.seed") / "roster.csv").read_text("utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def _staff(browser, demo, role):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return sign_in(context.new_page(), demo, role=role)


def _scan(page, id_number):
    page.locator("[data-scan-input]").fill("")
    page.keyboard.type(id_number, delay=2)
    page.keyboard.press("Enter")


def test_two_sessions_draw_switch_check_in_and_badges(browser, two_sessions):
    demo = two_sessions
    people = _roster()
    worker = next(p for p in people if p["组别"] == "职工组")
    student = next(p for p in people if p["组别"] == "学生组")

    # The leaders' meeting: commitment first, then the meeting's entropy, then the result.
    chief = _staff(browser, demo, "chief")
    chief.goto(demo["url"] + "/sessions/draw")
    chief.get_by_role("button", name="生成承诺值").click()
    commitment = chief.locator("[data-commitment]")
    expect(commitment).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    chief.fill("input[name=entropy]", "3 5 1 6 2 4")
    chief.get_by_role("button", name="抽签").click()
    result = chief.locator("[data-session-result] tbody tr")
    expect(result).to_have_count(len(people))
    expect(chief.locator("[data-session-result]")).to_contain_text("下午场")
    screenshot(chief, "session-draw")
    assert_accessible(chief)

    # The header says which session the pages are about, and which one the hall serves.
    switch = chief.locator(".session-switch select")
    expect(switch.locator("option[selected]")).to_have_text("上午场 · 进行中")

    # The morning's desk: a morning contestant checks in, an afternoon one is sent away.
    desk = _staff(browser, demo, "checkin")
    desk.goto(demo["url"] + "/checkin")
    expect(desk.locator("[data-session-label]")).to_contain_text("上午场")
    _scan(desk, worker["身份证号"])
    expect(desk.locator(".person-name")).to_have_text(worker["姓名"])
    _scan(desk, student["身份证号"])
    expect(desk.locator(".desk-result")).to_contain_text("下午场")
    screenshot(desk, "checkin-other-session")
    # Switched to the afternoon, the same desk checks the student in.
    desk.locator(".session-switch select").select_option("PM")
    desk.locator(".session-switch button").click()
    expect(desk.locator("[data-session-label]")).to_contain_text("下午场")
    _scan(desk, student["身份证号"])
    expect(desk.locator(".person-name")).to_have_text(student["姓名"])
    expect(desk.locator(".desk-result")).to_have_class(re.compile("ok"))

    # A workstation: the afternoon's badge is refused while the hall serves the morning.
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    kiosk = badge_sign_in(context.new_page(), demo["url"], demo["pm_badge"])
    message = kiosk.locator("[data-login-message]")
    expect(message).to_contain_text("下午场")
    expect(message).to_contain_text("上午场")
    screenshot(kiosk, "kiosk-wrong-session")
    morning = badge_sign_in(context.new_page(), demo["url"], demo["stations"][0]["code"])
    expect(morning.locator("[data-login-form]")).to_be_hidden()
