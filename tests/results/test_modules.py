"""Scores by module: a day timed module by module (seed 000: 模块A, B, C; 模块D scored
throughout) is marked per module, compared per module, summed, and timed over every part."""

import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.db import write_transaction
from kiosk.errors import ImportErrors
from kiosk.results import final, mark_entry, review, submission, tasks, totals
from kiosk.stations import phases, timetable
from kiosk.stations.models import EarlyFinish, Station
from tests.actors import CHIEF, scorer
from tests.factories import login, make_stations, make_user

D = Decimal
WEIGHT = D(15)
SEED_000 = {"part": [
    {"key": "A", "name": "模块A：生成式人工智能系统数据处理", "kind": "practical", "minutes": 60},
    {"key": "B", "name": "模块B：生成式人工智能系统模型训练", "kind": "practical", "minutes": 90},
    {"key": "C", "name": "模块C：生成式人工智能系统部署与维护", "kind": "practical",
     "minutes": 90}]}


@pytest.fixture
def modules_day(instance, session):
    """Seed 000's day: three timed modules, no theory; three stations drawn."""
    make_stations(session, 3)
    timetable.replace(session, timetable.check(SEED_000, instance.settings), actor=CHIEF,
                      now=clock.now())
    with write_transaction(session):
        for station in session.scalars(select(Station)):
            station.occupied = True
    return session


def _import(session, text, entry):
    return mark_entry.import_marks(session, text.encode(), "marks.csv", entry=entry,
                                   full_marks=D(85), actor=scorer(entry), now=clock.now())


def _results(session, now=None):
    return {r.station: r for r in totals.live_results(session, theory_weight=WEIGHT,
                                                      now=now or clock.now())}


def test_marks_per_module_are_compared_per_module_and_summed(modules_day):
    session = modules_day
    # Entry 1 names the modules as the timetable does, entry 2 by their keys.
    _import(session, "赛位号,模块A,模块B,模块C,模块D\nA01,20,25,30,4\nA02,15,20,35,5\n", 1)
    _import(session, "赛位号,A,B,C,模块D\nA01,20,26,30,4\nA02,15,20,35,5\n", 2)
    found = [(d.station, d.task, d.first, d.second) for d in mark_entry.differences(session)]
    assert found == [("A01", "B", D(25), D(26))]  # per module; the totals follow from them
    assert mark_entry.agreed_marks(session) == {"A02": D(75)}
    # The chief judge names the module as people do: 模块B is part B.
    mark_entry.resolve(session, "A01", D(25), "评分表模块B为25分", task="模块B", actor=CHIEF,
                       now=clock.now())
    assert mark_entry.differences(session) == []
    results = _results(session)
    assert results["A01"].practical == D(79) and results["A01"].total == D(79)
    assert results["A01"].tasks == {"A": D(20), "B": D(25), "C": D(30), "模块D": D(4)}


def test_a_marks_file_with_a_total_and_modules_must_add_up(modules_day):
    with pytest.raises(ImportErrors) as excinfo:
        _import(modules_day, "赛位号,分数,A,B,C\nA01,80,20,25,30\n", 1)
    assert [p.render() for p in excinfo.value.problems] == [
        "line 2: the tasks add up to 75, not 80"]
    with pytest.raises(ImportErrors, match="both A"):
        _import(modules_day, "赛位号,A,模块A\nA01,20,20\n", 1)


def test_a_mark_above_a_modules_full_marks_is_refused_with_its_line(modules_day):
    session = modules_day
    tasks.set_tasks(session, "A=25,B=30,C=40,模块D=5", actor=CHIEF, now=clock.now())
    assert tasks.practical_full(session, D(85)) == D(100)
    with pytest.raises(ImportErrors) as excinfo:
        _import(session, "赛位号,模块A,模块B,模块C,模块D\nA01,25,30,40,5\nA02,26,30,40,5\n"
                         "A03,20,20,20,6\n", 1)
    assert [p.render() for p in excinfo.value.problems] == [
        "line 3: 模块A: 26 is above its full marks 25.00",
        "line 4: 模块D: 6 is above its full marks 5.00"]
    # 100 is the practical's full marks now (the modules' sum), not practical_full_marks.
    _import(session, "赛位号,模块A,模块B,模块C,模块D\nA01,25,30,40,5\n", 1)


def test_full_marks_cannot_drop_below_a_mark_already_entered(modules_day):
    session = modules_day
    _import(session, "赛位号,A,B\nA01,28,30\n", 1)
    with pytest.raises(ImportErrors, match=r"A01: A 28\.00 is above its full marks 25"):
        tasks.set_tasks(session, "A=25,B=30", actor=CHIEF, now=clock.now())
    with pytest.raises(ImportErrors, match="TASK=POINTS"):
        tasks.set_tasks(session, "A=25,B", actor=CHIEF, now=clock.now())


