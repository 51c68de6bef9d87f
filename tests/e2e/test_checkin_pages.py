"""The check-in pages as their people see them, on a demo event of this module's own: the desk
(scanner and name search), the draw that is final once shown, and axe on every page."""

import csv
import re
from importlib import resources

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import screenshot, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with served_demo(tmp_path_factory.mktemp("checkin") / "demo") as served:
        yield served


@pytest.fixture(scope="module")
def people():
    text = (resources.files("kiosk.seed") / "roster.csv").read_text("utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def _context(browser, width=1366, height=768):
    return browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")


def test_the_desk_scans_ids_and_finds_chinese_names(browser, demo, people):
    context = _context(browser)
    page = context.new_page()
    sign_in(page, demo, role="checkin")
    page.goto(demo["url"] + "/checkin")
    scanner = page.get_by_label("身份证号（扫描枪）")
    name = page.get_by_label("按姓名查找")
    # The scanner's field takes no input method; the name field shows what is typed.
    expect(scanner).to_be_focused()
    expect(scanner).to_have_attribute("type", "password")
    expect(name).not_to_have_attribute("type", "password")

    zhang = next(p for p in people if p["姓名"].startswith("张"))
    page.keyboard.type(zhang["身份证号"], delay=5)
    page.keyboard.press("Enter")
    expect(page.locator(".person-name")).to_have_text(zhang["姓名"])

    # A name typed with an input method (insert_text is what the IME commits).
    name.click()
    page.keyboard.insert_text("张")
    expect(name).to_have_value("张")
    page.keyboard.press("Enter")
    expect(page.locator(".match").first).to_be_visible()
    expect(page.locator("[data-matches]")).to_contain_text("有多人匹配")
    # The previous contestant's card is gone: it cannot be taken for one of the matches.
    expect(page.locator(".person-card")).to_have_count(0)
    checked = page.locator(".match", has_text=zhang["姓名"])
    expect(checked.first).to_contain_text("已检录")
    others = page.locator(".match").filter(has_not_text="已检录")
    expect(others.first).to_be_visible()
    page.locator(".match").first.click()  # checks in; the scanner's field is ready again
    expect(page.locator(".person-card")).to_be_visible()
    expect(page.locator(".match")).to_have_count(0)
    expect(scanner).to_be_focused()

    # A full name that only one person has: one match, said as one, not "several".
    only = next(p for p in people if sum(p["姓名"] in q["姓名"] for q in people) == 1
                and not p["姓名"].startswith("张"))
    name.fill(only["姓名"])
    page.keyboard.press("Enter")
    expect(page.locator(".match")).to_have_count(1)
    expect(page.locator("[data-matches]")).to_contain_text("找到 1 人")
    expect(page.locator("[data-matches]")).not_to_contain_text("多人")

    # A mistyped check digit is not "not on the roster".
    scanner.click()
    last = zhang["身份证号"][-1]
    page.keyboard.type(zhang["身份证号"][:17] + ("1" if last != "1" else "2"))
    page.keyboard.press("Enter")
    expect(page.locator(".desk-result.error")).to_contain_text("校验位错误")
    expect(page.locator(".person-card")).to_have_count(0)
    # % and _ are letters: nobody's name has them.
    name.fill("%")
    page.keyboard.press("Enter")
    expect(page.locator(".desk-result.error")).to_contain_text("名单中没有")
    expect(page.locator(".match")).to_have_count(0)
    expect(name).to_be_focused()
    context.close()

    for width, height in ((1366, 768), (1920, 1080)):
        context = _context(browser, width, height)
        page = context.new_page()
        sign_in(page, demo, role="checkin")
        page.goto(demo["url"] + "/checkin")
        page.get_by_label("按姓名查找").click()
        page.keyboard.insert_text("张")
        page.keyboard.press("Enter")
        expect(page.locator(".match").first).to_be_visible()
        screenshot(page, f"checkin-desk-{width}")
        context.close()


def test_a_redraw_after_the_result_was_shown_needs_a_supervisor(browser, demo, people):
    desk_context = _context(browser)
    desk = desk_context.new_page()
    sign_in(desk, demo, role="checkin")
    desk.goto(demo["url"] + "/checkin")
    for person in people[10:14]:
        desk.keyboard.type(person["身份证号"])
        desk.keyboard.press("Enter")
        expect(desk.locator(".person-name")).to_have_text(person["姓名"])
    desk_context.close()
    judge_context, supervisor_context = _context(browser), _context(browser)
    judge, supervisor = judge_context.new_page(), supervisor_context.new_page()
    sign_in(judge, demo, role="crypt1")
    sign_in(supervisor, demo, role="supervisor")
    judge.goto(demo["url"] + "/draw/1")
    judge.click("text=生成承诺值")
    first = judge.locator("[data-commitment]").inner_text()
    # Nothing is shown yet: a new commitment is as it always was, nobody co-signs.
    judge.click("button:has-text('重新生成承诺值')")
    second = judge.locator("[data-commitment]").inner_text()
    assert second != first

    supervisor.goto(demo["url"] + "/draw/1")
    supervisor.fill("input[name=entropy]", "5 3 6 1 2")
    supervisor.click("button:has-text('抽签')")
    rows = supervisor.locator("table.grid tbody tr")
    expect(rows.first).to_be_visible()  # the result is on the supervisor's screen
    supervisor_context.close()

    judge.reload()
    result = [row.inner_text() for row in judge.locator("table.grid").first.locator(
        "tbody tr").all()]
    # No redraw at one click: it waits behind the supervisor's co-signature.
    expect(judge.locator("[data-redraw] button:has-text('重新抽签')")).to_be_hidden()
    judge.click("[data-redraw] summary")
    judge.fill("[data-redraw] input[name=reason]", "监督发现熵输错了")
    judge.click("[data-redraw] button:has-text('重新抽签')")
    expect(judge.locator(".flash-error")).to_contain_text("需要监督人员会签")
    # The form stays open with the reason typed: only the co-signature is missing.
    expect(judge.locator("[data-redraw] input[name=reason]")).to_have_value("监督发现熵输错了")
    screenshot(judge, "draw-redraw-refused")
    assert [row.inner_text() for row in judge.locator("table.grid").first.locator(
        "tbody tr").all()] == result  # the result stands

    password = next(u["password"] for u in demo["users"] if u["role"] == "supervisor")
    username = next(u["username"] for u in demo["users"] if u["role"] == "supervisor")
    judge.fill("[data-redraw] input[name=reason]", "监督发现熵输错了")
    judge.fill("[data-redraw] input[name=supervisor]", username)
    judge.fill("[data-redraw] input[name=password]", password)
    judge.click("[data-redraw] button:has-text('重新抽签')")
    expect(judge.locator("[data-commitment]")).to_be_visible()  # a new round, committed
    expect(judge.locator(".flash-success")).to_contain_text("已重新抽签")
    history = judge.locator("td", has_text=f"理由：监督发现熵输错了；监督人员 {username} 会签")
    expect(history).to_be_visible()
    history.scroll_into_view_if_needed()
    screenshot(judge, "draw-redraw-cosigned")
    judge_context.close()


def _serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{page.url} {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("critical", "serious")]


def test_every_checkin_page_passes_axe(browser, demo, people):
    """Desk, roster, absent list, badges and both draws, as each of their people sees them."""
    found: list[str] = []

    def visit(role, *paths, then=None):
        context = _context(browser)
        page = context.new_page()
        sign_in(page, demo, role=role)
        for path in paths:
            page.goto(demo["url"] + path)
            found.extend(_serious_violations(page))
        if then:
            then(page)
            found.extend(_serious_violations(page))
        context.close()

    def desk_with_a_result_and_matches(page):
        page.goto(demo["url"] + "/checkin")
        page.keyboard.type(people[10]["身份证号"])
        page.keyboard.press("Enter")
        expect(page.locator(".person-card")).to_be_visible()
        found.extend(_serious_violations(page))
        page.get_by_label("按姓名查找").fill("张")
        page.keyboard.press("Enter")
        expect(page.locator(".match").first).to_be_visible()

    def commitment_waiting(page):
        page.goto(demo["url"] + "/draw/1")
        if page.locator("[data-commitment]").count() == 0:
            page.click("text=生成承诺值")
        expect(page.locator("[data-commitment]")).to_be_visible()

    def draw_result(page):
        page.goto(demo["url"] + "/draw/1")
        page.fill("input[name=entropy]", "4 4 1")
        page.click("button:has-text('抽签')")
        expect(page.locator("table.grid tbody tr").first).to_be_visible()

    def redraw_form_open(page):
        page.goto(demo["url"] + "/draw/1")
        page.click("[data-redraw] summary")

    visit("checkin", "/checkin", "/roster", "/checkin/absent", "/badges",
          then=desk_with_a_result_and_matches)
    visit("chief", "/roster", "/badges")
    visit("crypt2", "/draw/2")  # nothing drawn yet: the commitment and the physical lots
    visit("crypt1", "/draw/1", then=commitment_waiting)
    visit("supervisor", "/roster", "/draw/1", "/draw/2", then=draw_result)
    visit("crypt1", then=redraw_form_open)
    assert not found, "\n".join(found)


def test_a_large_import_shows_the_bytes_sent_then_the_servers_answer(browser, demo, tmp_path):
    """A roster of a few MB on a slow link: the form shows a bar of the bytes sent, then what
    the server answered (here: every problem, nothing imported), as a plain form would."""
    rows = ["姓名,身份证号,单位,组别,备注"] + [
        f"选手{n},11010519491231002X,单位{n},不存在的组别,{'附注' * 200}" for n in range(1200)]
    big = tmp_path / "大名单.csv"
    big.write_text("\n".join(rows), encoding="utf-8")
    assert big.stat().st_size > 1_048_576  # over the form's threshold for the bar
    context = _context(browser)
    page = context.new_page()
    sign_in(page, demo, role="chief")
    page.goto(demo["url"] + "/roster")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 400_000})  # bytes per second: a few seconds for the file
    page.set_input_files("input[type=file][name=file]", str(big))
    page.click("button:has-text('导入')")
    status = page.locator(".upload-status")
    expect(status).to_contain_text("正在发送文件", timeout=10_000)
    expect(page.locator(".upload-progress progress")).to_have_attribute("value", re.compile(r"\d"))
    screenshot(page, "import-progress")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    expect(page.locator(".problems")).to_contain_text("未导入任何数据", timeout=30_000)
    assert page.url.endswith("/roster")
    context.close()
