"""The hall map in a real browser: the field judge's board shows the demo's hall (seed 000's
场地布局图: rows, aisles, spare seats, the judges' desk and the door) with each station's state
in words and symbol, a seat opens the station; the check-in desk shows a contestant their own
seat and nobody else's; the chief judge's layout page previews as they type."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import assert_accessible, badge_sign_in, screenshot, sign_in
from tests.factories import without_csrf_tokens
from tests.servers import cli, served_demo

pytestmark = pytest.mark.e2e


AT_WORK = [f"A{n:02d}" for n in range(5, 53)]  # signed in by the fixture, answering
HANDED_IN = {"A09", "A14", "A22", "A35", "A41", "A46"}


def _drawn_and_running(path):
    """The station draw is done (56 seats taken, A57–A60 not drawn), the theory exam runs;
    A05–A52 are signed in and answering (a few handed in, an incident at A27), as a hall looks
    ten minutes into the exam. A01–A04 are the test's own."""
    from datetime import timedelta

    from kiosk import clock
    from kiosk.audit import Actor
    from kiosk.field import incidents
    from kiosk.instance import open_instance
    from kiosk.stations import binding
    from kiosk.stations.models import Station
    from kiosk.theory_exam import exam
    from kiosk.theory_exam.models import Paper

    instance = open_instance(path)
    with instance.session() as session:
        for station in session.query(Station):
            station.occupied = station.code <= "A56"
        session.commit()
    cli(path, "phase", "start", "theory", "--minutes", "60")
    grace = timedelta(seconds=2)
    with instance.session() as session:
        stations = {s.code: s for s in session.query(Station)}
        papers = dict(session.query(Paper.station_id, Paper.key_map))
        for number, code in enumerate(AT_WORK):
            station = stations[code]
            binding.claim(session, station, current_nonce=None, address=f"10.1.1.{number + 5}",
                          user_agent="test", now=clock.now())
            for seq, (qid, entry) in enumerate(list(papers[station.id].items())[
                    :60 if code in HANDED_IN else 4 + number % 37], start=1):
                exam.save_answer(session, station.id, qid, next(iter(entry["keys"])), seq,
                                 now=clock.now(), grace=grace)
            if code in HANDED_IN:
                exam.submit(session, station.id, code, now=clock.now(), grace=grace)
        incidents.note_incident(session, "A27", "第三条：未经允许离开赛位", actor=Actor("chief",
                                "chief"), now=clock.now())
    instance.engine.dispose()


def _heartbeats(path):
    """The fixture's workstations are still there (their pages would poll every 5 s)."""
    from kiosk import clock
    from kiosk.instance import open_instance
    from kiosk.stations.models import Station, StationSession

    instance = open_instance(path)
    with instance.session() as session:
        ids = [s.id for s in session.query(Station).filter(Station.code.in_(AT_WORK))]
        session.query(StationSession).filter(StationSession.station_id.in_(ids)) \
            .update({"last_seen": clock.now()}, synchronize_session=False)
        session.commit()
    instance.engine.dispose()


@pytest.fixture
def hall(tmp_path):
    with served_demo(tmp_path / "hall", prepare=_drawn_and_running) as demo:
        yield demo


def _context(browser, **options):
    return browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                               **options)


