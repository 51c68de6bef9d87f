"""Word (.docx) question banks, read into the same records as a row of the bank template.

Two shapes, the ones organisers keep their banks in:

- **a table** whose first row is the template's header (题型, 题干, 选项A…, 答案 …; matched by
  `tabular.header_columns`, the xlsx import's own matching). Without a 题型 column the type comes
  from the heading above the table (`一、单选题`). A problem is named by its table row (header =
  row 1, as the xlsx import names lines).
- **numbered paragraphs**: section headings that give the type (`一、单选题`,
  `二、判断题（每题1分）`), optional category headings (`（一）数据标注`), stems numbered `1.`
  `1、` `1．` `（1）` or by Word's automatic numbering, options `A.` `A、` `A．` on one line or
  several, the answer as a line (`答案：B`, `【答案】B`, `正确答案：对`) or in the stem's brackets
  (`（B）`, `（√）`), an optional `解析：` line. A problem is named by its paragraph number.

**Paragraph numbers** count the paragraphs that hold text, from the top of the document, table
cells included, empty paragraphs not: the number Word's 字数统计 shows as 段落数 for a selection
from the start of the document to that paragraph. A soft line break (Shift+Enter) does not start
a paragraph. Automatic numbers are not in the text; they are counted here as Word counts them
(per list, levels restarting under their parent level), so a problem also names the question by
the number the organiser sees.

This module only reads the document; `question_bank.read_bank` checks each record with
`parse_question`, as for every other file.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kiosk import tabular
from kiosk.errors import N_, ImportErrors, Problem

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
# What a workstation cannot show: a picture, a drawing, an embedded object, an equation.
OBJECTS = (W + "drawing", W + "pict", W + "object", M + "oMath", M + "oMathPara")
OPTION_KEYS = "ABCDEFGH"
MAX_XML_BYTES = 64 * 1024 * 1024  # uncompressed word/*.xml: a bank of 20000 questions fits
WORD_SUFFIXES = (".docx", ".docm", ".dotx")
OLD_WORD_SUFFIXES = (".doc", ".wps", ".dot")
# Symbol-font check marks (w:sym) as the characters they show.
SYMBOLS = {("wingdings", "f0fc"): "√", ("wingdings", "f0fb"): "×",
           ("wingdings 2", "f050"): "√", ("wingdings 2", "f04f"): "×",
           ("wingdings 2", "f052"): "√", ("wingdings 2", "f054"): "×"}
NUMBER_FORMATS = {"decimal", "decimalZero", "decimalFullWidth", "decimalFullWidth2",
                  "decimalHalfWidth", "decimalEnclosedCircle", "decimalEnclosedParen",
                  "decimalEnclosedFullstop", "decimalEnclosedCircleChinese"}
LETTER_FORMATS = {"upperLetter", "lowerLetter"}
SECTION_FORMATS = {"chineseCounting", "chineseCountingThousand", "chineseLegalSimplified",
                   "ideographTraditional", "ideographDigital", "japaneseCounting",
                   "taiwaneseCounting", "taiwaneseCountingThousand", "upperRoman"}

CN_NUMERAL = "一二三四五六七八九十百零〇"
SECTION_PREFIX = re.compile(rf"^(?:第\s*[{CN_NUMERAL}\d]+\s*(?:部分|大题|节)?\s*[、.:]?"
                            rf"|[{CN_NUMERAL}]+\s*[、.:]|[IVX]+\s*[、.])\s*")
BRACKET_PREFIX = re.compile(rf"^\(\s*[{CN_NUMERAL}]+\s*\)\s*")
TYPE_WORD = re.compile(r"^([^\s()（）:,，。、]{1,12}?题)(?=$|[\s(:,，。])")
# A heading of a type this exam cannot ask, or does not know, still names a kind of question.
QUESTION_KIND = re.compile(r"(?:选择|单选|多选|判断|填空|简答|问答|论述|分析|计算|操作|综合|改错|"
                           r"设计|实操|案例|排序|连线)题$")
POINTS = re.compile(r"每\s*(?:小)?\s*题\s*(\d{1,3}(?:\.\d{1,2})?)\s*分")
CATEGORY = re.compile(rf"^\(\s*[{CN_NUMERAL}]+\s*\)\s*(\S.*)$")
STEM_NUMBER = re.compile(r"^(?:(\d{1,5})\s*(?:[、:]|\.(?!\d))|\(\s*(\d{1,5})\s*\)"
                         r"|第\s*(\d{1,5})\s*题\s*[、.:]?)\s*")
OPTION = re.compile(r"^\(?\s*([A-H])\s*[).、:]\s*")
ANSWER = re.compile(r"^[【\[]?\s*(?:正确答案|参考答案|标准答案|答案)\s*"
                    r"(?:[】\]]\s*[:]?|[:]|\s+)\s*")
EXPLANATION = re.compile(r"^[【\[]?\s*(?:答案解析|试题解析|解析)\s*"
                         r"(?:[】\]]\s*[:]?|[:]|\s+|$)\s*")
# Where an answer or a 解析 starts inside a longer line ("D．关联规则  答案：B").
INLINE_MARK = re.compile(r"\s(?=(?:【答案】|【解析】|(?:正确答案|参考答案|答案|解析)\s*:))")
BRACKET_ANSWER = re.compile(r"\(\s*([A-HT√×✓✗✔✘]|对|错|正确|错误)\s*\)")


PICTURE = N_("a picture or an equation that the workstation cannot show: write it as text or "
             "remove the question")


def fold(text: str) -> str:
    """Each character as NFKC folds it when that stays one character (Ａ→A, ．→., （→(, the
    ideographic space → space): a copy for matching whose positions are the original's."""
    return "".join(f if len(f := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)


@dataclass(frozen=True)
class Place:
    """Where a problem is: a paragraph (with the question's number when known) or a table row."""

    kind: str  # "paragraph" or "row"
    number: int
    table: int = 0  # which bank table, when the document has more than one
    question: str = ""

    def render(self, translate: Callable[[str], str]) -> str:
        if self.kind == "row":
            if self.table:
                return translate(N_("table %(t)s, row %(n)s")) % {"t": self.table,
                                                                   "n": self.number}
            return translate(N_("table row %(n)s")) % {"n": self.number}
        if self.question:
            return translate(N_("paragraph %(n)s (question %(q)s)")) % {"n": self.number,
                                                                       "q": self.question}
        return translate(N_("paragraph %(n)s")) % {"n": self.number}

    def problem(self, message: str, params: dict | None = None) -> WordProblem:
        return WordProblem(self.number, message, params or {}, self)

    def relocate(self, problem: Problem) -> Problem:
        return problem if isinstance(problem, WordProblem) else \
            WordProblem(self.number, problem.message, problem.params, self)

    def same_stem(self, first: Place) -> WordProblem:
        if first.kind == "row":
            return self.problem(N_("the same stem as table row %(first)s"),
                                {"first": first.number})
        return self.problem(N_("the same stem as paragraph %(first)s"), {"first": first.number})


@dataclass(frozen=True)
class WordProblem(Problem):
    """A problem of a Word bank: `paragraph 12 (question 3): …` instead of `line 12: …`."""

    place: Place | None = None

    def render(self, translate: Callable[[str], str] = lambda text: text) -> str:
        text = Problem(None, self.message, self.params).render(translate)
        if self.place is None:
            return text
        return translate(N_("%(where)s: %(problem)s")) % {"where": self.place.render(translate),
                                                          "problem": text}


@dataclass
class WordBank:
    records: list[tuple[Place, dict[str, str]]]
    problems: list[Problem]


# ----------------------------------------------------------------------------- the document


@dataclass
class _Para:
    number: int  # 0 for a paragraph without text (not counted)
    text: str
    auto: tuple[str, int] | None = None  # ("number" | "letter" | "section", value)
    objects: bool = False  # holds a picture or an equation


@dataclass
class _Table:
    rows: list[list[list[_Para | _Table]]]  # rows → cells → the cell's paragraphs and tables

    def paragraphs(self) -> Iterator[_Para]:
        for row in self.rows:
            for cell in row:
                yield from _flatten(cell)


def _flatten(items: list[_Para | _Table]) -> Iterator[_Para]:
    for item in items:
        if isinstance(item, _Table):
            yield from item.paragraphs()
        else:
            yield item


def _cell_text(cell: list[_Para | _Table]) -> str:
    return "\n".join(p.text for p in _flatten(cell) if p.text.strip())


def _cell_objects(cell: list[_Para | _Table]) -> bool:
    return any(p.objects for p in _flatten(cell))


class _Numbering:
    """Word's automatic numbers: what number (or letter) each numbered paragraph shows."""

    def __init__(self, numbering, styles) -> None:
        self.levels: dict[str, dict[int, tuple[str, int]]] = {}  # abstract → ilvl → (fmt, start)
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId → (abstract, overrides)
        self.styles: dict[str, tuple[str | None, int | None, str | None]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[tuple[str, int]] = set()
        self.alias: dict[str, str] = {}  # abstract → the abstract that defines its levels
        if numbering is not None:
            for abstract in numbering.iter(W + "abstractNum"):
                levels = {}
                for lvl in abstract.iter(W + "lvl"):
                    fmt = _val(lvl.find(W + "numFmt")) or "decimal"
                    start = _val(lvl.find(W + "start"))
                    levels[int(_val(lvl, "ilvl") or 0)] = (fmt, _int(start, 1))
                self.levels[_val(abstract, "abstractNumId") or ""] = levels
            # A list drawn from a list style (numStyleLink) has its levels where styleLink names
            # the same style: Word's built-in multilevel lists are stored so.
            defined = {_val(a.find(W + "styleLink")): _val(a, "abstractNumId")
                       for a in numbering.iter(W + "abstractNum")
                       if a.find(W + "styleLink") is not None}
            for abstract in numbering.iter(W + "abstractNum"):
                link = _val(abstract.find(W + "numStyleLink"))
                if link in defined:
                    self.alias[_val(abstract, "abstractNumId") or ""] = defined[link] or ""
            for num in numbering.iter(W + "num"):
                overrides = {}
                for override in num.iter(W + "lvlOverride"):
                    start = _val(override.find(W + "startOverride"))
                    if start is not None:
                        overrides[_int(_val(override, "ilvl"), 0)] = _int(start, 1)
                self.nums[_val(num, "numId") or ""] = (_val(num.find(W + "abstractNumId")) or "",
                                                       overrides)
        if styles is not None:
            for style in styles.iter(W + "style"):
                num_pr = style.find(f"{W}pPr/{W}numPr")
                num_id = _val(num_pr.find(W + "numId")) if num_pr is not None else None
                ilvl = _val(num_pr.find(W + "ilvl")) if num_pr is not None else None
                based = _val(style.find(W + "basedOn"))
                self.styles[_val(style, "styleId") or ""] = (
                    num_id, _int(ilvl, 0) if ilvl is not None else None, based)

    def _style_numbering(self, style_id: str | None) -> tuple[str | None, int | None]:
        seen = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            num_id, ilvl, based = self.styles.get(style_id, (None, None, None))
            if num_id is not None:
                return num_id, ilvl
            style_id = based
        return None, None

    def number(self, p) -> tuple[str, int] | None:
        ppr = p.find(W + "pPr")
        num_pr = ppr.find(W + "numPr") if ppr is not None else None
        style_id = _val(ppr.find(W + "pStyle")) if ppr is not None else None
        style_num, style_ilvl = self._style_numbering(style_id)
        num_id = _val(num_pr.find(W + "numId")) if num_pr is not None else None
        ilvl_text = _val(num_pr.find(W + "ilvl")) if num_pr is not None else None
        num_id = num_id if num_id is not None else style_num
        ilvl = _int(ilvl_text, 0) if ilvl_text is not None else (style_ilvl or 0)
        if not num_id or num_id == "0" or num_id not in self.nums:
            return None
        abstract, overrides = self.nums[num_id]
        abstract = self.alias.get(abstract, abstract)
        fmt, start = self.levels.get(abstract, {}).get(ilvl, ("decimal", 1))
        if fmt in ("bullet", "none"):
            return None
        counters = self.counters.setdefault(abstract, {})
        if ilvl in overrides and (num_id, ilvl) not in self.started:
            counters[ilvl] = overrides[ilvl]
        else:
            counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start
        self.started.add((num_id, ilvl))
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]  # a level restarts under its parent
        value = counters[ilvl]
        if fmt in LETTER_FORMATS:
            return "letter", value
        if fmt in SECTION_FORMATS:
            return "section", value
        return "number", value


def _val(element, name: str = "val") -> str | None:
    if element is None:
        return None
    return element.get(W + name)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


class _Reader:
    def __init__(self, numbering: _Numbering) -> None:
        self.numbering = numbering
        self.count = 0

    def block(self, parent) -> list[_Para | _Table]:
        items: list[_Para | _Table] = []
        for child in parent:
            if child.tag == W + "p":
                items.append(self.paragraph(child))
            elif child.tag == W + "tbl":
                items.append(self.table(child))
            elif child.tag in (W + "sdt", W + "customXml"):
                content = child.find(W + "sdtContent")
                items.extend(self.block(content if content is not None else child))
        return items

    def paragraph(self, p) -> _Para:
        auto = self.numbering.number(p)
        text, objects = _paragraph_text(p)
        number = 0
        if text.strip() or objects:
            self.count += 1
            number = self.count
        return _Para(number, text, auto, objects)

    def table(self, tbl) -> _Table:
        rows = []
        above: dict[int, list[_Para | _Table]] = {}  # grid column → the cell a merge continues
        for tr in tbl.iter(W + "tr"):
            if tr.getparent() is not tbl:
                continue
            cells: list[list[_Para | _Table]] = []
            column = 0
            for tc in tr.findall(W + "tc"):
                tc_pr = tc.find(W + "tcPr")
                span = _int(_val(tc_pr.find(W + "gridSpan")) if tc_pr is not None else None, 1)
                merge = tc_pr.find(W + "vMerge") if tc_pr is not None else None
                content = self.block(tc)
                if merge is not None and _val(merge) != "restart":
                    content = above.get(column, [])  # the merged cell's text, as Word shows it
                else:
                    above[column] = content
                cells.append(content)
                cells.extend([] for _ in range(span - 1))
                column += span
            rows.append(cells)
        return _Table(rows)


def _paragraph_text(p) -> tuple[str, bool]:
    """The text as Word shows it, and whether the paragraph holds a picture or an equation."""
    out: list[str] = []
    objects = []

    def walk(element) -> None:
        for child in element:
            tag = child.tag
            if tag == W + "t":
                out.append(child.text or "")
            elif tag == W + "tab":
                out.append("\t")
            elif tag in (W + "br", W + "cr"):
                out.append("\n")
            elif tag == W + "noBreakHyphen":
                out.append("-")
            elif tag == W + "sym":
                font = (child.get(W + "font") or "").lower()
                out.append(SYMBOLS.get((font, (child.get(W + "char") or "").lower()), ""))
            elif tag in (MC_FALLBACK, W + "moveFrom", W + "del", W + "pPr", W + "rPr"):
                continue
            elif tag in OBJECTS:
                objects.append(tag)
                if tag.startswith(M):
                    out.extend(t.text or "" for t in child.iter(M + "t"))
                else:
                    walk(child)  # a text box's text
            elif tag == W + "p":  # a text box's paragraph
                walk(child)
                out.append("\n")
            else:
                walk(child)

    walk(p)
    return "".join(out).replace("\u200b", "").replace("\ufeff", ""), bool(objects)


def is_word(data: bytes, filename: str) -> bool:
    """A .docx by its name, or by its content whatever it is called."""
    if filename.lower().endswith(WORD_SUFFIXES):
        return True
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_old_word(filename: str) -> bool:
    return filename.lower().endswith(OLD_WORD_SUFFIXES)


def _file_problem(message: str) -> ImportErrors:
    return ImportErrors([Problem(None, message)])


def _open(data: bytes):
    import docx

    unreadable = N_("The file is not a readable Word .docx document.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            size = sum(info.file_size for info in archive.infolist()
                       if info.filename.startswith("word/") and info.filename.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _file_problem(unreadable) from exc
    if "word/document.xml" not in names:
        raise _file_problem(unreadable)
    if size > MAX_XML_BYTES:
        raise _file_problem(N_("The Word document is too large to be a question bank."))
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises assorted errors on damaged packages
        raise _file_problem(unreadable) from exc


def read_word(data: bytes, columns: dict[str, tuple[str, ...]],
              classify: Callable[[str], str | None]) -> WordBank:
    """The records of a Word bank, each with its place, and the problems of its shape.
    `columns` are the template's header names; `classify` names a type word's kind ("single",
    "tf", "unaskable" or None)."""
    document = _open(data)
    part = document.part
    try:
        numbering = part.numbering_part.element
    except (KeyError, NotImplementedError):
        numbering = None
    numbering_reader = _Numbering(numbering, part.styles.element)
    items = _Reader(numbering_reader).block(document.element.body)
    tables = [item for item in items if isinstance(item, _Table) and item.rows
              and _is_bank_table(item, columns)]
    if tables:
        return _read_tables(items, tables, columns, classify)
    return _Paragraphs(classify).read(items)


def _is_bank_table(table: _Table, columns: dict[str, tuple[str, ...]]) -> bool:
    found = tabular.header_columns([_cell_text(c) for c in table.rows[0]], columns)
    return "stem" in found and "answer" in found


# ----------------------------------------------------------------------------- the table shape


def _heading(text: str, classify: Callable[[str], str | None],
             auto: tuple[str, int] | None) -> tuple[str, str] | None:
    """A section heading's type word and the rest of its text, or None if it is none."""
    folded = fold(text).strip()
    if len(folded) > 120:
        return None
    prefix = SECTION_PREFIX.match(folded) or BRACKET_PREFIX.match(folded)
    body = folded[prefix.end():] if prefix else folded
    match = TYPE_WORD.match(body)
    if not match:
        return None
    word = match.group(1)
    if classify(word) is None:
        numbered = (prefix and prefix.re is SECTION_PREFIX) or (auto and auto[0] == "section")
        if not (numbered and QUESTION_KIND.search(word)):
            return None  # "一、案例分析题" is a heading; "下列问题…", "（三）数据问题" are not
    return word, body[match.end():]


def _read_tables(items, tables: list[_Table], columns, classify) -> WordBank:
    records: list[tuple[Place, dict[str, str]]] = []
    problems: list[Problem] = []
    heading: tuple[str, str] | None = None
    index = 0
    for item in items:
        if isinstance(item, _Para):
            found = _heading(item.text, classify, item.auto) if item.text.strip() else None
            heading = found or heading
            continue
        if not any(item is table for table in tables):
            continue
        index += 1
        table_number = index if len(tables) > 1 else 0
        raw_rows = [(line, [(_cell_text(cell), "") for cell in row])
                    for line, row in enumerate(item.rows, start=1)]
        pictured = {line for line, cells in enumerate(item.rows, start=1)
                    if any(_cell_objects(cell) for cell in cells)}
        for segment_heading, body in _table_sections(raw_rows, heading, columns, classify):
            heading = segment_heading
            try:
                rows = tabular.table_rows([raw_rows[0], *body], columns,
                                          required=["stem", "answer"])
            except ImportErrors as exc:
                problems.extend(Place("row", p.line, table_number).relocate(p)
                                if p.line else p for p in exc.problems)
                break
            points = POINTS.search(heading[1]) if heading else None
            for row in rows:
                place = Place("row", row.line, table_number)
                if row.line in pictured:
                    problems.append(place.problem(PICTURE))
                record = dict(row.cells)
                if not record.get("type") and heading:
                    record["type"] = heading[0]
                if not record.get("points") and points:
                    record["points"] = points.group(1)
                records.append((place, record))
    return WordBank(records, problems)


def _table_sections(raw_rows, heading, columns, classify):
    """A bank table's rows cut where a row is a section heading (one cell across the table:
    `二、判断题`); a header row repeated inside the table (Word's "repeat as header row" copied
    by hand) is left out."""
    header = tabular.header_columns([value for value, _ in raw_rows[0][1]], columns)
    body: list = []
    for line, cells in raw_rows[1:]:
        texts = [value for value, _ in cells if value.strip()]
        found = _heading(texts[0], classify, None) if len(texts) == 1 else None
        if found:
            yield heading, body
            heading, body = found, []
        elif tabular.header_columns([value for value, _ in cells], columns) != header:
            body.append((line, cells))
    yield heading, body


# ----------------------------------------------------------------------------- the paragraphs


@dataclass
class _Section:
    place: Place | None
    word: str  # the type as the heading writes it ("单项选择题")
    kind: str | None  # "single", "tf", "unaskable", None (unknown); "" before any heading
    points: str = ""
    questions: int = 0
    numbers: dict[tuple[str, str], Place] = field(default_factory=dict)


@dataclass
class _Question:
    place: Place
    section: _Section
    category: str
    style: str  # how its number is written: "plain" (1.), "paren" (（1）), "auto" (Word's)
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str, Place]] = field(default_factory=list)
    answer: tuple[str, Place] | None = None
    explanation: list[str] = field(default_factory=list)
    state: str = "stem"  # stem → options → answer → explanation


class _Paragraphs:
    def __init__(self, classify: Callable[[str], str | None]) -> None:
        self.classify = classify
        self.records: list[tuple[Place, dict[str, str]]] = []
        self.problems: list[Problem] = []
        self.section = _Section(None, "", "")
        self.category = ""
        self.current: _Question | None = None

    def read(self, items: list[_Para | _Table]) -> WordBank:
        for para in _flatten(items):
            if para.text.strip():
                self.paragraph(para)
            if para.objects:
                self.picture(para)
        self.finish()
        self.close_section()
        return WordBank(self.records, self.problems)

    # -- one paragraph: its lines (soft breaks), each split where an answer or 解析 starts
    def paragraph(self, para: _Para) -> None:
        place = Place("paragraph", para.number)
        lines = []
        for line in para.text.split("\n"):
            lines.extend(_split_inline(line))
        lines = [line for line in lines if fold(line).strip()]
        auto = para.auto
        heading = _heading(lines[0], self.classify, auto)
        category = CATEGORY.match(fold(lines[0]).strip())
        if heading is not None:
            self.new_section(place, *heading)
        elif category and auto is None:
            self.finish()
            folded = fold(lines[0])
            start = category.start(1) + len(folded) - len(folded.lstrip())
            self.category = tabular.clean_cell(lines[0][start:])[:64]
        else:
            self.line(lines[0], place, auto, new_paragraph=True)
        for line in lines[1:]:
            self.line(line, place, None, new_paragraph=False)

    def picture(self, para: _Para) -> None:
        question = self.current
        if question is not None and question.state in ("stem", "options"):
            self.problems.append(Place("paragraph", para.number,
                                       question=question.place.question).problem(PICTURE))

    def new_section(self, place: Place, word: str, rest: str) -> None:
        self.finish()
        self.close_section()
        points = POINTS.search(rest)
        self.section = _Section(place, word, self.classify(word), points.group(1) if points
                                else "")
        self.category = ""

    def close_section(self) -> None:
        section = self.section
        if section.place is None:
            return
        if section.kind == "unaskable":
            self.problems.append(section.place.problem(
                N_("%(type)s cannot be asked in this exam (only single choice and true/false); "
                   "remove this section (%(n)s questions)"),
                {"type": section.word, "n": section.questions}))
        elif section.kind is None:
            self.problems.append(section.place.problem(
                N_("unknown question type %(type)s in this heading (use 单选题 or 判断题); "
                   "its questions were not read (%(n)s)"), {"type": section.word,
                                                      "n": section.questions}))

    def line(self, line: str, place: Place, auto: tuple[str, int] | None,
             new_paragraph: bool) -> None:
        folded = fold(line)
        stripped = folded.lstrip()
        offset = len(folded) - len(stripped)
        for pattern, handler in ((EXPLANATION, self.explanation), (ANSWER, self.answer_line)):
            match = pattern.match(stripped)
            if match:
                handler(line[offset + match.end():], place)
                return
        number = STEM_NUMBER.match(stripped)
        if auto and auto[0] == "number":
            self.start(str(auto[1]), line, place, "auto")
            return
        style = "paren" if stripped.startswith("(") else "plain"
        question = self.current
        if number and question is not None and question.state == "stem" and \
                question.style not in (style, "auto"):
            number = None  # "（1）…（2）…" inside a stem numbered "3." are the stem's own items
        if number:
            self.start(next(g for g in number.groups() if g), line[offset + number.end():],
                       place, style)
            return
        option = OPTION.match(stripped)
        if auto and auto[0] == "letter":
            letter = OPTION_KEYS[auto[1] - 1] if 0 < auto[1] <= len(OPTION_KEYS) else "?"
            self.options([(letter, line)], place)
            return
        if option and not BRACKET_ANSWER.fullmatch(stripped.rstrip()):
            self.options(_split_options(line), place)
            return
        self.text(line, place, new_paragraph)  # a lone "（B）" is the stem's answer bracket

    def start(self, number: str, text: str, place: Place, style: str) -> None:
        self.finish()
        place = Place("paragraph", place.number, question=number)
        section = self.section
        section.questions += 1
        if section.kind in ("unaskable", None):
            self.current = None  # the section is listed once, as a whole
            return
        key = (self.category, number)  # some banks number each category from 1
        if key in section.numbers:
            self.problems.append(place.problem(
                N_("question number %(q)s is used twice (also at paragraph %(first)s)"),
                {"q": number, "first": section.numbers[key].number}))
        section.numbers.setdefault(key, place)
        self.current = _Question(place, section, self.category, style, [text])

    def options(self, found: list[tuple[str, str]], place: Place) -> None:
        question = self.current
        if question is None:
            if self.section.kind not in ("unaskable", None):
                self.problems.append(place.problem(N_("an option with no numbered question "
                                                      "before it")))
            return
        if question.state not in ("stem", "options"):
            self.problems.append(place.problem(N_("an option after the answer")))
            return
        question.state = "options"
        question.options.extend((letter, text, place) for letter, text in found)

    def answer_line(self, text: str, place: Place) -> None:
        question = self.current
        if question is None:
            if self.section.kind not in ("unaskable", None):
                self.problems.append(place.problem(N_("an answer with no numbered question "
                                                      "before it")))
            return
        if question.answer is not None:
            self.problems.append(place.problem(N_("a second answer for question %(q)s"),
                                               {"q": question.place.question}))
            return
        question.answer = (tabular.clean_cell(text), place)
        question.state = "answer"

    def explanation(self, text: str, place: Place) -> None:
        question = self.current
        if question is None:
            if self.section.kind not in ("unaskable", None):
                self.problems.append(place.problem(N_("a 解析 with no numbered question "
                                                      "before it")))
            return
        question.explanation.append(text)
        question.state = "explanation"

    def text(self, line: str, place: Place, new_paragraph: bool) -> None:
        question = self.current
        if question is None:
            return  # a title, a note under a heading: not a question
        if question.state == "stem" and not (new_paragraph and _bracket(question.stem)):
            question.stem.append(line)
        elif question.state == "explanation" and (not new_paragraph or
                                                  not "".join(question.explanation).strip()):
            # A soft-broken line of the 解析, or the paragraph under a bare 【解析】.
            question.explanation.append(line)
        else:
            self.problems.append(place.problem(
                N_("this text is not an option, an answer or a 解析 of question %(q)s (is a "
                   "question's number missing?): %(text)s"),
                {"q": question.place.question, "text": tabular.clean_cell(line)}))

    # -- one whole question → a template record
    def finish(self) -> None:
        question, self.current = self.current, None
        if question is None:
            return
        place = question.place
        stem = tabular.clean_cell("\n".join(question.stem))
        answer = question.answer[0] if question.answer else ""
        bracket = _bracket([stem])
        if bracket:
            inside = fold(bracket.group(1))
            if not answer or _answer_key(answer) == _answer_key(inside):
                answer = inside
                stem = stem[:bracket.start()] + stem[bracket.start()] + "  " + \
                    stem[bracket.end() - 1] + stem[bracket.end():]
            else:
                self.problems.append(place.problem(
                    N_("the stem's brackets say %(bracket)s but the answer line says "
                       "%(answer)s"), {"bracket": inside, "answer": answer}))
        folded_answer = fold(answer).strip().rstrip("。.;；,，")
        if folded_answer.startswith("(") and folded_answer.endswith(")"):
            folded_answer = folded_answer[1:-1].strip()
        answer = folded_answer
        letters = [letter for letter, _, _ in question.options]
        if letters != list(OPTION_KEYS[:len(letters)]):
            # Named where the options go wrong, with the question's number.
            wrong = next(option_place for index, (letter, _, option_place)
                         in enumerate(question.options) if letter != OPTION_KEYS[index:index + 1])
            at = Place("paragraph", wrong.number, question=place.question)
            twice = sorted({letter for letter in letters if letters.count(letter) > 1})
            if twice:
                self.problems.append(at.problem(N_("option %(letter)s appears twice"),
                                                {"letter": ", ".join(twice)}))
            else:
                self.problems.append(at.problem(
                    N_("the options are out of order: %(order)s (expected A, B, C …)"),
                    {"order": ", ".join(letters)}))
        record = {"type": self.type_of(question, answer), "stem": stem, "answer": answer,
                  "points": question.section.points, "category": question.category,
                  "explanation": tabular.clean_cell("\n".join(question.explanation))}
        for letter, text, _ in question.options:
            if letter in OPTION_KEYS:
                record.setdefault(f"option_{letter}", tabular.clean_cell(text))
        for letter, text, option_place in question.options:
            if not tabular.clean_cell(text):
                self.problems.append(option_place.problem(N_("option %(letter)s is empty"),
                                                          {"letter": letter}))
        self.records.append((place, record))

    def type_of(self, question: _Question, answer: str) -> str:
        if question.section.kind:
            return question.section.word
        # Before any heading: a bank without sections says its type by its options.
        if question.options and not all(_is_tf_word(t) for _, t, _ in question.options):
            return "单选"
        return "判断" if _is_tf_word(answer) or question.options else "单选"


TRUE_MARKS = {"对", "正确", "√", "✓", "✔", "T"}
FALSE_MARKS = {"错", "错误", "×", "✗", "✘", "F"}


def _is_tf_word(text: str) -> bool:
    return fold(text).strip().rstrip("。.").upper() in TRUE_MARKS | FALSE_MARKS


def _answer_key(text: str) -> str:
    """An answer as compared between the stem's brackets and the answer line: (√) = 正确."""
    word = fold(text).strip().rstrip("。.;,").strip("()").strip().upper()
    return "T" if word in TRUE_MARKS else "F" if word in FALSE_MARKS else word


def _bracket(stem_lines: list[str]) -> re.Match | None:
    matches = list(BRACKET_ANSWER.finditer(fold("\n".join(stem_lines))))
    return matches[-1] if matches else None


def _split_inline(line: str) -> list[str]:
    folded = fold(line)
    cuts = [m.end() for m in INLINE_MARK.finditer(folded)]
    if not cuts:
        return [line]
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return pieces


def _split_options(line: str) -> list[tuple[str, str]]:
    """`A．聚类  B．图像分类` → [("A", "聚类"), ("B", "图像分类")]. A marker starts an option
    after a space or a tab; right after other text only when it is the next letter (banks
    typed without spaces: `A.聚类B.图像分类`)."""
    folded = fold(line)
    first = OPTION.match(folded.lstrip())
    offset = len(folded) - len(folded.lstrip())
    starts = [(offset, first.group(1), offset + first.end())]
    expected = chr(ord(first.group(1)) + 1)
    marker = re.compile(r"(?:\(\s*)?([A-H])\s*[).、:]")
    position = starts[0][2]
    while True:
        found = None
        for match in marker.finditer(folded, position):
            before = folded[match.start() - 1] if match.start() else " "
            next_letter = match.group(1) == expected and not match.group(0).startswith("(")
            if before.isspace() or (next_letter and _is_cjk(before)):
                found = match
                break
        if found is None:
            break
        starts.append((found.start(), found.group(1), found.end()))
        expected = chr(ord(found.group(1)) + 1)
        position = found.end()
    options = []
    for index, (_, letter, text_start) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(line)
        options.append((letter, line[text_start:end]))
    return options


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef" or char in "。，；？！"
