"""The server's charts (kiosk/charts.py): the SVG holds a mark per figure, with its figures
(read back from its data-* attributes), Chinese labels drawn in the CJK font, one cache entry
per set of figures (a reload draws nothing); and the pages that show them: the theory results'
item statistics, the scoring overview's and final results' score distributions per group, the
hall's progress per minute."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest

from kiosk import charts, clock
from kiosk.field import progress
from kiosk.stations import phases
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.actors import CHIEF
from tests.factories import login, make_user
from tests.plugins.theory_exam import GRACE

MARK = re.compile(r'<g id="(mark-[^"]+)"((?: data-[a-z]+="[^"]*")*)>(?:<title>([^<]*)</title>)?')
DATA = re.compile(r'data-([a-z]+)="([^"]*)"')
ZH_SCATTER = {"title": "题目难度与区分度", "x": "难度（答对率）", "y": "区分度",
              "flag": "低于 0.2：值得一看", "question": "第%(q)s题"}
ZH_OPTIONS = {"title": "各选项的选择比例", "x": "选择比例", "none": "未答",
              "question": "第%(q)s题", "correct": "正确答案"}


def marks(chart: charts.Chart) -> dict[str, dict[str, str]]:
    """Each drawn mark's figures, as the SVG carries them."""
    found = {}
    for gid, attributes, title in MARK.findall(chart.data.decode()):
        found[gid] = dict(DATA.findall(attributes)) | {"title": title}
    return found


def drawn_characters(chart: charts.Chart) -> set[str]:
    """The characters drawn in the CJK font: text is paths, one glyph definition each,
    named by the font and the glyph's index in it."""
    from matplotlib import font_manager

    family = charts.cjk_font()
    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties(
        family=family)))
    glyphs = set(re.findall(rf'id="{family.replace(" ", "")}-([0-9a-f]+)"',
                            chart.data.decode()))
    wanted = ("题目难度与区分度答对率值得一看各选项的选择比例未答"
              "职工组学生组理论成绩总分布人数保存交卷作品每分钟时间")
    return {c for c in wanted if f"{font.get_char_index(ord(c)):x}" in glyphs}


def items(count=6) -> list[charts.Item]:
    return [charts.Item(str(q), facility=q / 10, discrimination=(q - 2) / 10, answer="B",
                        options=(("A", 2), ("B", q), ("C", 1), ("—", 1)), n=q + 4)
            for q in range(1, count + 1)]


@pytest.fixture(autouse=True)
def empty_cache():
    charts.clear_cache()
    yield
    charts.clear_cache()


