import io
import json
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from kiosk.errors import ImportErrors
from kiosk.theory_exam.models import Question
from kiosk.theory_exam.question_bank import import_bank, read_bank
from tests.actors import SOMEONE

NOW = datetime(2026, 11, 22, tzinfo=UTC)
HEADER = "题型,题干,选项A,选项B,选项C,选项D,答案,分值,分类\n"


def bank(text: str, filename="bank.csv"):
    return read_bank(text.encode("utf-8"), filename, NOW)


def test_the_template_with_both_types():
    result = bank(HEADER + "单选,1+1=?,1,2,3,4,B,2,数学\n判断,地球是圆的。,,,,,对,,常识\n")
    single, tf = result.questions
    assert (single.type, single.answer, str(single.points)) == ("single", "B", "2")
    assert [o["key"] for o in single.options] == ["A", "B", "C", "D"]
    assert (tf.type, tf.answer, tf.points, tf.options) == ("tf", "T", 1, [])


@pytest.mark.parametrize("word, expected", [("对", "T"), ("错", "F"), ("正确", "T"),
                                            ("错误", "F"), ("√", "T"), ("×", "F"),
                                            ("T", "T"), ("f", "F")])
def test_true_false_answers_in_every_spelling(word, expected):
    (question,) = bank(HEADER + f"判断题,陈述。,,,,,{word},,\n").questions
    assert question.answer == expected


def test_banks_in_the_wild_variant_headers_and_tf_as_option_letter():
    text = ("题号,题型,题干,选项A,选项B,正确答案,解析,正确答案文本\n"
            "1,单选题,下列正确的是,甲,乙,b,因为乙,乙\n"
            "2,判断题,这是对的。,正确,错误,A,说明,\n"
            '3,单选,"多行\n题干",x,y,A,,\n')
    single, tf, multiline = bank(text).questions
    assert single.answer == "B" and "因为乙" in single.explanation
    assert tf.type == "tf" and tf.answer == "T"
    assert multiline.stem == "多行\n题干"


def test_english_headers_are_accepted():
    (question,) = bank("type,stem,A,B,answer,points,category\nsingle,Q?,x,y,A,1,c\n").questions
    assert question.answer == "A"


def test_every_bad_row_is_a_line_error_and_nothing_is_imported(session):
    text = (HEADER +
            "多选题,选两个,a,b,c,d,AB,1,\n"        # line 2: cannot be asked
            "单选,,a,b,,,A,1,\n"                  # line 3: empty stem
            "单选,答案不在选项里,a,b,,,D,1,\n"      # line 4
            "判断,看不懂的答案,,,,,也许,1,\n"        # line 5
            "单选,分值不对,a,b,,,A,-3,\n"          # line 6
            "问答,未知题型,,,,,,1,\n"              # line 7
            '单选,"跨行\n的题干",a,b,,,A,1,\n'     # line 8: fine (spans two lines)
            "单选,跨行之后的错误,a,,,,A,1,\n")     # line 10: one option only
    with pytest.raises(ImportErrors) as excinfo:
        import_bank(session, text.encode(), "bank.csv", actor=SOMEONE, now=NOW)
    assert [p.line for p in excinfo.value.problems] == [2, 3, 4, 5, 6, 7, 10]
    assert "cannot be asked" in excinfo.value.problems[0].message
    assert session.query(Question).count() == 0


def test_duplicate_stems_are_flagged_not_refused():
    result = bank(HEADER + "判断,同一题。,,,,,对,,\n判断,同一题。,,,,,错,,\n")
    assert len(result.questions) == 2
    assert [w.line for w in result.warnings] == [3]


def test_xlsx_and_json_banks():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["题型", "题干", "选项A", "选项B", "答案", "分值"])
    sheet.append(["单选", "Q1", "x", "y", "A", 1.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (from_xlsx,) = read_bank(buffer.getvalue(), "bank.xlsx", NOW).questions
    assert str(from_xlsx.points) == "1.5"
    document = {"questions": [{"type": "single", "stem": "Q", "options": ["x", "y", "z"],
                               "answer": "C"},
                              {"type": "tf", "stem": "S", "answer": False}]}
    single, tf = read_bank(json.dumps(document).encode(), "bank.json", NOW).questions
    assert single.answer == "C" and tf.answer == "F"


def test_eight_options_are_allowed():
    header = "题型,题干,选项A,选项B,选项C,选项D,选项E,选项F,选项G,选项H,答案\n"
    (question,) = bank(header + "单选,Q,1,2,3,4,5,6,7,8,H\n").questions
    assert question.answer == "H" and len(question.options) == 8


def test_a_bank_imported_twice_warns_of_every_stem_already_held(session):
    now = NOW
    data = ("题型,题干,选项A,选项B,答案,分值\n单选题,第一题,甲,乙,A,1\n判断题,第二题,,,对,1\n"
            "单选题,新的一题,甲,乙,B,1\n").encode()
    first = import_bank(session, data, "bank.csv", actor=SOMEONE, now=now)
    assert first.warnings == []
    again = import_bank(session, data, "bank.csv", actor=SOMEONE, now=now)
    said = [w.render(str) for w in again.warnings]
    assert len(said) == 3 and said[0].startswith("line 2") and "already in the bank" in said[0]
