"""The two competitions of the seeds, each with its own timetable uploaded on 赛程 as a chief
judge would: seed 000 times its practical exam module by module (each module its own hand-in),
seed 001 runs a 20-minute theory exam, then one block for its three practical modules."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import badge_sign_in, sign_in
from tests.servers import served_demo

pytestmark = pytest.mark.e2e

TIMETABLES = Path(__file__).resolve().parents[2] / "seed" / "timetables"


@pytest.fixture
def demo(tmp_path):
    with served_demo(tmp_path / "seed-day") as served:
        yield served


def _chief(browser, demo):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return sign_in(context.new_page(), demo, username="chief")


def _upload(chief, demo, name: str) -> None:
    chief.goto(demo["url"] + "/timetable")
    chief.set_input_files("input[name=file]", str(TIMETABLES / name))
    chief.click("button:has-text('替换赛程')")
    expect(chief.locator(".flash-success")).to_be_visible()


def _start(chief, demo, key: str, minutes: str = "5") -> None:
    chief.goto(demo["url"] + "/control")
    start = chief.locator(f"[data-part={key}] form:has(input[name=action][value=start])")
    start.locator("input[name=minutes]").fill(minutes)
    start.locator("button[type=submit]").click()
    expect(chief.locator(".flash-success")).to_be_visible()


def _end(chief, demo, key: str) -> None:
    chief.goto(demo["url"] + "/control")
    end = chief.locator(f"[data-part={key}] form:has(input[name=action][value=end])")
    end.locator("input[name=confirm]").check()
    end.locator("button[type=submit]").click()
    expect(chief.locator(f"[data-part={key}] .phase-state")).to_have_text("已结束")


def test_seed_000_three_timed_modules_each_with_its_own_hand_in(browser, demo, tmp_path):
    chief = _chief(browser, demo)
    _upload(chief, demo, "hubei_genai_2025.toml")
    table = chief.locator("[data-timetable] tbody tr")
    expect(table).to_have_count(3)
    for row, (key, minutes) in zip(range(3), (("A", "60"), ("B", "90"), ("C", "90")),
                                   strict=True):
        expect(table.nth(row)).to_contain_text(key)
        expect(table.nth(row).locator("td.num").nth(1)).to_have_text(minutes)
    station = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    badge_sign_in(station, demo["url"], demo["stations"][0]["code"])

    work = tmp_path / "模块A作品.zip"
    work.write_bytes(b"module A" * 1000)
    _start(chief, demo, "A")
    expect(station.locator("[data-practical-title]")).to_contain_text("模块A", timeout=10000)
    expect(station.locator("[data-handin-part]")).to_contain_text("模块A")
    station.set_input_files("[data-handin] input[type=file]", str(work))
    expect(station.locator("[data-handin-status]")).to_contain_text("回执", timeout=15000)

    # A's end closes A's box; B's start opens B's, and A's hand-in stays A's.
    _end(chief, demo, "A")
    expect(station.locator("[data-view=done]")).to_be_visible(timeout=10000)
    expect(station.locator("[data-done-between]")).to_contain_text("模块B")
    _start(chief, demo, "B")
    expect(station.locator("[data-practical-title]")).to_contain_text("模块B", timeout=10000)
    expect(station.locator("[data-handin-part]")).to_contain_text("模块B")
    answer = station.request.get(demo["url"] + "/api/v1/collect/mine").json()
    assert [(h["part"], h["filename"]) for h in answer["hand_ins"]] == [("A", work.name)]


def test_seed_001_theory_then_one_practical_block(browser, demo):
    chief = _chief(browser, demo)
    _upload(chief, demo, "qiangguo_edge_ai_2024.toml")
    table = chief.locator("[data-timetable] tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(0).locator("td.num").nth(1)).to_have_text("20")
    expect(table.nth(1).locator("td.num").nth(1)).to_have_text("160")
    station = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    badge_sign_in(station, demo["url"], demo["stations"][0]["code"])
    _start(chief, demo, "theory")
    expect(station.locator("[data-view=exam]")).to_be_visible(timeout=10000)
    _end(chief, demo, "theory")
    expect(station.locator("[data-view=done]")).to_be_visible(timeout=10000)
    expect(station.locator("[data-done-between]")).to_contain_text("实操技能考核")
    _start(chief, demo, "practical")
    expect(station.locator("[data-view=practical]")).to_be_visible(timeout=10000)
    expect(station.locator("[data-practical-title]")).to_contain_text("模块二")
