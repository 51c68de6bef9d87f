import io
import json

import pytest
from openpyxl import Workbook

from kiosk.checkin import idcard
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import import_roster
from kiosk.errors import ImportErrors
from tests.actors import SOMEONE
from tests.factories import id_number, in_a_terminal

HEADER = "姓名,身份证号,单位,组别\r\n"
GROUPS = ["职工组", "学生组"]


def _import(session, data: bytes, filename="roster.csv", actor=None, now=None):
    from kiosk import clock

    return import_roster(session, data, filename, groups=GROUPS,
                         actor=actor or SOMEONE, now=now or clock.now())


def test_check_digit_follows_gb_11643():
    assert idcard.check_char("11010519491231002") == "X"
    assert idcard.problem("11010519491231002X", __import__("datetime").date(2026, 1, 1)) is None


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"),
                                           ("gb18030", b""), ("gbk", b"")])
def test_csv_in_every_encoding_excel_writes(session, encoding, bom):
    text = (HEADER + f"张三,{id_number(1)},武汉数智,职工组\r\n"
            f"李四,{id_number(2)},长江职院,学生组\r\n")
    imported = _import(session, bom + text.encode(encoding))
    assert [c.name for c in imported] == ["张三", "李四"]


def test_what_excel_does_to_text_is_undone(session):
    raw = id_number(3)
    messy = "　" + raw[:17] + raw[17].lower() + " "  # full-width space, lower-case x
    text = HEADER + f" 王五 ,{messy},单位,职工组\r\n"
    (person,) = _import(session, text.encode("utf-8"))
    assert person.name == "王五"
    assert person.id_number == raw.upper()


def test_every_bad_row_is_listed_and_nothing_is_imported(session):
    rows = [
        f"张三,{id_number(1)},a,职工组",        # line 2: fine
        f",{id_number(2)},a,职工组",            # line 3: no name
        "李四,420102199001010010,a,职工组",      # line 4: wrong check digit
        f"王五,{id_number(1)},a,职工组",         # line 5: duplicate of line 2
        f"赵六,{id_number(4)},a,少年组",         # line 6: unknown group
        "钱七,4.20102E+17,a,职工组",             # line 7: Excel's scientific notation
        "孙八,420102199002300011,a,职工组",      # line 8: 30 February
    ]
    with pytest.raises(ImportErrors) as excinfo:
        _import(session, (HEADER + "\r\n".join(rows)).encode("utf-8"))
    lines = [p.line for p in excinfo.value.problems]
    assert lines == [3, 4, 5, 6, 7, 8]
    assert session.query(Contestant).count() == 0


def test_a_duplicate_against_the_existing_roster_is_refused(session):
    _import(session, (HEADER + f"张三,{id_number(1)},a,职工组\r\n").encode())
    with pytest.raises(ImportErrors, match="line 2"):
        _import(session, (HEADER + f"张三,{id_number(1)},a,职工组\r\n").encode())
    assert session.query(Contestant).count() == 1


def test_xlsx_id_stored_as_a_number_is_rejected_with_the_explanation(session):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "单位", "组别"])
    sheet.append(["张三", id_number(5), "单位", "职工组"])
    sheet.append(["李四", 420102199001010000, "单位", "职工组"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportErrors) as excinfo:
        _import(session, buffer.getvalue(), "roster.xlsx")
    (problem,) = excinfo.value.problems
    assert problem.line == 3
    assert "as a number" in problem.message


def test_a_missing_column_is_reported_on_the_header_line(session):
    with pytest.raises(ImportErrors) as excinfo:
        _import(session, "姓名,单位\r\n张三,a\r\n".encode())
    assert [p.render() for p in excinfo.value.problems] == [
        "line 1: missing column id_number", "line 1: missing column group"]


@pytest.mark.parametrize("data, filename", [
    (b"\xff\xfe\x00garbage\x00\x00", "roster.csv"),
    (b"PK\x03\x04 not really a zip", "roster.xlsx"),
    (b"", "roster.csv"),
    (b"\x81\x30", "roster.csv"),
    (b"name\n", "roster.pdf"),
])
def test_unreadable_files_are_import_errors_not_crashes(session, data, filename):
    with pytest.raises(ImportErrors):
        _import(session, data, filename)


def _id_number(n: int) -> str:
    return id_number(n % 1000, birth=f"19{80 + n // 1000}0101")


def test_a_roster_import_on_a_terminal_shows_the_lines_read_and_none_with_json(instance,
                                                                             tmp_path):
    lines = ["姓名,身份证号,单位,组别"] + [f"选手{n},{_id_number(n)},单位,学生组"
                                          for n in range(3000)]
    roster = tmp_path / "名单.csv"
    roster.write_text("\n".join(lines), encoding="utf-8")
    code, out, shown = in_a_terminal("--instance", str(instance.path), "roster", "import",
                                     str(roster), "--json")
    assert code == 0 and json.loads(out)["imported"] == 3000
    assert "[" not in shown
    again = tmp_path / "again.csv"
    again.write_text("\n".join(lines[:1] + [f"选手,{_id_number(5000 + n)},单位,学生组"
                                            for n in range(10)]), encoding="utf-8")
    code, out, shown = in_a_terminal("--instance", str(instance.path), "roster", "import",
                                     str(again))
    assert code == 0, shown
    assert "读取文件 [" in shown and "100%" in shown and "检查并保存各行" in shown
