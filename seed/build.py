"""Builds the demo files in seed/ from seed/src/. Run after editing the sources:

    python seed/build.py

Deterministic: the same sources give the same files, so the committed files can be checked.
Everything here is made up: the names are random combinations, the ID numbers are synthetic
(valid check digits, sequence codes drawn at random) and belong to nobody known.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BANK_HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "分类", "解析"]
ROSTER_HEADER = ["姓名", "身份证号", "单位", "组别"]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
            "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉"
         "玲鹏晨宇浩然欣怡子涵思远佳琪一鸣俊杰雨萱梓轩")
ORGANIZATIONS_WORKER = ["武汉数智科技有限公司", "荆楚云数据服务中心", "江城智能制造有限公司",
                        "汉江信息技术有限公司", "楚天人工智能研究院"]
ORGANIZATIONS_STUDENT = ["湖北信息职业技术学院", "武汉软件工程职业学院", "长江职业技术学院",
                         "荆州理工职业学院", "襄阳科技职业学院"]
REGIONS = ["420102", "420103", "420106", "420111", "420502", "420602", "421002", "420902"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def bank_rows() -> list[list[str]]:
    rng = random.Random(20261122)
    rows = []
    for line in (HERE / "src" / "bank_single.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        category, stem, a, b, c, d, answer, explanation = line.split("|")
        options = [a, b, c, d]
        correct = options["ABCD".index(answer)]
        rng.shuffle(options)  # the key should not sit on one letter
        rows.append(["单选", stem, *options, "ABCD"[options.index(correct)], "", category,
                     explanation])
    for line in (HERE / "src" / "bank_tf.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        category, stem, answer, explanation = line.split("|")
        rows.append(["判断", stem, "", "", "", "", answer, "", category, explanation])
    return rows


def roster_rows(count: int = 60) -> list[list[str]]:
    rng = random.Random(60)
    rows, used_names, used_ids = [], set(), set()
    while len(rows) < count:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name in used_names:
            continue
        student = len(rows) % 3 == 2  # one in three in the student group
        year = rng.randint(2003, 2007) if student else rng.randint(1975, 2000)
        birth = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        first17 = rng.choice(REGIONS) + birth + f"{rng.randint(0, 999):03d}"
        id_number = first17 + check_char(first17)
        if id_number in used_ids:
            continue
        used_names.add(name)
        used_ids.add(id_number)
        organization = rng.choice(ORGANIZATIONS_STUDENT if student else ORGANIZATIONS_WORKER)
        rows.append([name, id_number, organization, "学生组" if student else "职工组"])
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    # UTF-8 with BOM: Excel on Windows opens it as Unicode, not as GBK.
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def write_template(path: Path, header: list[str], examples: list[list[str]],
                   text_columns: tuple[int, ...] = ()) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
    for row in examples:
        sheet.append(row)
    for index, _ in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 40 if header[index - 1] in ("题干", "解析") else 16
        if index - 1 in text_columns:
            # Text format, so Excel keeps all 18 characters of an ID number.
            for r in range(2, 502):
                sheet.cell(row=r, column=index).number_format = "@"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.properties.creator = "kiosk"
    workbook.save(path)


EVENT_TITLE = "2026年职业技能大赛·人工智能训练师赛项（演示）"
CN_NUMBERS = "一二三四五六七八九十"


def _grouped(rows: list[list[str]]) -> list[tuple[str, list[list[str]]]]:
    groups: dict[str, list[list[str]]] = {}
    for row in rows:
        groups.setdefault(row[8], []).append(row)
    return list(groups.items())


def _word_document():
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    return document


def _title(document, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True


def _save_docx(document, path: Path) -> None:
    """Saved with fixed zip timestamps, so the same sources give the same bytes."""
    buffer = io.BytesIO()
    document.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    path.write_bytes(out.getvalue())


def write_word_bank(path: Path, rows: list[list[str]]) -> None:
    """The bank as organisers type it in Word: 一、单项选择题 / 二、判断题 sections, a category
    heading (（一）…) above its questions, stems numbered 1．, the options two to a line when
    they are short, 答案： and 解析： lines; true/false answers in the stem's brackets (√)/(×)."""
    document = _word_document()
    _title(document, EVENT_TITLE)
    _title(document, "理论知识题库")
    document.add_paragraph("说明：本题库含单项选择题和判断题，每题1分；题后为答案与解析（仅供裁判使用）。")
    sections = (("一、单项选择题（每题1分）", [r for r in rows if r[0] == "单选"]),
                ("二、判断题（每题1分）", [r for r in rows if r[0] == "判断"]))
    for heading, section_rows in sections:
        document.add_paragraph().add_run(heading).bold = True
        number = 0
        for index, (category, items) in enumerate(_grouped(section_rows)):
            document.add_paragraph(f"（{CN_NUMBERS[index]}）{category}")
            for row in items:
                number += 1
                stem, options, answer, explanation = row[1], row[2:6], row[6], row[9]
                if row[0] == "判断":
                    mark = "√" if answer == "对" else "×"
                    document.add_paragraph(f"{number}．{stem}（{mark}）")
                else:
                    document.add_paragraph(f"{number}．{stem}（  ）")
                    labelled = [f"{k}．{text}" for k, text in zip("ABCD", options, strict=True)]
                    if max(len(text) for text in options) <= 12:
                        document.add_paragraph("\t".join(labelled[:2]))
                        document.add_paragraph("\t".join(labelled[2:]))
                    else:
                        for text in labelled:
                            document.add_paragraph(text)
                    document.add_paragraph(f"答案：{answer}")
                if explanation:
                    document.add_paragraph(f"解析：{explanation}")
    _save_docx(document, path)