def test_the_item_scatter_has_a_point_per_question_with_its_figures():
    chart = charts.item_scatter(items(), ZH_SCATTER)
    assert chart.mimetype == "image/svg+xml" and chart.data.startswith(b"<?xml")
    points = {m["question"]: m for gid, m in marks(chart).items() if gid.startswith("mark-item-")}
    assert sorted(points, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert points["3"]["facility"] == "0.3" and points["3"]["discrimination"] == "0.1"
    assert points["3"]["title"] == "第3题: 0.3, 0.1"
    assert set("题目难度与区分度答对率值得一看") <= drawn_characters(chart)


def test_the_option_bars_give_each_options_share_and_mark_the_correct_one():
    chart = charts.item_options(items(2), ZH_OPTIONS, option_names={"T": "对", "F": "错"})
    bars = {gid: m for gid, m in marks(chart).items() if gid.startswith("mark-option-")}
    assert sorted(bars) == sorted(f"mark-option-{q}-{o}" for q in "12" for o in
                                  ("A", "B", "C", "none"))
    second = {m["option"]: m for m in bars.values() if m["question"] == "2"}
    assert {o: second[o]["share"] for o in second} == {"A": "0.33", "B": "0.33", "C": "0.17",
                                                        "—": "0.17"}
    assert [o for o, m in second.items() if m["correct"] == "true"] == ["B"]
    assert second["B"]["title"] == "第2题 B: 2/6 (正确答案)"
    assert set("各选项的选择比例未答") <= drawn_characters(chart)


def test_the_same_bins_for_every_group_and_a_bar_per_bin():
    theory = charts.distribution([("职工组", [95, 88, 72, 72.5, 40]), ("学生组", [100, 12])],
                                 full=100)
    assert theory.edges == tuple(float(e) for e in range(0, 101, 10))
    assert dict(theory.groups) == {"职工组": (0, 0, 0, 0, 1, 0, 0, 2, 1, 1),
                                   "学生组": (0, 1, 0, 0, 0, 0, 0, 0, 0, 1)}
    total = charts.distribution([("职工组", [140, 150]), ("学生组", [33])], full=None)
    chart = charts.score_distribution([("理论成绩", theory), ("总成绩", total)],
                                      {"title": "成绩分布", "x": "分数", "y": "人数",
                                       "n": "%(n)s人"})
    bars = marks(chart)
    theory_bars = [m for m in bars.values() if m["column"] == "理论成绩"]
    assert len(theory_bars) == 2 * 10  # every bin of every group, empty ones too
    assert {(m["group"], m["low"], m["high"], m["count"]) for m in theory_bars
            if m["count"] != "0"} == {("职工组", "40", "50", "1"), ("职工组", "70", "80", "2"),
                                      ("职工组", "80", "90", "1"), ("职工组", "90", "100", "1"),
                                      ("学生组", "10", "20", "1"), ("学生组", "90", "100", "1")}
    total_bins = {(m["low"], m["high"]) for m in bars.values() if m["column"] == "总成绩"}
    assert len({m["group"] for m in bars.values() if m["column"] == "总成绩"}) == 2
    assert len(total_bins) == len(total.edges) - 1  # both groups on the same bins
    assert set("职工组学生组理论成绩总分布人数") <= drawn_characters(chart)


def test_the_hall_progress_has_a_bar_per_busy_minute():
    chart = charts.hall_progress([("答题保存", [3, 0, 7]), ("交卷", [0, 1, 2]),
                                  ("作品", [0, 0, 1])],
                                 [(0, "09:00"), (2, "09:02")],
                                 {"title": "理论知识考试", "x": "时间", "y_top": "每分钟保存",
                                  "y_bottom": "每分钟提交"})
    bars = marks(chart)
    assert {(m["series"], m["minute"], m["count"]) for m in bars.values()} == {
        ("答题保存", "0", "3"), ("答题保存", "2", "7"), ("交卷", "1", "1"), ("交卷", "2", "2"),
        ("作品", "2", "1")}
    assert set("答题保存交卷作品每分钟时间") <= drawn_characters(chart)


def test_a_chart_is_drawn_once_per_set_of_figures():
    first = charts.item_scatter(items(), ZH_SCATTER)
    renders, cached = charts.stats.renders, charts.cached_count()
    again = charts.item_scatter(items(), ZH_SCATTER)
    assert again is first  # the cached bytes: nothing drawn, nothing added
    assert (charts.stats.renders, charts.cached_count()) == (renders, cached)
    english = charts.item_scatter(items(), {**ZH_SCATTER, "title": "Facility"})
    changed = charts.item_scatter(items(5), ZH_SCATTER)
    assert len({first.digest, english.digest, changed.digest}) == 3
    assert charts.stats.renders == renders + 2


def test_the_cache_keeps_the_most_recent_charts(monkeypatch):
    monkeypatch.setattr(charts, "MAX_CACHED", 2)
    first = charts.hall_progress([("a", [1])], [], {"title": "", "x": "", "y_top": "",
                                                    "y_bottom": ""})
    for n in (2, 3):
        charts.hall_progress([("a", [n])], [], {"title": "", "x": "", "y_top": "",
                                                "y_bottom": ""})
    assert charts.cached_count() == 2
    redrawn = charts.hall_progress([("a", [1])], [], {"title": "", "x": "", "y_top": "",
                                                      "y_bottom": ""})
    assert redrawn is not first and redrawn.data_uri().startswith("data:image/svg+xml;base64,")


def test_png_too():
    chart = charts.item_scatter(items(), ZH_SCATTER, fmt="png")
    assert chart.mimetype == "image/png" and chart.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_a_cjk_font_a_chart_still_draws(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert not charts.draws_chinese()
    chart = charts.item_scatter(items(), {"title": "Facility", "x": "x", "y": "y",
                                          "flag": "below 0.2", "question": "Q%(q)s"})
    assert b"DejaVuSans-" in chart.data and b"WenQuanYi" not in chart.data
    assert "mark-item-6" in marks(chart)  # the F of the English title, in matplotlib's font


def test_matplotlib_is_not_imported_to_start_the_app_or_the_command():
    code = ("import sys, kiosk.cli, kiosk.app; "
            "print(any(m == 'matplotlib' or m.startswith('matplotlib.') for m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


# ----------------------------------------------------------------------------- the pages


def _answer(exam_event, at):
    """Station i answers its first questions: the first two stations right, the rest wrong."""
    for index, station in enumerate(exam_event.stations):
        paper = exam_event.session.get(Paper, station.id)
        for seq, question in enumerate(paper.questions[:5 + index], start=1):
            entry = paper.key_map[question["id"]]
            letter = entry["answer"] if index < 2 else next(
                v for v in entry["keys"].values() if v != entry["answer"])
            key = next(k for k, v in entry["keys"].items() if v == letter)
            exam.save_answer(exam_event.session, station.id, question["id"], key, seq,
                             now=at + timedelta(minutes=index, seconds=seq), grace=GRACE)


def test_the_theory_results_show_the_item_statistics_as_pictures(exam_event, app, client):
    exam_event.start()
    _answer(exam_event, clock.now())
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss2")
    login(client, "boss2")
    page = client.get("/exam/results").text
    for kind in ("item-scatter", "item-options"):
        assert f'data-chart="{kind}"' in page
    pictures = re.findall(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"',
                          page)
    assert len(pictures) == 2 and all(pictures)
    assert "散点图" in pictures[0] or "Scatter" in pictures[0]
    renders = charts.stats.renders
    sources = re.compile(r'<img src="([^"]+)"')
    # Reloaded: the same pictures, none drawn.
    assert sources.findall(client.get("/exam/results").text) == sources.findall(page)
    assert charts.stats.renders == renders
    client.post("/lang/en", data={"csrf_token": re.search(
        r'name="csrf-token" content="([^"]+)"', page).group(1), "next": "/exam/results"})
    english = client.get("/exam/results").text
    assert 'alt="Scatter chart: facility against discrimination for' in english
    if "散点图" in page:  # the catalog has the charts' labels: the English ones are other pictures
        assert charts.stats.renders == renders + 2


def test_no_item_pictures_before_any_answer(exam_event, app, client):
    exam_event.start()
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss2")
    login(client, "boss2")
    assert 'data-chart="item-scatter"' not in client.get("/exam/results").text


def test_the_hall_progress_page_counts_per_minute(exam_event, app, client):
    start = clock.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=start)
    _answer(exam_event, start + timedelta(minutes=1))
    exam.submit(exam_event.session, exam_event.stations[0].id, "A01",
                now=start + timedelta(minutes=6), grace=GRACE)
    shown = progress.hall_progress(exam_event.session, app.extensions["kiosk"].settings,
                                   clock.now())
    assert shown.part == "theory" and shown.start == start and shown.minutes in (10, 11)
    assert list(shown.answers[:10]) == [0, 5, 6, 7, 8, 0, 0, 0, 0, 0]
    assert list(shown.submissions[:10]) == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert sum(shown.hand_ins) == 0
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    login(client, "judge")
    board = client.get("/field").text
    assert 'href="/field/progress"' in board
    page = client.get("/field/progress").text
    assert 'data-chart="hall-progress"' in page and 'data-refresh-seconds="30"' in page
    assert re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="[^"]+"', page)
    assert "26" in re.search(r"<figcaption>(.*?)<details>", page, re.S).group(1)  # saves
    rows = re.findall(r'<tr><th scope="row">[\d:]+</th><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)</td>', page)
    assert rows == [("5", "0"), ("6", "0"), ("7", "0"), ("8", "0"), ("0", "1")]


def test_once_the_part_is_over_the_progress_page_stops_refreshing(exam_event, app, client):
    # Nothing changes after the part: a page left open all afternoon would draw the same
    # chart every 30 s; it says its figures are final instead.
    start = clock.now().replace(second=0, microsecond=0) - timedelta(minutes=30)
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=start)
    _answer(exam_event, start + timedelta(minutes=1))
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    login(client, "judge")
    page = client.get("/field/progress").text
    assert 'data-chart="hall-progress"' in page and "data-refresh-seconds" not in page
    assert "该部分已结束，图中数字为最终结果" in page


