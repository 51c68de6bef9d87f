"""The charts on their pages in a real browser, on the demo event after a day of work: the
theory results' item statistics, the final results' score distribution per group, the hall's
progress during the theory exam (linked from the field dashboard). Each picture is shown (an
<img> of the server's SVG, loaded and drawn), has its alt text and its figures as text, and the
page passes axe; screenshots for docs/screenshots/."""

from __future__ import annotations

import csv
import io
import math
import random
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kiosk import clock
from kiosk.checkin import draw_stages
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import check_in
from kiosk.crypto import parse_identities
from kiosk.instance import open_instance
from kiosk.results import mark_entry, review, submission, unsealing
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.actors import E2E_SETUP
from tests.e2e.pages import assert_accessible, screenshot, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e
GRACE = timedelta(seconds=2)


def _answers(session, start, rng):
    """Every station answers over 18 minutes: able stations get more right, some questions
    are easy, some hard, a few deceive the able ones; some leave a question blank; two in
    three hand in early."""
    stations = list(session.scalars(select(Station).where(Station.occupied)
                                    .order_by(Station.code)))
    papers = dict(session.execute(select(Paper.station_id, Paper.key_map)).all())
    for index, station in enumerate(stations):
        ability = -1.6 + 3.2 * index / max(1, len(stations) - 1)
        questions = list(papers[station.id].items())
        pace = 16 * 60 / len(questions)
        for seq, (qid, entry) in enumerate(questions, start=1):
            if rng.random() < 0.03:
                continue  # left blank
            difficulty = (int(qid) * 37 % 100) / 40 - 1.6
            chance = 1 / (1 + math.exp(-1.8 * (ability - difficulty)))
            if int(qid) % 23 == 0:
                chance = 0.7 - 0.15 * ability  # a misleading question: the able ones miss it
            letter = entry["answer"] if rng.random() < chance else rng.choice(
                [v for v in entry["keys"].values() if v != entry["answer"]])
            key = next(k for k, v in entry["keys"].items() if v == letter)
            at = start + timedelta(seconds=30 + seq * pace * rng.uniform(0.7, 1.1))
            exam.save_answer(session, station.id, qid, key, seq, now=at, grace=GRACE)
        if index % 3:
            exam.submit(session, station.id, station.code, grace=GRACE,
                        now=start + timedelta(minutes=rng.uniform(14, 19.5)))
    return [s.code for s in stations]


def _marks(codes, rng) -> bytes:
    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["赛位号", "分数"])
    for code in codes:
        writer.writerow([code, f"{rng.uniform(35, 84):.1f}"])
    return sheet.getvalue().encode("utf-8")


def _the_day_done(path):
    """Everyone checked in, both draws sealed, the theory exam run from 25 minutes ago, marks
    entered twice, the review done, the results locked and both layers opened."""
    rng = random.Random(20)
    instance = open_instance(path)
    weight = Decimal(instance.settings.theory_weight)
    with instance.session() as session:
        for person in session.scalars(select(Contestant)).all():
            check_in(session, person.id, staff_id=None, actor=E2E_SETUP, now=clock.now())
        for stage in (1, 2):
            committed = draw_stages.commit(session, stage, actor=E2E_SETUP, now=clock.now())
            draw_stages.draw(session, stage, "3 1 4 1", commitment=committed.commitment,
                             actor=E2E_SETUP, now=clock.now())
            draw_stages.seal(session, stage, event_name="e2e", actor=E2E_SETUP, now=clock.now())
        start = clock.now().replace(second=0, microsecond=0) - timedelta(minutes=25)
        phases.start(session, "theory", 20, actor=E2E_SETUP, now=start)
        codes = _answers(session, start, rng)
        phases.end(session, "theory", actor=E2E_SETUP, now=start + timedelta(minutes=20))
        data = _marks(codes, rng)
        for entry in (1, 2):
            mark_entry.import_marks(session, data, "marks.csv", entry=entry,
                                    full_marks=Decimal(instance.settings.practical_full_marks),
                                    actor=E2E_SETUP, now=clock.now())
        review.draw_sample(session, theory_weight=weight, actor=E2E_SETUP, now=clock.now())
        for _item, code in review.items(session):
            review.record_outcome(session, code, correct=True, actor=E2E_SETUP,
                                  now=clock.now())
        submission.lock(session, theory_weight=weight, actor=E2E_SETUP, now=clock.now())
        keys = Path(path) / "demo-judge-keys"
        for stage in (2, 1):
            identities = parse_identities((keys / f"crypt{stage}.agekey").read_text())
            unsealing.open_layer(session, stage, identities, actor=E2E_SETUP,
                                 supervisor="supervisor", now=clock.now())
    instance.engine.dispose()


@pytest.fixture(scope="module")
def done_day(tmp_path_factory):
    with served_demo(tmp_path_factory.mktemp("charts") / "demo", prepare=_the_day_done) as demo:
        yield demo


@pytest.fixture
def chief(browser, done_day):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    yield sign_in(context.new_page(), done_day, username="chief")
    context.close()


def _drawn(page, chart: str):
    """The chart's picture is loaded and drawn at a readable size, with its alt text."""
    picture = page.locator(f"[data-chart='{chart}'] img")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") >= 700
    assert picture.get_attribute("alt")
    assert picture.get_attribute("src").startswith("data:image/svg+xml;base64,")
    return picture


def test_the_item_statistics_as_pictures(chief, done_day):
    chief.goto(done_day["url"] + "/exam/results")
    _drawn(chief, "item-scatter")
    _drawn(chief, "item-options")
    caption = chief.locator("[data-chart='item-scatter'] figcaption")
    expect(caption).to_contain_text("区分度")
    assert_accessible(chief)
    chief.locator("h2").last.evaluate("e => e.scrollIntoView()")  # 试题分析 and its charts
    screenshot(chief, "chart-item-statistics")


def test_the_score_distribution_per_group(chief, done_day):
    chief.goto(done_day["url"] + "/results/final")
    _drawn(chief, "score-distribution")
    figure = chief.locator("[data-chart='score-distribution']")
    for group in ("职工组", "学生组"):
        expect(figure.locator("figcaption")).to_contain_text(group)
    figure.locator("summary").click()
    expect(figure.locator("table[data-distribution]")).to_have_count(2)
    assert_accessible(chief)
    figure.locator("summary").click()  # closed again for the picture
    screenshot(chief, "chart-score-distribution")


def test_the_hall_progress_from_the_dashboard(browser, done_day):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    judge = sign_in(context.new_page(), done_day, username="field")
    judge.goto(done_day["url"] + "/field")
    judge.click("a[href='/field/progress']")
    judge.wait_for_url("**/field/progress")
    _drawn(judge, "hall-progress")
    caption = judge.locator("[data-chart='hall-progress'] figcaption")
    expect(caption).to_contain_text(re.compile(r"\b40\b"))  # theory papers handed in early
    # The day's theory is over for every station: final figures, no refresh.
    expect(judge.locator("[data-final]")).to_contain_text("该部分已结束")
    expect(judge.locator("[data-refresh-note]")).to_have_count(0)
    assert_accessible(judge)
    screenshot(judge, "field-progress")
    context.close()
