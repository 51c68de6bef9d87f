"""Every spreadsheet kiosk writes keeps hostile text as text (OWASP's CSV injection rule), and its
numbers as numbers."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st
from openpyxl import load_workbook

from kiosk import tabular
from kiosk.results.final import FinalResults, FinalRow, results_xlsx
from kiosk.theory_exam.exam import StationScore
from kiosk.theory_exam.score_sheets import scores_xlsx
from tests.actors import SOMEONE
from tests.plugins.collect import open_hall, upload

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tX", "\rX", "=1+1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _texts(workbook_bytes: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)  # no formula anywhere
    return [cell.value for cell in cells if isinstance(cell.value, str)]


def _neutralised(texts: list[str], hostile: list[str]) -> None:
    assert not [t for t in texts if t.startswith(TRIGGERS)]
    for text in hostile:
        # XML reads a carriage return back as a line feed.
        assert "'" + text in texts or "'" + text.replace("\r", "\n") in texts, text


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert tabular.spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("number", [-2, -2.5, Decimal("-3.25"), 0, 97.5, Decimal("90")])
def test_numbers_stay_numbers_even_when_negative(number):
    assert tabular.spreadsheet_cell(number) is number


@given(st.text())
def test_any_text_comes_out_harmless_and_reads_back_as_written(text):
    assume(not text.startswith("'"))  # a quote the person typed themselves is theirs to keep
    cell = tabular.spreadsheet_cell(text)
    assert not cell.startswith(TRIGGERS)
    assert tabular.unquote_cell(cell) == text


def test_theory_scores_xlsx(tmp_path):
    rows = [StationScore(code, Decimal("-1.5") if i == 0 else Decimal(i), Decimal(100), i,
                         datetime(2026, 5, 1, 9, tzinfo=UTC), 60.0)
            for i, code in enumerate(HOSTILE)]
    data = scores_xlsx(rows, event_name="=cmd|' /C calc'!A0")
    texts = _texts(data)
    _neutralised(texts, HOSTILE)
    assert texts[0].startswith("'=cmd|")  # the title, from the event's name
    sheet = load_workbook(io.BytesIO(data)).active
    assert [sheet.cell(row=n, column=2).value for n in (3, 4)] == [-1.5, 1]


def test_final_results_xlsx():
    @dataclass
    class Lock:
        sha256: str

    rows = [FinalRow(rank=i + 1, station=f"A{i:02d}", contestant_no=f"{i:03d}", name=text,
                     id_number="-42", organization=text, group="+组", theory=Decimal("-2"),
                     theory_raw=Decimal("10.5"), practical=Decimal(60), deduction=Decimal("-2"),
                     total=Decimal("68.5"), time_used_s=12.0, award="@奖")
            for i, text in enumerate(HOSTILE)]
    data = results_xlsx(FinalResults(False, Lock("0" * 64), [("+组", rows)]),
                        event_name="-事件")
    _neutralised(_texts(data), [*HOSTILE, "-42", "+组", "@奖", "-事件"])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.cell(row=3, column=9).value == -2 and sheet.cell(row=3, column=11).value == -2
    assert sheet.cell(row=3, column=8).value == 10.5


def test_question_bank_export_keeps_stems_and_options_as_text(app):
    from kiosk.theory_exam import question_bank

    hostile = ['=HYPERLINK("http://x","y")', "+1 是正数吗", "-2+3 等于几", "@SUM(A1) 是什么"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "分类"])
    for stem in hostile:
        writer.writerow(["单选", stem, "=1+1", "-1", "@A1", "+2", "B", "2", "-类"])
    with app.extensions["kiosk"].session() as session:
        question_bank.import_bank(session, buffer.getvalue().encode(), "bank.csv", actor=SOMEONE,
                                  now=datetime.now(UTC))
        data = question_bank.export_bank_xlsx(session)
    _neutralised(_texts(data), [*hostile, "=1+1", "-1", "@A1", "+2", "-类"])
    sheet = load_workbook(io.BytesIO(data)).active
    points = [cell.value for cell in sheet[1]].index("分值") + 1
    assert [sheet.cell(row=n, column=points).value for n in range(2, 6)] == [2, 2, 2, 2]
    # The export is the import template: read back, the quote is gone and the text is as typed.
    again = question_bank.read_bank(data, "bank.xlsx", datetime.now(UTC))
    assert [q.stem for q in again.questions] == hostile
    assert {o["text"] for o in again.questions[0].options} == {"=1+1", "-1", "@A1", "+2"}


def test_the_export_manifest_csv(app, kiosk_instance, tmp_path):
    _, _, (first, _) = open_hall(app)
    names = ["=1+2.zip", "+1.zip", "-2+3.zip", "@SUM(A1).zip"]
    for name in names:
        assert upload(first, b"work", quote(name)).status_code == 201
    out = tmp_path / "bundle"
    result = CliRunner().invoke(__import__("kiosk.cli").cli.main,
                                ["--instance", str(kiosk_instance.path), "export", "--out",
                                 str(out), "--json"])
    assert result.exit_code == 0, result.output
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["filename"] for row in rows) == sorted("'" + name for name in names)
    assert all(row["size"] == "4" for row in rows)
    assert not [cell for row in rows for cell in row.values() if cell.startswith(TRIGGERS)]
    # The signed JSON manifest keeps the names exactly as handed in.
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert sorted(h["filename"] for h in manifest["hand_ins"]) == sorted(names)
