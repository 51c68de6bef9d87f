"""Question bank import: the template as .xlsx, .csv or .json, and Word banks (.docx, read by
`word_bank`); every record checked by `parse_question`, all or nothing."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import audit, tabular
from kiosk.db import contains_text, write_transaction
from kiosk.errors import N_, ImportErrors, NotFound, Problem
from kiosk.progress import NO_PROGRESS, STAGE_SAVING, Progress
from kiosk.theory_exam import word_bank
from kiosk.theory_exam.models import Question

OPTION_KEYS = "ABCDEFGH"
BANK_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("题型", "题目类型", "type"),
    "stem": ("题干", "题目", "试题内容", "stem", "question"),
    "answer": ("答案", "正确答案", "参考答案", "answer"),
    "points": ("分值", "分数", "points", "score"),
    "category": ("分类", "知识点", "类别", "category"),
    "explanation": ("解析", "答案解析", "explanation"),
    "answer_text": ("正确答案文本", "answer_text"),
    "number": ("题号", "序号", "no", "number"),
    **{f"option_{k}": (f"选项{k}", k, f"option{k}", f"option_{k}") for k in OPTION_KEYS},
}
SINGLE_TYPES = {"单选", "单选题", "单项选择", "单项选择题", "选择题", "single", "single_choice"}
TF_TYPES = {"判断", "判断题", "tf", "true_false", "truefalse", "judge"}
# Types a bank may hold that this exam cannot ask: named so the organiser knows what to remove.
UNASKABLE_TYPES = {"多选", "多选题", "多项选择", "多项选择题", "不定项选择题", "填空", "填空题",
                   "简答", "简答题", "问答题", "论述题", "案例分析题", "multiple", "multi"}
TRUE_WORDS = {"对", "正确", "√", "✓", "✔", "T", "TRUE", "是", "Y"}
FALSE_WORDS = {"错", "错误", "×", "✗", "✘", "F", "FALSE", "否", "N"}
MAX_POINTS = Decimal(100)


@dataclass
class BankImport:
    questions: list[Question]
    warnings: list[Problem] = field(default_factory=list)
    # Where each question stands in the file (its line, or a Word paragraph or table row).
    places: list[int | word_bank.Place] = field(default_factory=list)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def question_kind(text: str) -> str | None:
    """What a type word (a column's cell, a Word heading's 单项选择题) asks: "single", "tf",
    "unaskable" (a type this exam cannot ask) or None (unknown)."""
    word = _fold(text).lower()
    if word in SINGLE_TYPES:
        return "single"
    if word in TF_TYPES:
        return "tf"
    if word in UNASKABLE_TYPES:
        return "unaskable"
    return None


def _tf_value(text: str) -> str | None:
    word = _fold(text).upper().rstrip("。.")
    if word in TRUE_WORDS:
        return "T"
    if word in FALSE_WORDS:
        return "F"
    return None


def parse_question(record: dict[str, str], line: int, now: datetime) -> tuple[Question | None,
                                                                           list[Problem]]:
    """One bank row → a Question, or the problems that stop it."""
    problems: list[Problem] = []
    raw_type = _fold(record.get("type", "")).lower()
    stem = record.get("stem", "").strip()
    answer_raw = _fold(record.get("answer", ""))
    options = [(k, record.get(f"option_{k}", "").strip()) for k in OPTION_KEYS]
    options = [(k, text) for k, text in options if text]

    kind = question_kind(raw_type)
    if kind == "single":
        qtype = "single"
    elif kind == "tf":
        qtype = "tf"
    elif kind == "unaskable":
        return None, [Problem(line, N_("type %(type)s cannot be asked in this exam (only "
                                       "single choice and true/false); remove the row"),
                              {"type": record.get("type", "")})]
    else:
        return None, [Problem(line, N_("unknown type %(type)s (use 单选 or 判断)"),
                              {"type": record.get("type", "") or "—"})]
    if not stem:
        problems.append(Problem(line, N_("the stem is empty")))

    answer = ""
    stored_options: list[dict[str, str]] = []
    if qtype == "single":
        keys = [k for k, _ in options]
        if len(options) < 2:
            problems.append(Problem(line, N_("a single-choice question needs at least two "
                                             "options")))
        elif keys != list(OPTION_KEYS[:len(keys)]):
            problems.append(Problem(line, N_("options must be filled from A on without gaps")))
        letter = answer_raw.upper()
        if not letter:
            problems.append(Problem(line, N_("the answer is missing")))
        elif len(letter) != 1 or letter not in OPTION_KEYS:
            problems.append(Problem(line, N_("the answer %(answer)s is not one option letter"),
                                    {"answer": answer_raw or "—"}))
        elif letter not in keys:
            problems.append(Problem(line, N_("the answer %(answer)s is not among the options"),
                                    {"answer": letter}))
        answer = letter
        stored_options = [{"key": k, "text": text} for k, text in options]
    else:
        answer = _tf_value(answer_raw) or ""
        if not answer and options:
            # Written as options 正确/错误 with the answer as the option's letter.
            chosen = dict(options).get(answer_raw.upper())
            if chosen is not None:
                answer = _tf_value(chosen) or ""
        if not answer_raw:
            problems.append(Problem(line, N_("the answer is missing")))
        elif not answer:
            problems.append(Problem(line, N_("the true/false answer %(answer)s is not readable "
                                             "(use 对 or 错)"), {"answer": answer_raw or "—"}))
        elif options and not all(_tf_value(text) for _, text in options):
            problems.append(Problem(line, N_("a true/false question may only have the options "
                                             "对 and 错")))

    points = _points(_fold(record.get("points", "")), line, problems)
    if problems:
        return None, problems
    explanation = record.get("explanation", "").strip()
    answer_text = record.get("answer_text", "").strip()
    if answer_text and answer_text not in explanation:
        explanation = f"{explanation}\n{answer_text}".strip()
    return Question(type=qtype, stem=stem, options=stored_options, answer=answer, points=points,
                    category=record.get("category", "")[:64], explanation=explanation,
                    enabled=True, imported_at=now), []


def _points(raw_points: str, line: int, problems: list[Problem]) -> Decimal:
    """A question's points (1 when the cell is empty); a problem when they are no mark."""
    if not raw_points:
        return Decimal(1)
    try:
        points = Decimal(raw_points)
    except InvalidOperation:
        points = Decimal(-1)
    if not points.is_finite() or points <= 0 or points > MAX_POINTS or \
            points != points.quantize(Decimal("0.01")):
        problems.append(Problem(line, N_("the points %(points)s are not a number between 0 "
                                         "and 100"), {"points": raw_points}))
    return points


