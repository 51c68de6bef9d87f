"""Practical marks: two independent entries, every difference listed, nothing averaged."""

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from kiosk import clock
from kiosk.cli import main
from kiosk.errors import ImportErrors
from kiosk.results import mark_entry
from tests.actors import CHIEF, scorer
from tests.factories import make_stations

FULL = Decimal(85)


def _import(session, text, entry, name="marks.csv"):
    return mark_entry.import_marks(session, text.encode("gb18030"), name, entry=entry,
                                   full_marks=FULL, actor=scorer(entry),
                                   now=clock.now())


@pytest.fixture
def stations(session):
    return make_stations(session, 4)


def test_agreeing_entries_give_the_mark_and_differences_are_listed(session, stations):
    _import(session, "赛位号,分数\nA01,80.5\nA02,70\nA03,66.25\n", 1)
    _import(session, "赛位号,分数\nA01,80.50\nA02,71\nA04,50\n", 2)
    found = {(d.station, d.first, d.second) for d in mark_entry.differences(session)}
    assert found == {("A02", Decimal(70), Decimal(71)), ("A03", Decimal("66.25"), None),
                     ("A04", None, Decimal(50))}
    assert mark_entry.agreed_marks(session) == {"A01": Decimal("80.5")}


def test_nothing_is_averaged_the_chief_judge_decides_with_a_reason(session, stations):
    _import(session, "赛位号,分数\nA02,70\n", 1)
    _import(session, "赛位号,分数\nA02,71\n", 2)
    with pytest.raises(Exception, match="reason"):
        mark_entry.resolve(session, "A02", Decimal(71), " ", actor=CHIEF, now=clock.now())
    mark_entry.resolve(session, "a02", Decimal(71), "第二次录入与评分表一致",
                       actor=CHIEF, now=clock.now())
    assert mark_entry.differences(session) == []
    assert mark_entry.agreed_marks(session)["A02"] == Decimal(71)


def test_task_columns_must_add_up_and_are_compared_too(session, stations):
    _import(session, "赛位号,分数,任务一,任务二\nA01,80,50,30\n", 1)
    _import(session, "赛位号,任务一,任务二\nA01,49,31\n", 2)  # same total, other tasks
    found = {(d.task, d.first, d.second) for d in mark_entry.differences(session)}
    assert found == {("任务一", Decimal(50), Decimal(49)), ("任务二", Decimal(30), Decimal(31))}
    # The same total from other task marks is no agreement: the total follows the tasks.
    assert mark_entry.agreed_marks(session) == {}
    for task, mark in (("任务一", 50), ("任务二", 30)):
        mark_entry.resolve(session, "A01", Decimal(mark), "评分表", task=task, actor=CHIEF,
                           now=clock.now())
    assert mark_entry.agreed_marks(session) == {"A01": Decimal(80)}
    with pytest.raises(ImportErrors, match="add up"):
        _import(session, "赛位号,分数,任务一\nA02,80,79\n", 1)


def test_every_bad_row_is_listed_and_nothing_changes(session, stations):
    _import(session, "赛位号,分数\nA01,80\n", 1)
    bad = "赛位号,分数\nZ99,80\nA02,85.001\nA03,90\nA02,10\nA04,\n"
    with pytest.raises(ImportErrors) as excinfo:
        _import(session, bad, 1)
    assert [p.line for p in excinfo.value.problems] == [2, 3, 4, 5, 6]
    assert mark_entry.agreed_marks(session) == {}  # entry 1 still only A01, entry 2 empty
    assert [d.station for d in mark_entry.differences(session)] == ["A01"]


def test_marks_stay_exact_decimals():
    assert mark_entry.parse_mark("0.1") + mark_entry.parse_mark("0.2") == Decimal("0.3")
    assert mark_entry.parse_mark("1e400") is None and mark_entry.parse_mark("NaN") is None
    assert mark_entry.parse_mark("7.125") is None  # more than two decimals: a typing error


def test_the_command_line_lists_the_differences(kiosk_instance, stations, tmp_path):
    first, second = tmp_path / "e1.csv", tmp_path / "e2.csv"
    first.write_text("赛位号,分数\nA01,80\nA02,70\n", encoding="utf-8-sig")
    second.write_text("赛位号,分数\nA01,80\nA02,72.5\n", encoding="utf-8-sig")
    runner = CliRunner()
    base = ["--instance", str(kiosk_instance.path), "scores"]
    assert runner.invoke(main, [*base, "import", str(first), "--entry", "1"]).exit_code == 0
    result = runner.invoke(main, [*base, "import", str(second), "--entry", "2", "--json"])
    data = json.loads(result.output)
    assert data["differences"] == [{"station": "A02", "task": "", "entry_1": "70.00",
                                    "entry_2": "72.50"}]
    resolved = runner.invoke(main, [*base, "resolve", "A02", "72.5", "--reason", "复核评分表"])
    assert resolved.exit_code == 0
    assert json.loads(runner.invoke(main, [*base, "diff", "--json"]).output) == {
        "differences": []}