def test_the_progress_page_before_the_day_began(app, client):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    login(client, "judge")
    page = client.get("/field/progress").text
    assert 'data-chart="hall-progress"' not in page
    assert "尚未开始" in page or "has started yet" in page


def _locked_and_unsealed(day):
    from tests.results.test_unsealing import locked, open_layer

    locked(day, {code: str(50 + 3 * i) for i, code in enumerate(day.stations)})
    open_layer(day, 2)
    open_layer(day, 1)


def test_the_results_pages_show_the_distributions_per_group(app, day):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss")
    boss = app.test_client()
    login(boss, "boss")
    # Before any practical mark the theory scores are known: their distribution is shown.
    early = boss.get("/results/").text
    tables = re.findall(r'<table class="grid" data-distribution="\d">\s*<caption>(.*?)</caption>',
                        early)
    assert tables == ["理论成绩"], tables
    day.marks({code: str(50 + 3 * i) for i, code in enumerate(day.stations)})
    overview = boss.get("/results/").text
    assert 'data-chart="score-distribution"' in overview
    assert "全部赛位" in overview or "All stations" in overview
    _locked_and_unsealed(day)
    final = boss.get("/results/final").text
    assert 'data-chart="score-distribution"' in final
    figure = re.search(r'<figure class="chart" data-chart="score-distribution">(.*?)</figure>',
                       final, re.S).group(1)
    for group in ("职工组", "学生组"):
        assert group in figure
    tables = re.findall(r'<table class="grid" data-distribution="\d">(.*?)</table>', figure,
                        re.S)
    assert len(tables) == 2  # theory and total, each with a column per group
    for table in tables:
        counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table)]
        assert sum(counts) == len(day.stations)
