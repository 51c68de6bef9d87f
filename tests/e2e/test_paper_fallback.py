"""The paper fallback in a real browser: the chief judge prints the papers and switches a station
to paper when its network fails; two scorekeepers type its answer sheet; the difference between
them is shown and decided; the station is graded from paper on the results page."""

import io
import subprocess
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.instance import open_instance
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam, paper_fallback
from kiosk.theory_exam.models import Paper
from tests.actors import E2E_SETUP
from tests.e2e.pages import SCREENSHOTS, assert_accessible, badge_sign_in, screenshot, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e


def _theory_running(path):
    """The theory exam runs; station A01 saved one answer online before its network failed."""
    instance = open_instance(path)
    with instance.session() as session:
        phases.start(session, "theory", 20, actor=E2E_SETUP, now=clock.now())
        station = session.scalar(select(Station).where(Station.code == "A01"))
        paper = session.get(Paper, station.id)
        question = paper.questions[0]
        exam.save_answer(session, station.id, question["id"], question["options"][2]["key"], 1,
                         now=clock.now(), grace=timedelta(0))
        printed = paper_fallback.printed_paper(paper, "A01")
    instance.engine.dispose()
    return {"sheet": printed}


@pytest.fixture
def exam_day(tmp_path):
    with served_demo(tmp_path / "demo", prepare=_theory_running) as demo:
        yield demo


def _sign_in(browser, demo, username):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return sign_in(context.new_page(), demo, username=username)


def _pdf_picture(data: bytes, tmp_path, pages: list[int]) -> None:
    """The PDF's `pages` side by side, as pdftoppm renders them: what is printed."""
    pdf = tmp_path / "papers.pdf"
    pdf.write_bytes(data)
    images = []
    for number in pages:
        stem = tmp_path / f"page{number}"
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", str(number), "-l", str(number),
                        "-singlefile", str(pdf), str(stem)], check=True)
        images.append(Image.open(f"{stem}.png"))
    width = sum(image.width for image in images) + 20 * (len(images) - 1)
    joined = Image.new("RGB", (width, max(image.height for image in images)), "white")
    x = 0
    for image in images:
        joined.paste(image, (x, 0))
        x += image.width + 20
    joined.save(SCREENSHOTS / "paper-fallback-pdf.png")


def test_switch_type_twice_decide_and_grade_from_paper(browser, exam_day, tmp_path):
    demo, sheet = exam_day, exam_day["sheet"]
    # A01's workstation has its paper open (its network comes back after the switch).
    kiosk = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    station = badge_sign_in(kiosk.new_page(), demo["url"], next(
        s["code"] for s in demo["stations"] if s["station"] == "A01"))
    expect(station.locator(".option").first).to_be_visible()
    chief = _sign_in(browser, demo, "chief")
    chief.click("nav >> text=考试控制")  # the fallback: from exam control, not the header
    chief.click("[data-to-paper]")
    expect(chief.locator("h1")).to_have_text("纸质答题卡")
    assert_accessible(chief)

    # The papers, printed: one per station, each page sealed with its station and hash.
    token = chief.locator("input[name=csrf_token]").first.get_attribute("value")
    printed = chief.context.request.post(demo["url"] + "/exam/on-paper/papers.pdf",
                                         form={"csrf_token": token, "stations": ""})
    assert printed.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(printed.body()))
    first_pages = [n for n, page in enumerate(reader.pages, start=1)
                   if "赛位号 A01" in page.extract_text()]
    texts = [reader.pages[n - 1].extract_text().replace(" ", "") for n in first_pages]
    assert all(sheet.sha256 in text for text in texts)
    answer_sheet = next(n for n, text in zip(first_pages, texts, strict=True)
                        if "赛位号：A01" in text)  # the answer sheet's heading
    _pdf_picture(printed.body(), tmp_path, [first_pages[0], answer_sheet])

    # The network of A01 fails: the chief judge switches it to paper, with the reason.
    chief.on("dialog", lambda dialog: dialog.accept())
    chief.select_option("[data-switch-form] select[name=station]", "A01")
    chief.fill("[data-switch-form] input[name=reason]", "A01 交换机端口故障，改用纸质试卷")
    chief.click("[data-switch-form] button")
    expect(chief.locator(".flash-success")).to_contain_text("A01")
    row = chief.locator("[data-paper-stations] tr[data-station=A01]")
    expect(row).to_contain_text("交换机端口故障")
    expect(row).to_contain_text("等待两次录入")
    # The workstation's next answer is refused: the screen sends the contestant to the sheet
    # and never says "saved".
    station.locator(".option").nth(1).click()
    expect(station.locator("[data-done-text]")).to_contain_text("本工位已改为纸质作答")
    expect(station.locator("[data-done-help]")).to_contain_text("评分以答题卡为准")
    kiosk.close()

    # Two scorekeepers type the sheet; they read question 2 differently.
    answers = {q.number: ("对" if q.type == "tf" else "B") for q in sheet.questions}
    for username, entry, differs in (("scorer1", 1, "B"), ("scorer2", 2, "D")):
        judge = _sign_in(browser, demo, username)
        judge.goto(demo["url"] + "/exam/on-paper")
        judge.click(f"[data-paper-stations] tr[data-station=A01] >> text=第 {entry} 次录入")
        for number, answer in answers.items():
            judge.fill(f"input[name='q:{number}']", differs if number == 2 else answer)
        if entry == 1:
            judge.fill("input[name='q:3']", "E")  # not an option: nothing is saved
            judge.click("[data-sheet-form] button[type=submit]")
            expect(judge.locator("[data-sheet-problems]")).to_contain_text("第 3 题")
            judge.fill("input[name='q:3']", answers[3])
            assert_accessible(judge)
        judge.click("[data-sheet-form] button[type=submit]")
        expect(judge.locator(".flash-success")).to_contain_text(f"第 {entry} 次录入已保存")

    # The chief judge sees the difference beside the answer saved online, and decides it.
    chief.goto(demo["url"] + "/exam/on-paper/A01")
    difference = chief.locator("[data-difference='2']")
    expect(difference).to_contain_text("B")
    expect(difference).to_contain_text("D")
    expect(chief.locator("[data-sheet] tbody tr").first.locator("td").nth(3)).to_have_text("C")
    expect(chief.locator("[data-sheet-state]")).to_contain_text("1 处不一致")
    assert_accessible(chief)
    screenshot(chief, "paper-fallback-entry")
    difference.locator("input[name=mark]").fill("B")
    difference.locator("input[name=reason]").fill("答题卡原件上勾选 B")
    difference.locator("button").click()
    expect(chief.locator("[data-sheet-state]")).to_contain_text("已核对一致：按纸质答题卡评分")

    instance = open_instance(demo["path"])
    with instance.session() as session:
        phases.end(session, "theory", actor=E2E_SETUP, now=clock.now())
    instance.engine.dispose()
    chief.goto(demo["url"] + "/exam/results")
    expect(chief.locator("tr[data-graded-from=paper]")).to_contain_text("按纸质答题卡评分")
    chief.goto(demo["url"] + "/audit")
    expect(chief.locator("body")).to_contain_text("赛位改为纸质作答")
