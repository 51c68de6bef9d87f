"""Theory results as JSON and xlsx (scores by station only: names are sealed)."""

from __future__ import annotations

import io

from kiosk import clock
from kiosk.tabular import json_number, spreadsheet_row
from kiosk.theory_exam.exam import StationScore


def scores_json(results: list[StationScore]) -> dict:
    return {"stations": [{
        "station": r.station, "score": json_number(r.score),
        "full_marks": json_number(r.full_marks),
        "answered": r.answered, "submitted_at": clock.iso(r.submitted_at),
        "time_used_s": r.time_used_s} for r in results]}


def scores_xlsx(results: list[StationScore], event_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "理论成绩"
    sheet.append(spreadsheet_row([f"{event_name} 理论知识考试成绩（按赛位号）"]))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["赛位号", "得分", "满分", "作答题数", "交卷时间", "用时（秒）"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for r in results:
        sheet.append(spreadsheet_row([
            r.station, r.score, r.full_marks, r.answered,
            clock.local_display(r.submitted_at) if r.submitted_at else "", r.time_used_s]))
    for letter, width in zip("ABCDEF", (10, 10, 10, 10, 22, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
