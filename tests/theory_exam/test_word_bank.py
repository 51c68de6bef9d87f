"""Word (.docx) question banks (issue 20, item 1): a table with the template's header, or numbered
paragraphs as organisers type them; every problem named by its paragraph or table row, all or
nothing, exactly like the xlsx import."""

import importlib.util
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import kiosk.seed
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.errors import ImportErrors
from kiosk.models import AuditEvent
from kiosk.theory_exam.models import Question
from kiosk.theory_exam.question_bank import import_bank, read_bank
from tests.actors import SOMEONE
from tests.theory_exam.bank_docx import (
    add_list,
    new_document,
    numbered,
    paragraphs_docx,
    table,
    to_bytes,
)

NOW = datetime(2026, 12, 3, tzinfo=UTC)
SEED = Path(kiosk.seed.__file__).parent


def word(data: bytes, filename: str = "bank.docx"):
    return read_bank(data, filename, NOW)


def problems_of(data: bytes, filename: str = "bank.docx") -> list[str]:
    with pytest.raises(ImportErrors) as excinfo:
        word(data, filename)
    return [p.render() for p in excinfo.value.problems]


def summary(question: Question) -> tuple:
    return (question.type, question.stem, [(o["key"], o["text"]) for o in question.options],
            question.answer, str(question.points), question.category, question.explanation)


# ----------------------------------------------------------------------------- the samples


def _bank_key(question: Question) -> tuple:
    # The Word sample leaves the blank brackets of a stem where the contestant chooses.
    stem = question.stem.removesuffix("（  ）")
    return (question.type, stem, tuple((o["key"], o["text"]) for o in question.options),
            question.answer, str(question.points), question.category, question.explanation)


@pytest.mark.parametrize("name", ["question_bank_sample.docx",
                                  "question_bank_table_sample.docx"])
def test_the_sample_word_banks_import_exactly_as_the_csv_bank(name):
    from_csv = word((SEED / "question_bank.csv").read_bytes(), "question_bank.csv")
    from_word = word((SEED / name).read_bytes(), name)
    assert len(from_word.questions) == 187 and from_word.warnings == []
    assert sorted(map(_bank_key, from_word.questions)) == \
        sorted(map(_bank_key, from_csv.questions))


