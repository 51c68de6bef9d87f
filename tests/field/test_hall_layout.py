"""The hall map's layout file (场地布局图): parsed into seats, aisles, spare seats and landmarks;
every problem named by its line and cell, all or nothing; a station missing from the map is a
warning. Imported by `kiosk hall layout import` and on the page, with a preview."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.errors import ImportErrors
from kiosk.field import hall_layout
from kiosk.field.models import HallLayout
from kiosk.models import AuditEvent
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_stations, make_user

HALL = """\
# the demo's shape
标题：综合馆赛场
[入口] . [裁判席] [裁判席] | [技术服务站]
---- 主通道 ----
A01 A02 A03 A04 | A05 A06
a07 A08 . A09 | A10 +备1
---
+ + . . | [安全出口]
"""


def cli(instance_path, *args):
    return CliRunner().invoke(main, ["--instance", str(instance_path), *map(str, args)])


def _problems(text: str, filename: str = "layout.txt") -> list[str]:
    with pytest.raises(ImportErrors) as caught:
        hall_layout.parse(text.encode("utf-8"), filename)
    return [p.render() for p in caught.value.problems]


def test_a_layout_reads_as_the_hall_is_laid_out():
    layout = hall_layout.parse(HALL.encode("utf-8"))
    assert layout.title == "综合馆赛场"
    assert (layout.rows, layout.columns) == (6, 7)
    assert list(layout.stations) == [f"A{n:02d}" for n in range(1, 11)]  # a07 is A07
    assert layout.stations["A05"].seat == (1, 5)  # 第1排, the fifth seat from the left
    assert layout.stations["A08"].seat == (2, 2)
    assert [(s.label, s.seat) for s in layout.spare_seats] == [
        ("备1", (2, 5)), ("", (3, 1)), ("", (3, 2))]
    judges = next(i for i in layout.items if i.label == "裁判席")
    assert (judges.row, judges.col, judges.width, judges.height) == (0, 2, 2, 1)
    assert next(i for i in layout.items if i.label == "入口").door
    assert [(i.label, i.row) for i in layout.items if i.kind == "aisle"] == [("主通道", 1),
                                                                             ("", 4)]
    assert layout.aisle_columns == {4}  # nothing but aisle down column 5: drawn narrow
    kinds = [(kind, number) for kind, number, _ in layout.table()]
    assert kinds == [("other", None), ("aisle", None), ("seats", 1), ("seats", 2),
                     ("aisle", None), ("seats", 3)]


def test_a_spreadsheet_saved_as_csv_is_the_same_grid():
    csv_text = "标题：综合馆赛场\n[门],,A01,A02\n---- 主通道 ----\nA03,|,A04,+\n"
    layout = hall_layout.parse(csv_text.encode("utf-8"), "hall.csv")
    assert list(layout.stations) == ["A01", "A02", "A03", "A04"]
    assert layout.stations["A04"].seat == (2, 2) and len(layout.spare_seats) == 1
    assert layout.title == "综合馆赛场" and layout.cross_aisles == {1}


def test_every_problem_is_listed_by_line_and_cell():
    problems = _problems("A01 A02 A0-3\nA04 A01 [裁判席]\n[裁判席] . A05\n[]")
    assert problems == [
        "line 1: cell 3: A0-3 is not a station code (A01), a spare seat (+), an aisle (|), "
        "floor (.) or a landmark in brackets ([门]).",
        "line 2: cell 2: A01 is on the map twice (first on line 1).",
        "line 2: [裁判席] is written over cells that are not one rectangle: write one landmark "
        "over a rectangle of cells, or give each its own text.",
        "line 4: cell 1: [] is not a station code (A01), a spare seat (+), an aisle (|), "
        "floor (.) or a landmark in brackets ([门]).",
    ]


def test_a_layout_without_seats_or_not_text_is_refused_with_the_reason():
    assert _problems("[门] . [裁判席]") == [
        "The hall layout has no seat: write the station codes where the stations stand."]
    with pytest.raises(ImportErrors) as caught:
        hall_layout.parse("A01 A02".encode("utf-16"))
    assert caught.value.problems[0].render() == "The hall layout is not UTF-8 text."
    assert "too large" in _problems("A01 " * 200)[0]


def test_a_landmark_over_a_rectangle_of_rows_is_one_landmark():
    layout = hall_layout.parse("[裁判席] [裁判席] A01\n[裁判席] [裁判席] A02\n".encode())
    judges = [i for i in layout.items if i.kind == "landmark"]
    assert [(i.width, i.height) for i in judges] == [(2, 2)]
    cells = [[c.item.label if c.item else c.kind for c in cells]
             for _, _, cells in layout.table()]
    assert cells == [["裁判席", "A01"], ["A02"]]  # the second row's cells are the span's


def _session(instance, count=6):
    session = instance.session()
    make_stations(session, count)
    session.commit()
    return session


def test_import_is_all_or_nothing_and_names_a_station_the_event_does_not_have(instance):
    session = _session(instance, 5)
    with pytest.raises(ImportErrors) as caught:
        hall_layout.import_layout(session, b"A01 A02 A03\nA04 A05 A77\nA88", "hall.txt",
                                  actor=CHIEF, now=clock.now())
    assert [p.render() for p in caught.value.problems] == [
        "line 2: A77 is on the map but is not a station of this event (kiosk stations add "
        "makes stations).",
        "line 3: A88 is on the map but is not a station of this event (kiosk stations add "
        "makes stations)."]
    assert session.scalars(select(HallLayout)).all() == []
    assert hall_layout.stored(session) is None


def test_a_station_missing_from_the_map_is_a_warning_and_the_import_is_audited(instance):
    session = _session(instance, 5)
    checked = hall_layout.import_layout(session, b"A01 A02 | A03\n+ A05", "hall.txt",
                                        actor=CHIEF, now=clock.now())
    assert [w.render() for w in checked.warnings] == [
        "1 stations are not on the map (they are still in the list): A04"]
    stored = hall_layout.stored(session)
    assert stored.row.seats == 5 and list(stored.layout.stations) == ["A01", "A02", "A03",
                                                                      "A05"]
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "hall.layout_imported")).one()
    details = json.loads(event.details)
    assert details["stations"] == 4 and details["spare_seats"] == 1
    assert details["not_on_map"] == 1 and details["sha256"] == stored.row.sha256
    # A second import is the one in force; the first stays as history.
    hall_layout.import_layout(session, b"A01 A02 A03 A04 A05", "hall2.txt", actor=CHIEF,
                              now=clock.now())
    assert hall_layout.stored(session).row.filename == "hall2.txt"
    assert len(session.scalars(select(HallLayout)).all()) == 2


def test_the_cli_imports_lists_every_problem_and_shows_the_layout(instance, tmp_path):
    _session(instance, 4)
    bad = tmp_path / "bad.txt"
    bad.write_text("A01 A01 A02\nA09 ?\n", "utf-8")
    result = cli(instance.path, "hall", "layout", "import", str(bad))
    assert result.exit_code == 1
    assert "第 2 格：A01 在布局图上出现了两次（第一次在第 1 行）" in result.output
    assert "第 2 格：? 不是赛位号" in result.output
    good = tmp_path / "hall.txt"
    good.write_text("[门] A01 A02\nA03 | +备1\n", "utf-8")
    result = cli(instance.path, "hall", "layout", "import", str(good), "--json")
    data = json.loads(result.output)
    assert data["stations"] == 3 and data["spare_seats"] == 1
    assert data["not_on_map"] == ["A04"]
    shown = cli(instance.path, "hall", "layout", "show")
    assert shown.output.strip() == "[门] A01 A02\nA03 | +备1"


def _chief(app, count=4):
    with app.extensions["kiosk"].session() as session:
        make_stations(session, count)
        session.commit()
        make_user(session, "chief", username="boss")
    client = app.test_client()
    login(client, "boss")
    return client


def test_the_page_previews_without_saving_and_saves_all_or_nothing(app):
    chief = _chief(app)
    page = chief.get("/field/layout")
    assert "尚无场地布局图" in page.text
    token = csrf_from(page.text)
    preview = chief.post("/field/layout", data={"csrf_token": token, "action": "preview",
                                                "text": "[门] A01 A02\nA03 | +备1"})
    assert preview.status_code == 200
    assert "预览，尚未保存：图上有 3 个赛位、1 个备用工位。" in preview.text
    assert "1 个赛位不在场地布局图上（列表中仍有）：A04" in preview.text
    assert '<td class="hm-landmark hm-door">门</td>' in preview.text
    with app.extensions["kiosk"].session() as session:
        assert hall_layout.stored(session) is None  # a preview saves nothing
    refused = chief.post("/field/layout", data={"csrf_token": token, "action": "save",
                                                "text": "A01 A01\nA02 A99"})
    assert refused.status_code == 422
    assert "未做任何修改：共 2 处问题" in refused.text
    assert "A01 在布局图上出现了两次" in refused.text
    assert "A99 在布局图上，但不是本赛事的赛位" in refused.text
    assert "A01 A01\nA02 A99" in refused.text  # what was typed, to correct
    saved = chief.post("/field/layout", data={"csrf_token": token, "action": "save",
                                              "text": "A01 A02 A03 A04"}, follow_redirects=True)
    assert "场地布局已保存：图上有 4 个赛位。" in saved.text
    assert "当前使用：layout.txt" in saved.text
    # The live preview asks for the preview alone.
    fragment = chief.post("/field/layout", data={"csrf_token": token, "action": "preview",
                                                 "fragment": "1", "text": "A01 A02 A03 A05"})
    assert fragment.text.lstrip().startswith("<div data-layout-preview>")
    assert "A05 在布局图上，但不是本赛事的赛位" in fragment.text


def test_a_field_judge_sees_the_layout_but_cannot_change_it(app):
    with app.extensions["kiosk"].session() as session:
        make_stations(session, 2)
        hall_layout.import_layout(session, b"A01 A02", "hall.txt", actor=CHIEF,
                                  now=clock.now())
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    page = judge.get("/field/layout")
    assert page.status_code == 200 and "当前使用：hall.txt" in page.text
    assert "保存布局" not in page.text
    refused = judge.post("/field/layout", data={"csrf_token": csrf_from(page.text),
                                                "text": "A02 A01"})
    assert refused.status_code == 403
