"""Scoring to the published list in a real browser: a scorekeeper imports a file, the other
types on the page, the chief judge resolves the difference, a supervisor reviews, the chief
judge locks, both encryption judges unseal with a supervisor co-signing, the list is printed."""

import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.checkin import draw_stages
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import check_in
from kiosk.instance import open_instance
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.actors import E2E_SETUP
from tests.e2e.pages import assert_accessible, screenshot, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e
HEX = re.compile(r"^[0-9a-f]{64}$")


def _after_the_practical(path):
    """Everyone checked in, both draws sealed, the theory exam over with answers saved
    through the exam service."""
    instance = open_instance(path)
    with instance.session() as session:
        for person in session.scalars(select(Contestant)).all():
            check_in(session, person.id, staff_id=None, actor=E2E_SETUP, now=clock.now())
        for stage in (1, 2):
            committed = draw_stages.commit(session, stage, actor=E2E_SETUP, now=clock.now())
            draw_stages.draw(session, stage, "4 2 6 1", commitment=committed.commitment,
                             actor=E2E_SETUP, now=clock.now())
            draw_stages.seal(session, stage, event_name="e2e", actor=E2E_SETUP, now=clock.now())
        phases.start(session, "theory", 20, actor=E2E_SETUP, now=clock.now())
        stations = list(session.scalars(select(Station).where(Station.occupied)
                                        .order_by(Station.code)))
        papers = dict(session.execute(select(Paper.station_id, Paper.key_map)).all())
        for index, station in enumerate(stations):
            # Station n answers its first 10 + n % 45 questions right.
            questions = list(papers[station.id].items())[:10 + index % 45]
            for seq, (qid, entry) in enumerate(questions):
                right = next(k for k, letter in entry["keys"].items()
                             if letter == entry["answer"])
                exam.save_answer(session, station.id, qid, right, seq + 1, now=clock.now(),
                                 grace=timedelta(0))
        phases.end(session, "theory", actor=E2E_SETUP, now=clock.now())
        codes = [s.code for s in stations]
    instance.engine.dispose()
    return {"codes": codes}


@pytest.fixture
def scored_day(tmp_path):
    with served_demo(tmp_path / "demo", prepare=_after_the_practical) as demo:
        yield demo


def _sign_in(context, demo, username):
    return sign_in(context.new_page(), demo, username=username)


def _password(demo, username):
    return next(u["password"] for u in demo["users"] if u["username"] == username)