def read_bank(data: bytes, filename: str, now: datetime,
              progress: Progress = NO_PROGRESS) -> BankImport:
    """Parse a whole bank file; raise ImportErrors listing every bad row (or, in a Word bank,
    every bad paragraph and table row)."""
    problems: list[Problem] = []
    records: list[tuple[int | word_bank.Place, dict[str, str]]]
    if word_bank.is_word(data, filename):
        document = word_bank.read_word(data, BANK_COLUMNS, question_kind)
        records = list(document.records)
        problems.extend(document.problems)
        if len(records) > tabular.MAX_ROWS:
            raise ImportErrors([Problem(None, N_("The file has more than 20000 rows."))])
    elif word_bank.is_old_word(filename):
        raise ImportErrors([Problem(None, N_("An old Word file (.doc or .wps) cannot be read: "
                                             "save it as a Word document (.docx) first."))])
    elif filename.lower().endswith(".json"):
        records = list(_json_records(data))
    else:
        rows = tabular.read_table(data, filename, BANK_COLUMNS,
                                  required=["type", "stem", "answer"], progress=progress)
        records = [(row.line, row.cells) for row in rows]
    questions: list[Question] = []
    places: list[int | word_bank.Place] = []
    first_place_of_stem: dict[str, int | word_bank.Place] = {}
    warnings: list[Problem] = []
    for place, record in records:
        line = place if isinstance(place, int) else place.number
        question, row_problems = parse_question(record, line, now)
        problems.extend(row_problems if isinstance(place, int) else
                        [place.relocate(problem) for problem in row_problems])
        if question is None:
            continue
        questions.append(question)
        places.append(place)
        key = "".join(question.stem.split())
        first = first_place_of_stem.setdefault(key, place)
        if first != place:
            warnings.append(Problem(line, N_("the same stem as line %(first)s"), {"first": first})
                            if isinstance(place, int) else place.same_stem(first))
    if not records:
        problems.append(Problem(None, N_("The file holds no questions.")))
    if problems:
        # A Word bank's problems come from its shape and from its questions: in document order.
        problems.sort(key=lambda problem: (problem.line is not None, problem.line or 0))
        raise ImportErrors(problems)
    return BankImport(questions, warnings, places)