def test_a_day_without_theory_has_no_theory_column(modules_day, kiosk_instance, tmp_path):
    session = modules_day
    _import(session, "赛位号,A,B,C\nA01,20,25,30\nA02,10,20,30\nA03,15,20,30\n", 1)
    _import(session, "赛位号,A,B,C\nA01,20,25,30\nA02,10,20,30\nA03,15,20,30\n", 2)
    results = _results(session)
    assert results["A01"].problems == () and results["A01"].theory is None
    assert results["A01"].theory_weighted is None and results["A01"].total == D(75)
    review.draw_sample(session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    for _item, code in review.items(session):
        review.record_outcome(session, code, correct=True, actor=CHIEF, now=clock.now())
    submission.lock(session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    # The lock's frozen copy keeps the marks per module.
    locked = {r.station: r for r in totals.locked_results(session)[1]}
    assert locked["A02"].tasks == {"A": D(10), "B": D(20), "C": D(30)}
    result = final.final_results(session)
    assert not result.with_theory
    assert result.task_columns == (("A", "模块A"), ("B", "模块B"), ("C", "模块C"))
    rows = final.results_json(result)["groups"][0]["ranking"]
    first = rows[0]
    assert (first["station"], first["theory"], first["total"], first["tasks"]) == (
        "A01", None, 75, {"A": 20, "B": 25, "C": 30})
    sheet = load_workbook(io.BytesIO(final.results_xlsx(result, event_name="测试"))).active
    header = [cell.value for cell in sheet[2]]
    assert "理论(折算)" not in header and "理论原始分" not in header
    assert header[header.index("模块A"):header.index("实操") + 1] == [
        "模块A", "模块B", "模块C", "实操"]
    out = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "results", "--json"])
    assert json.loads(out.output)["groups"][0]["ranking"][0]["theory"] is None
    sheet_pdf = tmp_path / "sheet.pdf"
    printed = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "results",
                                        "--out", str(sheet_pdf)])
    assert printed.exit_code == 0, printed.output
    text = "".join(page.extract_text() for page in PdfReader(sheet_pdf).pages)
    assert "模块A" in text and "模块C" in text and "理论(折算)" not in text
    assert "总分 = 实操成绩" in text


def test_working_time_runs_over_every_part_with_pauses_and_extensions(modules_day):
    session = modules_day
    t0 = clock.now() - timedelta(hours=5)
    at = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
    ids = dict(session.execute(select(Station.id, Station.code)).all())
    phases.start(session, "A", 60, actor=CHIEF, now=at(0))
    phases.pause(session, "A", reason="停电", actor=CHIEF, now=at(10))
    phases.resume(session, "A", actor=CHIEF, now=at(15))  # A now ends at 65
    phases.end(session, "A", actor=CHIEF, now=at(65))
    phases.start(session, "B", 90, actor=CHIEF, now=at(70))  # ends at 160
    phases.extend(session, "A02", 10, "设备故障（非选手原因）", phase_name="B", actor=CHIEF,
                  now=at(80))
    by_code = {code: station_id for station_id, code in ids.items()}
    with write_transaction(session):
        session.add(EarlyFinish(phase_id=phases.get_phase(session, "B").id,
                                station_id=by_code["A03"], at=at(100), recorded_by="field"))
    seconds = {ids[k]: v for k, v in totals._practical_seconds(session, ids, at(300)).items()}
    # A: 65 min less the 5-min pause, for everyone; B: 90, A02's extended 100, A03 to 30.
    assert seconds == {"A01": 150 * 60.0, "A02": 160 * 60.0, "A03": 90 * 60.0}
    _import(session, "赛位号,分数\nA01,70\nA02,70\nA03,70\n", 1)
    _import(session, "赛位号,分数\nA01,70\nA02,70\nA03,70\n", 2)
    # A02's extension keeps the practical open, and C has not run: no totals yet.
    assert "the practical exam has not ended" in _results(session, at(165))["A01"].problems
    phases.start(session, "C", 90, actor=CHIEF, now=at(175))
    assert _results(session, at(300))["A02"].time_used_s == (160 + 90) * 60.0
    assert _results(session, at(300))["A01"].problems == ()


def test_the_overview_shows_the_modules_in_the_days_order_and_no_theory(app):
    with app.extensions["kiosk"].session() as session:
        make_stations(session, 2)
        timetable.replace(session, timetable.check(SEED_000, app.extensions["kiosk"].settings),
                          actor=CHIEF, now=clock.now())
        make_user(session, "chief", username="boss")
        # Columns in the file's order C, 模块D, A: the page puts the parts first, in order.
        for entry in (1, 2):
            _import(session, "赛位号,模块C,模块D,模块A\nA01,30,5,20\n", entry)
    client = app.test_client()
    login(client, "boss")
    page = client.get("/results/").text
    header = page[page.index("data-results"):page.index("</thead>", page.index("data-results"))]
    assert re.findall(r'data-task="([^"]+)"', header) == ["A", "C", "模块D"]
    assert "Theory (weighted)" not in header and "理论成绩（折算）" not in header
    assert ">55<" in page  # 20 + 30 + 5


def test_the_command_line_sets_and_shows_the_modules_full_marks(modules_day, kiosk_instance):
    base = ["--instance", str(kiosk_instance.path), "scores", "tasks"]
    runner = CliRunner()
    out = runner.invoke(main, [*base, "set", "模块A=25，B=30;C=40,模块D=5", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [(t["task"], t["name"], t["full_marks"]) for t in data["tasks"]] == [
        ("A", "模块A", 25), ("B", "模块B", 30), ("C", "模块C", 40), ("模块D", "模块D", 5)]
    assert data["practical_full_marks"] == 100
    refused = runner.invoke(main, [*base, "set", "A=x"])
    assert refused.exit_code != 0 and "A=x" in refused.output
    shown = json.loads(runner.invoke(main, [*base, "show", "--json"]).output)
    assert shown["practical_full_marks"] == 100