def test_scoring_review_unsealing_and_the_list(browser, scored_day, tmp_path):
    demo, codes = scored_day, scored_day["codes"]
    marks = {code: f"{40 + i % 45}.5" for i, code in enumerate(codes)}
    sheet = tmp_path / "记分表一.csv"
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["赛位号", "分数"])
        writer.writerows(marks.items())

    contexts = [browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
                for _ in range(5)]
    scorer1 = _sign_in(contexts[0], demo, "scorer1")
    scorer1.click("nav >> text=成绩录入")
    assert_accessible(scorer1)
    scorer1.click("nav.tabs >> text=第一次录入")
    assert_accessible(scorer1)
    scorer1.set_input_files("input[type=file][name=file]", str(sheet))
    scorer1.click("button:has-text('导入')")
    expect(scorer1.locator(".flash-success")).to_contain_text(str(len(codes)))
    # Entry 2 is not scorer1's: read-only with the reason, before any mark is typed.
    scorer1.click("nav.tabs >> text=第二次录入")
    expect(scorer1.locator("[data-not-theirs]")).to_contain_text("另一名记分员")
    expect(scorer1.locator(f"input[name='mark:{codes[0]}']")).to_be_disabled()
    expect(scorer1.locator("button:has-text('保存第 2 次录入')")).to_be_disabled()
    assert_accessible(scorer1)
    screenshot(scorer1, "score-entry-not-theirs")

    # The second scorekeeper types every mark; one differs from the first entry, and one is
    # typed in full-width digits (a Chinese input method in 全角 mode): stored as digits, and
    # the page says what it kept.
    scorer2 = _sign_in(contexts[1], demo, "scorer2")
    scorer2.goto(demo["url"] + "/results/entry/2")
    wide = marks[codes[1]].translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    for code, mark in marks.items():
        typed = {codes[0]: "41", codes[1]: wide}.get(code, mark)
        scorer2.fill(f"input[name='mark:{code}']", typed)
    scorer2.click("button:has-text('保存第 2 次录入')")
    expect(scorer2.locator(".flash-success")).to_be_visible()
    expect(scorer2.locator(".flash-info")).to_have_text(
        f"{codes[1]}：您输入的是 {wide}，已按 {marks[codes[1]]} 保存。")
    expect(scorer2.locator(f"input[name='mark:{codes[1]}']")).to_have_value(marks[codes[1]])
    assert_accessible(scorer2)
    screenshot(scorer2, "score-entry")

    chief = _sign_in(contexts[2], demo, "chief")
    chief.goto(demo["url"] + "/results/")
    assert_accessible(chief)
    chief.goto(demo["url"] + "/results/differences")
    row = chief.locator("[data-differences] tbody tr").first
    expect(row).to_contain_text(codes[0])
    assert_accessible(chief)
    row.locator("input[name=mark]").fill(marks[codes[0]])
    row.locator("input[name=reason]").fill("以评分表原件为准")
    row.locator("button").click()
    expect(chief.locator("[data-differences]")).to_contain_text("两次录入完全一致")

    # A deduction for a violation, with its reason and approver; a bad amount is refused.
    chief.goto(demo["url"] + "/results/deductions")
    chief.select_option("select[name=station]", codes[1])
    chief.fill("input[name=amount]", "五")
    chief.fill("input[name=reason]", "着装不规范")
    chief.fill("input[name=approved_by]", "裁判长")
    chief.click("button:has-text('记录扣分')")
    expect(chief.locator(".flash-error")).to_contain_text("五")
    for bad in ("abc%", "٥%"):  # like any other bad number: refused with the reason
        chief.fill("input[name=amount]", bad)
        chief.fill("input[name=reason]", "着装不规范")
        chief.fill("input[name=approved_by]", "裁判长")
        chief.click("button:has-text('记录扣分')")
        expect(chief.locator(".flash-error")).to_contain_text(f"{bad} 不是有效的扣分")
    chief.fill("input[name=amount]", "5%")
    chief.fill("input[name=reason]", "着装不规范")
    chief.fill("input[name=approved_by]", "裁判长")
    chief.click("button:has-text('记录扣分')")
    expect(chief.locator(".flash-success")).to_be_visible()
    expect(chief.locator("table.grid tbody")).to_contain_text("5%")
    assert_accessible(chief)

    chief.goto(demo["url"] + "/results/")
    chief.once("dialog", lambda dialog: dialog.accept())
    chief.click("button:has-text('抽取复核样本')")
    expect(chief.locator("[data-review]")).to_be_visible()
    assert_accessible(chief)
    chief.goto(demo["url"] + "/results/review")
    assert_accessible(chief)

    supervisor = _sign_in(contexts[3], demo, "supervisor")
    supervisor.goto(demo["url"] + "/results/review")
    progress = supervisor.locator("[data-progress]")
    total = int(re.search(r"/ (\d+)", progress.inner_text()).group(1))
    assert total > 0
    assert_accessible(supervisor)
    for done in range(1, total + 1):
        # Each confirmation reloads the page: wait for its new count before the next click.
        supervisor.locator("button:has-text('复核无误')").first.click()
        expect(progress).to_contain_text(f"已复核 {done} / {total}")
    expect(supervisor.locator("button:has-text('复核无误')")).to_have_count(0)
    expect(progress).to_contain_text("有误 0 个")
    screenshot(supervisor, "review")

    chief.goto(demo["url"] + "/results/")
    chief.click("button:has-text('锁定成绩')")
    expect(chief.locator(".commitment")).to_have_text(HEX)
    screenshot(chief, "results-locked")
    assert_accessible(chief)
    # Before the unsealing no name appears on the final page.
    chief.goto(demo["url"] + "/results/final")
    expect(chief.locator(".flash-error")).to_contain_text("仍处于密封状态")
    assert_accessible(chief)

    keys = {k["role"]: k["identity_file"] for k in demo["judge_keys"]}
    for stage, judge in ((2, "crypt2"), (1, "crypt1")):
        page = _sign_in(contexts[4] if stage == 2 else browser.new_context(locale="zh-CN"),
                        demo, judge)
        page.goto(demo["url"] + "/results/unseal")
        assert_accessible(page)
        page.set_input_files("input[name=identity]", keys[judge])
        page.fill("input[name=supervisor]", "supervisor")
        page.fill("input[name=password]", _password(demo, "supervisor"))
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"button:has-text('解密第 {stage} 层')")
        expect(page.locator(".flash-success")).to_contain_text("核对一致")
        if stage == 1:
            expect(page.locator("[data-links]")).to_contain_text("职工组")
            screenshot(page, "unsealing")
            assert_accessible(page)

    chief.goto(demo["url"] + "/results/final")
    expect(chief.locator("h2", has_text="职工组")).to_be_visible()
    expect(chief.locator("[data-ranking]").first).to_contain_text("一等奖")
    screenshot(chief, "final-results")
    assert_accessible(chief)
    with chief.expect_download() as download:
        chief.click("text=导出（.xlsx）")
    assert download.value.suggested_filename == "results.xlsx"
    pdf = chief.request.get(demo["url"] + "/results/final.pdf")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages]
    assert "成绩汇总表" in pages[0] and "裁判长签字" in pages[-1]
    assert all("KAC1." in text for text in pages)  # the audit checkpoint on every page
    for context in contexts:
        context.close()