def test_the_board_map_the_desk_seat_and_the_layout_page(browser, hall):
    # Three workstations at work: A01 answers, A02 hands in, A03 signs in.
    stations = []
    for index in range(3):
        stations.append(browser.new_context(viewport={"width": 1280, "height": 800}))
        page = stations[-1].new_page()
        badge_sign_in(page, hall["url"], hall["stations"][index]["code"])
        expect(page.locator("[data-view=exam]")).to_be_visible()
        if index < 2:
            for number in range(3):
                page.locator(".nav-item").nth(number).click()
                page.locator(".option").first.click()
                expect(page.locator("[data-save-status]")).to_have_text("已保存")
        if index == 1:
            page.locator("[data-submit]").click()
            page.locator("[data-confirm-yes]").click()
            expect(page.locator("[data-view=done]")).to_be_visible()
    cli(hall["path"], "extend", "A04", "10", "--reason", "设备故障（非选手原因）")

    _heartbeats(hall["path"])
    field = _context(browser).new_page()
    sign_in(field, hall, role="field")
    field.goto(hall["url"] + "/field")
    board = field.locator("table.board-map")
    expect(board).to_be_visible()
    seat = board.locator("td.hm-seat", has=field.locator("a[href$='/field/A01']"))
    expect(seat).to_contain_text("作答中 3/60")
    expect(board.locator("td.hm-seat", has=field.locator("a[href$='/field/A02']"))) \
        .to_contain_text("已提交")
    expect(board.locator("td.hm-seat", has=field.locator("a[href$='/field/A04']"))) \
        .to_contain_text("延时 +10.0′")
    # Drawn and not signed in while the exam runs: an alarm, in words and in its own outline.
    a55 = board.locator("td.hm-seat", has=field.locator("a[href$='/field/A55']"))
    expect(a55).to_contain_text("离线")
    assert "✕" in a55.inner_text()
    expect(board.locator("td.hm-seat", has=field.locator("a[href$='/field/A35']"))) \
        .to_contain_text("已提交")
    expect(board.locator("td.hm-seat", has=field.locator("a[href$='/field/A27']"))) \
        .to_contain_text("1 条违规记录")
    expect(board.locator("td.hm-seat", has=field.locator("a[href$='/field/A58']"))) \
        .to_contain_text("未使用")
    expect(board.locator("td.hm-landmark", has_text="裁判席")).to_be_visible()
    expect(board.locator("td.hm-cross", has_text="主通道")).to_be_visible()
    assert board.locator("td.st-spare-seat").count() == 2
    expect(field.locator("table.dashboard")).to_be_visible()  # the list is still below
    field.locator("[data-hall-map]").scroll_into_view_if_needed()
    screenshot(field, "field-hall-map")
    assert_accessible(field)
    seat.locator("a").click()
    field.wait_for_url("**/field/A01")
    expect(field.locator("h1")).to_contain_text("A01")
    field.context.close()

    # The check-in desk: the contestant who drew A17 sees where A17 is, and nothing else.
    desk = _context(browser).new_page()
    sign_in(desk, hall, role="checkin")
    desk.goto(hall["url"] + "/checkin")
    assert not re.search(r"A\d\d", without_csrf_tokens(desk.locator("main").inner_html()))
    desk.fill("[data-seat-input]", "a17")
    desk.press("[data-seat-input]", "Enter")
    view = desk.locator("[data-seat-view]")
    view.scroll_into_view_if_needed()
    expect(view.locator("[data-your-seat]")).to_contain_text("A17")
    expect(view).to_contain_text("您的座位：A17")
    expect(view).to_contain_text("第 2 排，从左数第 7 个")
    assert set(re.findall(r"A\d\d", without_csrf_tokens(view.inner_html()))) == {"A17"}
    assert view.locator("td.st-blank").count() == 59 + 2
    screenshot(desk, "checkin-seat")
    assert_accessible(desk)
    view.locator("[data-seat-close]").click()
    expect(desk.locator("[data-seat-view]")).to_have_count(0)
    desk.context.close()

    # The chief judge's layout page: the preview follows the typing, a mistake is listed.
    chief = _context(browser).new_page()
    sign_in(chief, hall, role="chief")
    chief.goto(hall["url"] + "/field/layout")
    expect(chief.locator("[data-layout-current]")).to_contain_text("60 个赛位、2 个备用工位")
    text = chief.locator("[data-layout-text]")
    text.fill(text.input_value() + "\nA01 A99")
    expect(chief.locator("[data-layout-preview]")).to_contain_text(
        "A01 在布局图上出现了两次", timeout=10000)
    expect(chief.locator("[data-layout-preview]")).to_contain_text(
        "A99 在布局图上，但不是本赛事的赛位")
    assert_accessible(chief)
    pdf = chief.request.get(hall["url"] + "/field/layout.pdf")
    assert pdf.ok and pdf.body()[:5] == b"%PDF-"
    chief.context.close()
    for context in stations:
        context.close()