def _json_records(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        document = json.loads(tabular.decode_csv(data))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ImportErrors([Problem(getattr(exc, "lineno", None), N_("not valid JSON: "
                                                                     "%(reason)s"),
                                    {"reason": getattr(exc, "msg", "too deep")})]) from exc
    items = document.get("questions") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ImportErrors([Problem(None, N_('JSON must be a list of questions or '
                                             '{"questions": [...]}'))])
    records = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportErrors([Problem(number, N_("question %(n)s is not an object"),
                                        {"n": number})])
        record = {key: _json_text(item.get(key)) for key in
                  ("type", "stem", "answer", "points", "category", "explanation")}
        options = item.get("options") or []
        if isinstance(options, dict):
            options = [options.get(k) for k in OPTION_KEYS if k in options]
        if isinstance(options, list):
            for key, option in zip(OPTION_KEYS, options, strict=False):
                text = option.get("text") if isinstance(option, dict) else option
                record[f"option_{key}"] = _json_text(text)
        records.append((number, record))
    return records


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "T" if value else "F"
    return tabular.clean_cell(value)


def import_bank(session: Session, data: bytes, filename: str, *, actor: audit.Actor,
                now: datetime, progress: Progress = NO_PROGRESS) -> BankImport:
    result = read_bank(data, filename, now, progress)
    progress.stage(STAGE_SAVING)
    result.warnings.extend(_already_in_the_bank(session, result))
    with write_transaction(session):
        session.add_all(result.questions)
        session.flush()
        audit.record(session, actor, "bank.imported", at=now, subject=filename[:128],
                     details={"questions": len(result.questions),
                              "single": sum(q.type == "single" for q in result.questions),
                              "tf": sum(q.type == "tf" for q in result.questions),
                              "duplicate_stems": len(result.warnings)})
    return result


def _already_in_the_bank(session: Session, result: BankImport) -> list[Problem]:
    """A warning for each question whose stem the bank holds already (the same file imported
    twice doubles the bank: said, not refused, as a stem twice in one file is)."""
    held = {"".join(stem.split()): number for number, stem in
            session.execute(select(Question.id, Question.stem).order_by(Question.id.desc()))}
    warnings = []
    for question, place in zip(result.questions, result.places, strict=True):
        number = held.get("".join(question.stem.split()))
        if number is None:
            continue
        message, params = N_("the same stem as question #%(id)s already in the bank"), {
            "id": number}
        warnings.append(Problem(place, message, params) if isinstance(place, int)
                        else place.problem(message, params))
    return warnings


def bank_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Question.type, func.count()).where(Question.enabled)
                           .group_by(Question.type))
    return {qtype: int(count) for qtype, count in rows}


# ----------------------------------------------------------------------------- the bank page

def search_bank(session: Session, *, text: str = "", qtype: str = "", category: str = "",
                limit: int = 200, offset: int = 0) -> list[Question]:
    query = select(Question).order_by(Question.id).limit(limit).offset(offset)
    if text:
        query = query.where(contains_text(Question.stem, text.strip()))
    if qtype in ("single", "tf"):
        query = query.where(Question.type == qtype)
    if category:
        query = query.where(Question.category == category)
    return list(session.scalars(query))


def categories(session: Session) -> list[str]:
    return sorted(c for c in session.scalars(select(Question.category).distinct()) if c)


def set_enabled(session: Session, question_id: int, enabled: bool, *, actor: audit.Actor,
                now: datetime) -> Question:
    """Take a question out of the bank (or back): papers built later leave it out; papers
    already built keep what they were built with."""
    with write_transaction(session):
        question = session.get(Question, question_id)
        if question is None:
            raise NotFound(N_("No such question."))
        question.enabled = enabled
        audit.record(session, actor, "bank.enabled" if enabled else "bank.disabled", at=now,
                     subject=str(question.id), details={"stem": question.stem[:60]})
    return question


def export_bank_xlsx(session: Session) -> bytes:
    """The whole bank in the import template, so it can be edited and imported elsewhere."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    sheet.append(["题号", "题型", "题干", *[f"选项{k}" for k in OPTION_KEYS], "答案", "分值",
                  "分类", "解析", "启用"])
    for q in session.scalars(select(Question).order_by(Question.id)):
        options = {o["key"]: o["text"] for o in q.options}
        answer = q.answer if q.type == "single" else ("对" if q.answer == "T" else "错")
        sheet.append(tabular.spreadsheet_row([
            q.id, "单选" if q.type == "single" else "判断", q.stem,
            *[options.get(k, "") for k in OPTION_KEYS], answer, q.points, q.category,
            q.explanation, "是" if q.enabled else "否"]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