def write_word_table_bank(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """The same bank as one Word table whose header row is the template's."""
    document = _word_document()
    _title(document, EVENT_TITLE + " 理论知识题库")
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, header, strict=True):
        cell.text = name
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value
    _save_docx(document, path)


def main() -> None:
    bank = bank_rows()
    write_csv(HERE / "question_bank.csv", BANK_HEADER, bank)
    roster = roster_rows()
    write_csv(HERE / "roster.csv", ROSTER_HEADER, roster)
    write_template(HERE / "question_bank_template.xlsx", BANK_HEADER, [
        ["单选", "下列哪项属于监督学习任务？", "聚类", "图像分类", "降维", "关联规则", "B", "1",
         "模型训练", "图像分类需要带标签的数据。"],
        ["判断", "数据清洗可以发现并纠正数据中的错误。", "", "", "", "", "对", "1",
         "数据采集与处理", ""],
    ])
    write_template(HERE / "roster_template.xlsx", ROSTER_HEADER, [
        ["张三", "请填写18位身份证号", "某某单位", "职工组"],
    ], text_columns=(1,))
    write_word_bank(HERE / "question_bank_sample.docx", bank)
    write_word_table_bank(HERE / "question_bank_table_sample.docx", BANK_HEADER, bank)
    single = sum(row[0] == "单选" for row in bank)
    print(f"question_bank.csv: {len(bank)} questions ({single} single, {len(bank) - single} tf)")
    print(f"roster.csv: {len(roster)} contestants")
    (HERE / "event.json").write_text(json.dumps({
        "event_name": "2026年职业技能大赛·人工智能训练师赛项（演示）",
        "stations": {"count": 60, "prefix": "A"},
        "paper": {"single": 40, "single_points": "2", "tf": 20, "tf_points": "1",
                  "minutes": 20},
        "staff": [["chief", "chief"], ["checkin", "checkin"], ["crypt1", "crypt1"],
                  ["crypt2", "crypt2"], ["field", "field"], ["scorer1", "scorer"],
                  ["scorer2", "scorer"], ["supervisor", "supervisor"]],
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
