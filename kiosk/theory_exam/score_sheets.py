"""Theory results as JSON and xlsx (scores by station only: names are sealed). In an event of
sessions (场次) each row names its session ("session" in JSON, a 场次 column in the sheet). A
station graded from its paper answer sheet (paper_fallback) says so ("graded_from": "paper" in
JSON, 纸质答题卡 in the sheet's last column); one whose sheet is not agreed yet has no score."""

from __future__ import annotations

import io

from kiosk import clock
from kiosk.tabular import json_number, spreadsheet_row
from kiosk.theory_exam.exam import StationScore

PAPER_LABELS = {"paper": "纸质答题卡", "paper_pending": "纸质答题卡（待核对，未评分）"}


def scores_json(results: list[StationScore]) -> dict:
    return {"stations": [{
        "station": r.station, **({"session": r.session} if r.session else {}),
        "score": None if r.graded_from == "paper_pending" else json_number(r.score),
        "full_marks": json_number(r.full_marks),
        "answered": r.answered, "submitted_at": clock.iso(r.submitted_at),
        "time_used_s": r.time_used_s,
        **({"graded_from": r.graded_from} if r.graded_from else {})} for r in results]}


def scores_xlsx(results: list[StationScore], event_name: str,
                session_labels: dict[str, str] | None = None) -> bytes:
    """The sheet; a 场次 column first when the rows are of defined sessions (`session_labels`
    gives what people read for each code)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "理论成绩"
    sheet.append(spreadsheet_row([f"{event_name} 理论知识考试成绩（按赛位号）"]))
    sheet["A1"].font = Font(bold=True, size=13)
    by_session = any(r.session for r in results)
    labels = session_labels or {}
    on_paper = any(r.graded_from for r in results)
    sheet.append([*(["场次"] if by_session else []),
                  "赛位号", "得分", "满分", "作答题数", "交卷时间", "用时（秒）",
                  *(["评分依据"] if on_paper else [])])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for r in results:
        sheet.append(spreadsheet_row([
            *([labels.get(r.session, r.session)] if by_session else []), r.station,
            None if r.graded_from == "paper_pending" else r.score,
            r.full_marks, r.answered,
            clock.local_display(r.submitted_at) if r.submitted_at else "", r.time_used_s,
            *([PAPER_LABELS.get(r.graded_from, "在线作答")] if on_paper else [])]))
    widths = ((12,) if by_session else ()) + (10, 10, 10, 10, 22, 12) + \
        ((26,) if on_paper else ())
    for letter, width in zip("ABCDEFGH", widths, strict=False):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
