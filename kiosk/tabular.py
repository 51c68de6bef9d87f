"""Reading the tables organisers bring: `.xlsx`, or `.csv` in UTF-8, UTF-8 with BOM or GB18030;
and the one rule every table kiosk writes obeys (`spreadsheet_cell`).

Chinese Excel saves "CSV" as GBK (a subset of GB18030). The encoding is decided as BOM → strict
UTF-8 → GB18030, never by a charset guesser (they are wrong on short files). Rows keep the line
number a person sees in Excel (header = line 1), so every problem can be reported as `line N`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kiosk.errors import N_, ImportErrors, Problem
from kiosk.progress import NO_PROGRESS, Progress

MAX_ROWS = 20_000
MAX_CELL = 10_000


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # canonical column name -> cleaned text ("" when empty)
    raw_types: dict[str, str]  # canonical column name -> "number" where Excel stored a number

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def json_number(value: Decimal) -> int | float:
    """A two-decimal mark as a JSON or spreadsheet number that reads back exactly as typed
    (97.5 stays 97.5, 33.33 stays 33.33; 90.00 becomes 90)."""
    return int(value) if value == value.to_integral_value() else float(value)


# A text cell beginning with one of these is a formula to Excel, LibreOffice or WPS (OWASP's CSV
# injection list): a name, a stem or a file name typed by anyone must never run on the
# organisers' machines.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A value as a cell of a CSV or xlsx that kiosk writes: text that a spreadsheet would read as
    a formula gets a leading single quote; numbers (negative ones too) stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[object]) -> list[object]:
    return [spreadsheet_cell(value) for value in values]


def unquote_cell(text: str) -> str:
    """The inverse of `spreadsheet_cell` on reading, so that kiosk's own exports (the question
    bank) import again as they were typed."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def clean_cell(value: object) -> str:
    """Text as a person meant it: full-width spaces and NBSPs are spaces; surrounding space goes;
    line breaks inside a cell stay (question stems span lines)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.strip() for line in text.strip().split("\n")).strip()


def normalize_header(text: str) -> str:
    # NFKC folds full-width letters (Ａ) and brackets that Chinese input methods produce.
    return unicodedata.normalize("NFKC", clean_cell(text)).replace(" ", "").lower()


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _file_problem(N_("The file is neither UTF-8 nor GB18030/GBK text; save it from "
                               "Excel as .xlsx or as CSV (UTF-8).")) from exc


STAGE_READING = N_("Reading the file")


def read_table(data: bytes, filename: str, aliases: dict[str, Iterable[str]],
               required: Iterable[str], keep_unknown: bool = False,
               progress: Progress = NO_PROGRESS) -> list[Row]:
    """Rows with canonical column names. `aliases` maps each canonical name to the headers that
    mean it (Chinese and English). Unknown headers are ignored; missing required ones are
    reported together. Blank rows are skipped (Excel leaves them). `progress` counts the lines
    read (a large workbook takes openpyxl seconds)."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw_rows = list(_xlsx_rows(data, progress))
    elif suffix in (".csv", ".txt", ""):
        raw_rows = list(_csv_rows(data, progress))
    else:
        raise _file_problem(N_("Unsupported file type; use .xlsx or .csv."))
    if not raw_rows:
        raise ImportErrors([Problem(1, N_("the file is empty; the first line must be the header"))])
    return table_rows(raw_rows, aliases, required, keep_unknown)


def header_columns(header: Iterable[object], aliases: dict[str, Iterable[str]],
                   keep_unknown: bool = False) -> list[str | None]:
    """The canonical column name of each header cell (None: unknown or repeated). The one home
    of header matching: the xlsx/csv import and a Word table's header row both use it."""
    lookup = {}
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            lookup[normalize_header(name)] = canonical
    columns: list[str | None] = []
    seen: set[str] = set()
    for cell in header:
        text = clean_cell(cell)
        canonical = lookup.get(normalize_header(text))
        if canonical is None and keep_unknown and text:
            canonical = "extra:" + text  # e.g. a task column of a score sheet
        if canonical in seen:
            canonical = None  # a repeated column: the first one counts
        columns.append(canonical)
        if canonical:
            seen.add(canonical)
    return columns


def table_rows(raw_rows: list[tuple[int, list[tuple[object, str]]]],
               aliases: dict[str, Iterable[str]], required: Iterable[str],
               keep_unknown: bool = False) -> list[Row]:
    """Rows of a table read by any reader: `raw_rows[0]` is the header; each row is its line
    number and its cells as (value, kind)."""
    header_line, header = raw_rows[0]
    columns = header_columns([cell[0] if cell else "" for cell in header], aliases, keep_unknown)
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportErrors([Problem(header_line, N_("missing column %(column)s"), {"column": name})
                            for name in missing])
    rows = []
    for line, cells in raw_rows[1:]:
        values: dict[str, str] = {}
        types: dict[str, str] = {}
        for column, (value, kind) in zip(columns, cells, strict=False):
            if column:
                text = clean_cell(unquote_cell(value) if isinstance(value, str) else value)
                if len(text) > MAX_CELL:
                    text = text[:MAX_CELL]
                values[column] = text
                if kind:
                    types[column] = kind
        if any(values.values()):
            rows.append(Row(line, values, types))
    if len(rows) > MAX_ROWS:
        raise _file_problem(N_("The file has more than 20000 rows."))
    return rows


def _csv_rows(data: bytes, progress: Progress = NO_PROGRESS
              ) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    text = decode_csv(data)
    if "\x00" in text:
        raise _file_problem(N_("The file is not a text table."))
    progress.stage(STAGE_READING, text.count("\n") + (0 if text.endswith("\n") else 1))
    read = 0
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for row in reader:
            progress.advance(reader.line_num - read)
            read = reader.line_num
            # The line a person sees is where the record *starts*; a quoted cell may span lines.
            yield _record_start(reader.line_num, row), [(cell, "") for cell in row]
    except csv.Error as exc:
        raise ImportErrors([Problem(reader.line_num, N_("unreadable CSV: %(reason)s"),
                                    {"reason": str(exc)})]) from exc


def _record_start(end_line: int, row: list[str]) -> int:
    extra_lines = sum(cell.count("\n") for cell in row)
    return end_line - extra_lines


def _xlsx_rows(data: bytes, progress: Progress = NO_PROGRESS
               ) -> Iterator[tuple[int, list[tuple[object, str]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _file_problem(N_("The file is not a readable .xlsx workbook.")) from exc
    except Exception as exc:  # openpyxl raises assorted errors on damaged workbooks
        raise _file_problem(N_("The file is not a readable .xlsx workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        progress.stage(STAGE_READING, sheet.max_row)  # None when the workbook does not say
        for row in sheet.iter_rows():
            progress.advance()
            cells = []
            line = None
            for cell in row:
                if line is None and getattr(cell, "row", None):
                    line = cell.row
                value = cell.value
                is_number = isinstance(value, int | float) and not isinstance(value, bool)
                kind = "number" if is_number else ""
                cells.append((value, kind))
            if line is not None:
                yield line, cells
    finally:
        workbook.close()


def _file_problem(message: str) -> ImportErrors:
    return ImportErrors([Problem(None, message)])