def test_the_sample_word_banks_are_reproducible_from_their_sources(tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("seed_build", copy / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    for name in ("question_bank_sample.docx", "question_bank_table_sample.docx"):
        assert (copy / name).read_bytes() == (SEED / name).read_bytes(), name


def test_the_sample_is_typed_as_the_competitions_publish_theirs():
    import docx

    texts = [p.text for p in docx.Document(str(SEED / "question_bank_sample.docx")).paragraphs]
    assert "一、单项选择题（每题1分）" in texts and "二、判断题（每题1分）" in texts
    assert any(t.startswith("1．") and t.endswith("（  ）") for t in texts)
    assert any(t.startswith("A．") and "\tB．" in t for t in texts)  # two options to a line
    assert any(t.startswith("答案：") for t in texts) and any(t.endswith("（√）") for t in texts)


# ----------------------------------------------------------------------------- paragraphs


@pytest.mark.parametrize("number, option, answer", [
    ("1.", "A.", "答案：B"), ("1、", "A、", "【答案】B"), ("1．", "A．", "正确答案：B"),
    ("（1）", "A．", "答案: Ｂ"), ("(1)", "A、", "参考答案：（B）"), ("１．", "Ａ．", "答案：B。"),
    (" 1 ． ", "A ．", "【答案】 B")])
def test_stems_options_and_answers_in_every_common_spelling(number, option, answer):
    b = option.replace("A", "B").replace("Ａ", "Ｂ")
    data = paragraphs_docx("一、单选题", f"{number}下列属于监督学习的是", f"{option}聚类",
                           f"{b}图像分类", answer, "解析：图像分类需要带标签的数据。")
    (question,) = word(data).questions
    assert summary(question) == ("single", "下列属于监督学习的是",
                                 [("A", "聚类"), ("B", "图像分类")], "B", "1", "",
                                 "图像分类需要带标签的数据。")


@pytest.mark.parametrize("line", ["A．聚类  B．图像分类  C．降维  D．关联规则",
                                  "A．聚类\tB．图像分类\tC．降维\tD．关联规则",
                                  "A．聚类\u3000B．图像分类\u3000C．降维\u3000D．关联规则",
                                  "A.聚类B.图像分类C.降维D.关联规则",
                                  "A、聚类 B、图像分类\nC、降维 D、关联规则"])
def test_several_options_on_one_line(line):
    data = paragraphs_docx("单项选择题", "1．下列属于监督学习的是（ B ）", *line.split("\n"))
    (question,) = word(data).questions
    assert [(o["key"], o["text"]) for o in question.options] == [
        ("A", "聚类"), ("B", "图像分类"), ("C", "降维"), ("D", "关联规则")]
    assert question.answer == "B" and question.stem == "下列属于监督学习的是（  ）"


@pytest.mark.parametrize("stem, answer_line, expected", [
    ("数据清洗可以发现错误。（√）", None, "T"), ("数据清洗可以发现错误。( × )", None, "F"),
    ("数据清洗可以发现错误。（对）", None, "T"), ("数据清洗可以发现错误。", "正确答案：对", "T"),
    ("数据清洗可以发现错误。", "答案：错误", "F"), ("数据清洗可以发现错误。", "【答案】×", "F"),
    ("数据清洗可以发现错误。（   ）", "答案：√", "T")])
def test_true_false_answers_in_brackets_or_on_a_line(stem, answer_line, expected):
    lines = ["二、判断题（每题1分）", f"1．{stem}"] + ([answer_line] if answer_line else [])
    (question,) = word(paragraphs_docx(*lines)).questions
    assert (question.type, question.answer, question.options) == ("tf", expected, [])
    assert question.stem.startswith("数据清洗可以发现错误。")
    assert "√" not in question.stem and "×" not in question.stem and "对" not in question.stem


@pytest.mark.parametrize("heading, points", [
    ("一、单选题", "1"), ("单项选择题", "1"), ("一、单项选择题（每题2分，共80分）", "2"),
    ("第一部分 单项选择题（每小题1.5分）", "1.5"), ("单选题：", "1")])
def test_section_headings_give_the_type_and_the_points(heading, points):
    data = paragraphs_docx("理论知识题库", heading, "1.题干一", "A.甲 B.乙", "答案：A",
                           "判断题（每题1分）", "1.陈述一。（×）")
    single, tf = word(data).questions
    assert (single.type, str(single.points)) == ("single", points)
    assert (tf.type, tf.answer, str(tf.points)) == ("tf", "F", "1")


def test_category_headings_and_soft_line_breaks():
    data = paragraphs_docx(
        "一、单选题", "（一）数据标注",
        "1．标注规范有歧义时应当（  ）\nA．按自己理解\nB．反馈澄清\n答案：B\n解析：及时反馈。",
        "（二）模型训练", "2．下列属于监督学习的是\n（　Ａ　）\nA．图像分类\tB．聚类")
    first, second = word(data).questions
    assert (first.category, first.answer, first.explanation) == ("数据标注", "B", "及时反馈。")
    assert first.stem == "标注规范有歧义时应当（  ）"
    assert (second.category, second.answer) == ("模型训练", "A")
    assert second.stem == "下列属于监督学习的是\n（  ）"


def test_a_stem_over_several_paragraphs_with_its_own_numbered_items():
    data = paragraphs_docx("一、单选题", "1．关于标注质量，下列说法正确的是（  ）",
                           "（1）标注需要一致", "（2）质检可以抽样", "A．（1）\tB．（2）",
                           "C．（1）（2）\tD．都不对", "答案：C")
    (question,) = word(data).questions
    assert question.stem == ("关于标注质量，下列说法正确的是（  ）\n"
                             "（1）标注需要一致\n（2）质检可以抽样")
    assert question.answer == "C" and question.options[2]["text"] == "（1）（2）"


def test_word_automatic_numbering_is_counted_as_word_shows_it():
    """Sections 一、二、 stems 1. 2. and options A. B. all from one multilevel list: no number is
    in the text. Stems restart under each section, options under each stem."""
    document = new_document()
    num = add_list(document, ["chineseCounting", "decimal", "upperLetter"])
    document.add_paragraph("理论知识题库")
    numbered(document, "单项选择题", num, 0)                    # p2  一、
    numbered(document, "下列属于监督学习的是（  ）", num, 1)      # p3  1.
    numbered(document, "聚类", num, 2)                          # p4  A.
    numbered(document, "图像分类", num, 2)                      # p5  B.
    document.add_paragraph("答案：B")                           # p6
    numbered(document, "没有答案的一题（  ）", num, 1)            # p7  2.
    numbered(document, "甲", num, 2)                            # p8  A. (restarts)
    numbered(document, "乙", num, 2)                            # p9  B.
    numbered(document, "判断题", num, 0)                        # p10 二、
    numbered(document, "数据清洗可以发现错误。（√）", num, 1)      # p11 1. (restarts)
    numbered(document, "另一个陈述。（  ）", num, 1)              # p12 2.
    assert problems_of(to_bytes(document)) == [
        "paragraph 7 (question 2): the answer is missing",
        "paragraph 12 (question 2): the answer is missing"]


def test_automatic_numbering_imports_the_options_by_their_letters():
    document = new_document()
    num = add_list(document, ["decimal", "upperLetter"], ["%1.", "%2."])
    document.add_paragraph("一、单选题")
    numbered(document, "下列属于监督学习的是（  ）", num, 0)
    for text in ("聚类", "图像分类", "降维"):
        numbered(document, text, num, 1)
    document.add_paragraph("答案：B")
    document.add_paragraph("二、判断题")
    for text in ("陈述一。（√）", "陈述二。（×）"):
        document.add_paragraph(text, style="List Number")  # numbered through its style
    single, tf1, tf2 = word(to_bytes(document)).questions
    assert [(o["key"], o["text"]) for o in single.options] == [("A", "聚类"), ("B", "图像分类"),
                                                               ("C", "降维")]
    assert single.answer == "B" and (tf1.answer, tf2.answer) == ("T", "F")


def test_options_in_a_layout_table_and_a_table_nested_in_a_table():
    document = new_document()
    document.add_paragraph("一、单选题")
    document.add_paragraph("1．下列属于监督学习的是（  ）")
    table(document, [["A．聚类", "B．图像分类"], ["C．降维", "D．关联规则"]])
    document.add_paragraph("答案：B")
    document.add_paragraph("2．下列属于无监督学习的是（  ）")
    outer = table(document, [[""]])
    table(outer.cell(0, 0), [["A．聚类", "B．分类"]])
    document.add_paragraph("答案：A")
    first, second = word(to_bytes(document)).questions
    assert [o["text"] for o in first.options] == ["聚类", "图像分类", "降维", "关联规则"]
    assert [o["text"] for o in second.options] == ["聚类", "分类"] and second.answer == "A"


def test_a_damaged_bank_lists_every_problem_by_paragraph_and_imports_nothing(session):
    data = paragraphs_docx(
        "某赛项理论题库",                      # 1
        "一、单项选择题（每题2分）",              # 2
        "1．下列属于监督学习的是（  ）",          # 3
        "A．聚类  B．图像分类  C．降维",          # 4
        "答案：B",                            # 5
        "2．没有答案的题（  ）",                 # 6
        "A．甲  B．乙",                        # 7
        "",                                  # (empty: not counted)
        "3．答案不在选项里（  ）",                # 8
        "A．甲  B．乙",                        # 9
        "答案：D",                            # 10
        "3．题号重复（  ）",                     # 11
        "A．甲  B．乙",                        # 12
        "答案：A",                            # 13
        "5．选项顺序错（  ）",                   # 14
        "A．甲  C．丙  B．乙",                  # 15
        "答案：A",                            # 16
        "这一段不属于任何题",                    # 17
        "6．括号与答案不一致（A）",               # 18
        "A．甲  B．乙",                        # 19
        "答案：B",                            # 20
        "二、多项选择题（每题2分）",              # 21
        "1．选两个（  ）",                      # 22
        "A．甲 B．乙 C．丙",                    # 23
        "答案：AB",                           # 24
        "三、判断题（每题1分）",                 # 25
        "1．看不懂的答案。",                     # 26
        "答案：也许",                          # 27
        "2．正确的陈述。（√）",                  # 28
        "四、排序题",                          # 29
        "1．把下列步骤排序。")                   # 30
    with pytest.raises(ImportErrors) as excinfo:
        import_bank(session, data, "bank.docx", actor=SOMEONE, now=NOW)
    assert [p.render() for p in excinfo.value.problems] == [
        "paragraph 6 (question 2): the answer is missing",
        "paragraph 8 (question 3): the answer D is not among the options",
        "paragraph 11 (question 3): question number 3 is used twice (also at paragraph 8)",
        "paragraph 15 (question 5): the options are out of order: A, C, B (expected A, B, C …)",
        "paragraph 17: this text is not an option, an answer or a 解析 of question 5 (is a "
        "question's number missing?): 这一段不属于任何题",
        "paragraph 18 (question 6): the stem's brackets say A but the answer line says B",
        "paragraph 21: 多项选择题 cannot be asked in this exam (only single choice and "
        "true/false); remove this section (1 questions)",
        "paragraph 26 (question 1): the true/false answer 也许 is not readable (use 对 or 错)",
        "paragraph 29: unknown question type 排序题 in this heading (use 单选题 or 判断题); its "
        "questions were not read (1)"]
    assert session.query(Question).count() == 0
    assert session.query(AuditEvent).filter_by(action="bank.imported").count() == 0


def test_a_good_word_bank_is_imported_and_audited(session):
    data = paragraphs_docx("一、单选题", "1．题干（  ）", "A．甲 B．乙", "答案：A", "二、判断题",
                           "1．陈述。（√）")
    result = import_bank(session, data, "题库.docx", actor=SOMEONE, now=NOW)
    assert len(result.questions) == 2 and session.query(Question).count() == 2
    event = session.query(AuditEvent).filter_by(action="bank.imported").one()
    assert event.subject == "题库.docx" and json.loads(event.details)["single"] == 1


def test_duplicate_stems_are_warnings_named_by_paragraph():
    data = paragraphs_docx("二、判断题", "1．同一题。（√）", "2．另一题。（×）", "3．同一题。（×）")
    result = word(data)
    assert [w.render() for w in result.warnings] == [
        "paragraph 4 (question 3): the same stem as paragraph 2"]


def test_a_stray_option_or_answer_before_any_question_is_listed():
    data = paragraphs_docx("一、单选题", "A．甲 B．乙", "答案：A", "1．题干", "A．甲 B．乙",
                           "答案：A", "A．多出来的选项")
    assert problems_of(data) == [
        "paragraph 2: an option with no numbered question before it",
        "paragraph 3: an answer with no numbered question before it",
        "paragraph 7: an option after the answer"]


# ----------------------------------------------------------------------------- tables


TABLE = [["题号", "题型", "题干", "选项A", "选项B", "选项C", "答案", "分值", "分类", "解析"],
         ["1", "单选", "下列属于监督学习的是", "聚类", "图像分类", "降维", "B", "2", "模型训练",
          "要有标签"],
         ["2", "判断", "数据清洗可以发现错误。", "", "", "", "对", "1", "数据", ""]]


def test_a_table_with_the_template_header():
    document = new_document()
    document.add_paragraph("理论知识题库")
    table(document, [["说明"], ["这个表不是题库"]])  # a table of another header: not the bank
    table(document, TABLE)
    single, tf = word(to_bytes(document)).questions
    assert summary(single) == ("single", "下列属于监督学习的是", [("A", "聚类"), ("B", "图像分类"),
                                                           ("C", "降维")], "B", "2", "模型训练",
                               "要有标签")
    assert (tf.type, tf.answer) == ("tf", "T")


@pytest.mark.parametrize("header", [
    ["type", "stem", "A", "B", "answer"], ["题目类型", "题目", "选项Ａ", "选项Ｂ", "正确答案"],
    ["题型", "试题内容", "option_a", "option B", "参考答案"]])
def test_table_headers_vary_as_the_xlsx_headers_do(header):
    data = to_bytes(_one_table([header, ["单选题", "题干", "甲", "乙", "b"]]))
    (question,) = word(data).questions
    assert (question.stem, question.answer) == ("题干", "B")


def _one_table(rows):
    document = new_document()
    table(document, rows)
    return document


def test_a_table_without_a_type_column_takes_the_heading_above_it():
    document = new_document()
    document.add_paragraph("一、单项选择题（每题2分）")
    table(document, [["题号", "题干", "选项A", "选项B", "答案"], ["1", "题干一", "甲", "乙", "A"]])
    document.add_paragraph("二、判断题（每题1分）")
    table(document, [["题号", "题干", "答案"], ["1", "陈述。", "×"], ["2", "陈述二。", "也许"]])
    assert problems_of(to_bytes(document)) == [
        "table 2, row 3: the true/false answer 也许 is not readable (use 对 or 错)"]


def test_table_rows_are_named_and_a_merged_type_cell_counts_for_every_row():
    document = new_document()
    made = table(document, [["题型", "题干", "选项A", "选项B", "答案"],
                            ["", "题干一", "甲", "乙", "A"], ["", "题干二", "甲", "乙", "D"],
                            ["", "", "甲", "乙", "A"]])
    merged = made.cell(1, 0).merge(made.cell(3, 0))  # 题型 merged down three rows, as Word does
    merged.text = "单选"
    assert problems_of(to_bytes(document)) == [
        "table row 3: the answer D is not among the options",
        "table row 4: the stem is empty"]


# ----------------------------------------------------------------------------- files


def test_files_that_are_no_word_bank():
    assert problems_of(b"\xd0\xcf\x11\xe0 old", "题库.doc") == [
        "An old Word file (.doc or .wps) cannot be read: save it as a Word document (.docx) "
        "first."]
    assert problems_of(b"PK\x03\x04 broken", "bank.docx") == [
        "The file is not a readable Word .docx document."]
    assert problems_of(paragraphs_docx("理论知识题库", "没有题目")) == [
        "The file holds no questions."]


def test_a_word_bank_is_known_by_its_content_whatever_its_name():
    data = paragraphs_docx("二、判断题", "1．陈述。（√）")
    (question,) = word(data, "bank.xlsx").questions
    assert question.answer == "T"


# ----------------------------------------------------------------------------- round trip

TEXT = st.text(alphabet="的数据模型训练标注人工智能算法是在中和与样本质量，。？；％0123456789xyz ",
               min_size=1, max_size=24).map(str.strip).filter(bool).map(lambda t: "样" + t)
QUESTION = st.one_of(
    st.tuples(st.just("single"), TEXT, st.lists(TEXT, min_size=2, max_size=8),
              st.integers(0, 7), st.one_of(st.just(""), TEXT)),
    st.tuples(st.just("tf"), TEXT, st.just([]), st.integers(0, 1), st.one_of(st.just(""), TEXT)))
SHAPE = st.fixed_dictionaries({
    "number": st.sampled_from(["{n}.", "{n}、", "{n}．", "（{n}）", "auto"]),
    "marker": st.sampled_from(["{k}.", "{k}、", "{k}．", "{wide}．"]),
    "layout": st.sampled_from(["lines", "spaces", "tabs", "soft breaks"]),
    "answer": st.sampled_from(["答案：{a}", "【答案】{a}", "正确答案：{a}", "bracket"]),
})


def _write(questions, shape) -> tuple[bytes, list[tuple]]:
    document = new_document()
    num = add_list(document, ["decimal"], ["%1."]) if shape["number"] == "auto" else None
    expected = []
    for title, kind in (("一、单项选择题（每题2分）", "single"), ("二、判断题（每题1分）", "tf")):
        document.add_paragraph(title)
        section = [q for q in questions if q[0] == kind]
        for n, (qtype, stem, options, answer_index, explanation) in enumerate(section, start=1):
            if qtype == "single":
                answer = "ABCDEFGH"[answer_index % len(options)]
            else:
                answer = "TF"[answer_index]
            shown = answer if qtype == "single" else {"T": "√", "F": "×"}[answer]
            text = stem + (f"（{shown}）" if shape["answer"] == "bracket" else "")
            markers = [shape["marker"].format(k=k, wide=chr(ord(k) + 0xFEE0))
                       for k in "ABCDEFGH"[:len(options)]]
            labelled = [m + o for m, o in zip(markers, options, strict=True)]
            lines = []
            if shape["layout"] == "lines":
                lines = labelled
            elif labelled:
                separator = "  " if shape["layout"] == "spaces" else "\t"
                lines = [separator.join(labelled)]
            if shape["answer"] != "bracket":
                lines.append(shape["answer"].format(a=shown))
            if explanation:
                lines.append("解析：" + explanation)
            if shape["layout"] == "soft breaks":
                text, lines = "\n".join([text, *lines]), []
            if num:
                numbered(document, text, num)
            else:
                document.add_paragraph(shape["number"].format(n=n) + text)
            for line in lines:
                document.add_paragraph(line)
            stored = stem + ("（  ）" if shape["answer"] == "bracket" else "")
            expected.append((qtype, stored, [(k, o) for k, o in zip("ABCDEFGH", options,
                                                                     strict=False)],
                             answer, "2" if qtype == "single" else "1", "", explanation))
    return to_bytes(document), expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(QUESTION, min_size=1, max_size=6), SHAPE)
def test_a_bank_written_to_word_reads_back_as_the_same_questions(questions, shape):
    data, expected = _write(questions, shape)
    result = word(data)
    assert [summary(q) for q in result.questions] == expected


def test_a_picture_or_an_equation_in_a_question_is_listed_not_dropped():
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = new_document()
    document.add_paragraph("一、单选题")
    document.add_paragraph("1．如图所示，下列说法正确的是（  ）").add_run()._r.append(
        parse_xml(f"<w:drawing {nsdecls('w')}/>"))
    document.add_paragraph("A．甲 B．乙")
    document.add_paragraph("答案：A")
    formula = document.add_paragraph("2．计算")
    formula._p.append(parse_xml('<m:oMath xmlns:m="http://schemas.openxmlformats.org/'
                                'officeDocument/2006/math"><m:r><m:t>x+1</m:t></m:r></m:oMath>'))
    document.add_paragraph("A．1 B．2")
    document.add_paragraph("答案：A")
    picture = ("a picture or an equation that the workstation cannot show: write it as text or "
               "remove the question")
    assert problems_of(to_bytes(document)) == [f"paragraph 2 (question 1): {picture}",
                                               f"paragraph 5 (question 2): {picture}"]


# ----------------------------------------------------------------------------- the command line


def _kiosk(path, *args):
    from click.testing import CliRunner

    from kiosk.cli import main

    return CliRunner().invoke(main, ["--instance", str(path), *map(str, args)])


def test_the_command_line_imports_a_word_bank_or_lists_its_problems(kiosk_instance, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("KIOSK_LANG", "en")
    damaged = tmp_path / "坏题库.docx"
    damaged.write_bytes(paragraphs_docx("一、单选题", "1．题干（  ）", "A．甲 B．乙", "答案：C",
                                        "二、多选题", "1．选两个", "A．甲 B．乙", "答案：AB"))
    refused = _kiosk(kiosk_instance.path, "questions", "import", damaged, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.output)["problems"] == [
        "paragraph 2 (question 1): the answer C is not among the options",
        "paragraph 5: 多选题 cannot be asked in this exam (only single choice and true/false); "
        "remove this section (1 questions)"]
    plain = _kiosk(kiosk_instance.path, "questions", "import", damaged)
    assert "kiosk: paragraph 2 (question 1)" in plain.output
    assert _count(kiosk_instance) == 0
    imported = _kiosk(kiosk_instance.path, "questions", "import",
                      SEED / "question_bank_sample.docx", "--json")
    assert json.loads(imported.output) == {"imported": 187, "warnings": []}
    assert _count(kiosk_instance, Question.type == "tf") == 61
    assert _count(kiosk_instance, Question.explanation != "") > 100


def _count(kiosk_instance, *where) -> int:
    instance = kiosk_instance.open()
    try:
        with instance.session() as session:
            return session.query(Question).filter(*where).count()
    finally:
        instance.engine.dispose()


def test_tracked_changes_hyperlinks_and_content_controls_read_as_word_shows_them():
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = new_document()
    document.add_paragraph("一、单选题")
    stem = document.add_paragraph("1．下列属于")
    stem._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>'
                             f'无</w:delText></w:r></w:del>'))
    stem._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:t>监督'
                             f'</w:t></w:r></w:ins>'))
    stem._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>学习</w:t></w:r>'
                             f'</w:hyperlink>'))
    stem.add_run("的是（  ）")
    control = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>A．聚类 B．图像分类'
                        f'</w:t></w:r></w:p><w:p><w:r><w:t>答案：B</w:t></w:r></w:p>'
                        f'</w:sdtContent></w:sdt>')
    document.element.body.insert(len(document.element.body) - 1, control)  # before sectPr
    (question,) = word(to_bytes(document)).questions
    assert question.stem == "下列属于监督学习的是（  ）"
    assert [o["text"] for o in question.options] == ["聚类", "图像分类"] and question.answer == "B"


def test_heading_rows_and_repeated_header_rows_inside_a_bank_table():
    document = new_document()
    header = ["题号", "题干", "选项A", "选项B", "答案"]
    made = table(document, [header, ["一、单项选择题（每题2分）"], ["1", "题干一", "甲", "乙", "B"],
                            header, ["二、判断题（每题1分）"], ["1", "陈述。", "", "", "√"],
                            ["2", "陈述二。", "", "", "也许"]])
    for row in (1, 4):  # a heading row is one cell across the table, as Word merges it
        made.cell(row, 0).merge(made.cell(row, 4))
    with pytest.raises(ImportErrors) as excinfo:
        word(to_bytes(document))
    assert [p.render() for p in excinfo.value.problems] == [
        "table row 7: the true/false answer 也许 is not readable (use 对 or 错)"]
    made.cell(6, 4).text = "×"
    single, tf, tf2 = word(to_bytes(document)).questions
    assert (single.type, str(single.points), single.answer) == ("single", "2", "B")
    assert (tf.type, tf.answer, tf2.answer, str(tf.points)) == ("tf", "T", "F", "1")


def test_a_list_drawn_from_a_list_style_numbers_as_the_style_defines():
    """Word's built-in multilevel lists: the list's abstractNum only links to a list style
    (numStyleLink); the levels (here: 1. then A.) are defined where styleLink names it."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    document = new_document()
    numbering = document.part.numbering_part.element
    definition = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="80"><w:styleLink w:val="BankList"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/></w:lvl>'
        '</w:abstractNum>')
    linked = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="81">'
                       '<w:numStyleLink w:val="BankList"/></w:abstractNum>')
    first_num = numbering.find(qn("w:num"))
    first_num.addprevious(definition)
    first_num.addprevious(linked)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="81"><w:abstractNumId '
                               'w:val="81"/></w:num>'))
    document.add_paragraph("一、单选题")
    numbered(document, "下列属于监督学习的是（  ）", "81", 0)
    numbered(document, "聚类", "81", 1)
    numbered(document, "图像分类", "81", 1)
    document.add_paragraph("答案：B")
    (question,) = word(to_bytes(document)).questions
    assert [(o["key"], o["text"]) for o in question.options] == [("A", "聚类"), ("B", "图像分类")]


def test_brackets_and_answer_line_agree_in_other_words_and_a_bare_explanation_heading():
    def bank(last_answer):
        return paragraphs_docx("二、判断题", "1．数据清洗可以发现错误。（ √ ）", "答案：正确",
                               "【解析】", "清洗包括去重和纠错。", "2．陈述二。（×）", last_answer)

    assert problems_of(bank("正确答案：对")) == [
        "paragraph 6 (question 2): the stem's brackets say × but the answer line says 对"]
    first, second = word(bank("正确答案：错")).questions
    assert (first.answer, first.explanation) == ("T", "清洗包括去重和纠错。")
    assert second.answer == "F"


def test_the_bank_page_takes_a_word_bank(app, client):
    import io

    from tests.factories import csrf_from, login, make_user

    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss")
    login(client, "boss")
    page = client.get("/bank").text
    assert 'accept=".xlsx,.csv,.json,.docx"' in page
    damaged = paragraphs_docx("一、单选题", "1．题干（  ）", "A．甲 B．乙")
    refused = client.post("/bank", data={"csrf_token": csrf_from(page),
                                         "file": (io.BytesIO(damaged), "题库.docx")},
                          content_type="multipart/form-data")
    assert "paragraph 2 (question 1)" in refused.text or "第 2 段（第 1 题）" in refused.text
    with app.extensions["kiosk"].session() as session:
        assert session.query(Question).count() == 0
    sample = (SEED / "question_bank_sample.docx").read_bytes()
    client.post("/bank", data={"csrf_token": csrf_from(page),
                               "file": (io.BytesIO(sample), "question_bank_sample.docx")},
                content_type="multipart/form-data")
    with app.extensions["kiosk"].session() as session:
        assert session.query(Question).count() == 187
