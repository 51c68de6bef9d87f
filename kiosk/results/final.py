"""The final results: the locked station results, linked to people once both layers are open,
ranked per group (ranking.py), and printed as the results sheet (成绩汇总表) and an xlsx.

Before the unsealing only stations are known: the results are listed by station, ranked over
all stations together, with no group and no award (`sealed` is true). Before the lock there
are no results to publish at all.

In an event of several sessions (场次) there is still one ranking per group, over every
session's contestants of that group, and the award tiers are counted over the whole group; it
waits until every session with results is unsealed (until then: stations only, each with its
session). Each row names its session (`session`: its code, "" for the implicit session of an
event without sessions); the sheets add a 场次 column when there are several.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Spacer
from sqlalchemy.orm import Session

from kiosk import scope
from kiosk.checkpoints import Checkpoint
from kiosk.clock import local_display
from kiosk.errors import N_, Conflict
from kiosk.pdf import build_document, hex_groups, para, signature_block, signed, table
from kiosk.results import ranking, seats, tasks, totals, unsealing
from kiosk.results.models import ResultsLock
from kiosk.tabular import json_number, spreadsheet_row

UNLINKED = "未关联赛位"  # a scored station nobody was drawn to (e.g. a contestant moved seats)


@dataclass(frozen=True)
class FinalRow:
    rank: int
    station: str
    contestant_no: str | None
    name: str | None
    id_number: str | None
    organization: str | None
    group: str | None
    theory: Decimal | None  # weighted; None on a day without a theory part
    theory_raw: Decimal | None
    practical: Decimal
    deduction: Decimal
    total: Decimal
    time_used_s: float | None
    award: str | None
    tasks: dict[str, Decimal] = field(default_factory=dict)  # per part or task, where entered
    session: str = ""  # the session's code ("" for the implicit one)


@dataclass(frozen=True)
class FinalResults:
    sealed: bool
    lock: ResultsLock
    groups: list[tuple[str | None, list[FinalRow]]]
    # (task, heading) in the order shown: the timetable's practical parts first.
    task_columns: tuple[tuple[str, str], ...] = ()
    with_theory: bool = True
    practical_full: Decimal | None = None  # the tasks' sum when set with full marks
    # session code → its label, when the event has several sessions (a 场次 column); else {}.
    sessions: dict[str, str] = field(default_factory=dict)

    def session_of(self, row: FinalRow) -> str:
        return self.sessions.get(row.session, row.session)

    def task_cells(self, row: FinalRow) -> list[Decimal | None]:
        return [row.tasks.get(task) for task, _heading in self.task_columns]


def final_results(session: Session, session_labels: dict[str, str] | None = None
                  ) -> FinalResults:
    """The final results, over every session (one lock, one ranking per group).
    `session_labels` (code → what people read) names the sessions on the sheets when there
    are several."""
    with scope.event_wide(session):
        return _final_results(session, session_labels or {})


def _final_results(session: Session, session_labels: dict[str, str]) -> FinalResults:
    locked = totals.locked_results(session)
    if locked is None:
        raise Conflict(N_("The station-number results are not locked yet (复核 and 评分结果锁定 "
                          "come first)."))
    lock, station_results = locked
    opened = unsealing.unsealed_sessions(session)
    unsealed = bool(opened) and all(r.session in opened for r in station_results)
    people = unsealing.links(session) if unsealed else {}
    by_seat = {r.seat: r for r in station_results}

    def group_of(seat: str) -> str | None:
        if not unsealed:
            return None
        return (people.get(seat) or {}).get("group") or UNLINKED

    entries = [ranking.Entry(r.seat, group_of(r.seat) or "", r.total, r.practical,
                             r.time_used_s) for r in station_results]
    groups: list[tuple[str | None, list[FinalRow]]] = []
    ranked_groups = ranking.rank_all(entries) if unsealed else \
        {"": ranking.rank_group(entries)}
    for group, ranked in ranked_groups.items():
        rows = []
        for entry in ranked:
            result, person = by_seat[entry.station], people.get(entry.station, {})
            award = entry.award if unsealed and group != UNLINKED else None
            rows.append(FinalRow(entry.rank, result.station, person.get("contestant_no"),
                                 person.get("name"), person.get("id_number"),
                                 person.get("organization"), group or None,
                                 result.theory_weighted, result.theory, result.practical,
                                 result.deduction, result.total, result.time_used_s, award,
                                 result.tasks, result.session))
        groups.append((group or None, rows))
    seen = {task for r in station_results for task in r.tasks}
    headings = tasks.labels(session)
    columns = tuple((task, headings.get(task, task)) for task in tasks.order(session, seen)
                    if task in seen)
    # The locked copy decides: a day without a theory part locked no theory score.
    with_theory = any(r.theory_full is not None for r in station_results) or not station_results
    full = tasks.practical_full(session, Decimal(0)) or None
    shown = {code: session_labels.get(code, code) for code in seats.positions(session)} \
        if seats.several(session) else {}
    return FinalResults(not unsealed, lock, groups, columns, with_theory, full, shown)


def _optional(value: Decimal | None) -> int | float | None:
    return json_number(value) if value is not None else None


def results_json(final: FinalResults) -> dict:
    return {"sealed": final.sealed, "sha256": final.lock.sha256, "groups": [
        {"group": group, "ranking": [{
            "rank": r.rank, "station": r.station,
            **({"session": r.session} if r.session else {}),
            "contestant_no": r.contestant_no,
            "name": r.name, "id_number": r.id_number, "theory": _optional(r.theory),
            "practical": json_number(r.practical), "total": json_number(r.total),
            "deduction": json_number(r.deduction), "award": r.award,
            **({"tasks": {task: _optional(r.tasks.get(task))
                          for task, _heading in final.task_columns}}
               if final.task_columns else {})} for r in rows]}
        for group, rows in final.groups]}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 60}分{whole % 60:02d}秒"  # as the pages say it: 19:10 reads as a time


def _plain(value: Decimal) -> str:
    return str(json_number(value))


SIGNERS = ["裁判长签字", "监督人员签字", "记分员（一）签字", "记分员（二）签字"]


def results_pdf(final: FinalResults, *, event_name: str, session_name: str, now: datetime,
                theory_weight: Decimal, practical_full: Decimal, checkpoint: Checkpoint,
                font_config: str = "") -> bytes:
    """成绩汇总表 (after unsealing, one part per group) or 赛位号成绩表 (before): A4, Chinese,
    with the lock's SHA-256 and signature lines for the chief judge, the supervisor and the two
    scorekeepers. ID numbers are left off paper that is posted."""
    title = "赛位号成绩表" if final.sealed else "成绩汇总表"
    practical_full = final.practical_full or practical_full

    def story(font, st):
        flow = []
        for index, (group, rows) in enumerate(final.groups):
            if index:
                flow.append(PageBreak())
            heading = f"{title}（{group}）" if group else title
            named = "、".join(final.sessions.values()) if final.sessions else session_name
            flow += [para(event_name, st.subtitle), para(heading, st.title),
                     para(f"场次：{named}　　人数：{len(rows)}", st.body),
                     para(_formula(final, theory_weight, practical_full), st.body),
                     para(f"锁定时间：{local_display(final.lock.locked_at)}　　"
                          f"成绩锁定 SHA-256：{hex_groups(final.lock.sha256)}", st.small),
                     Spacer(1, 3 * mm)]
            header, body, widths = _sheet_table(final, rows)
            flow.append(signed(
                table([header, *body], widths, font), Spacer(1, 6 * mm),
                para("排名：总分高者在前；总分相同者实操成绩高者在前；再相同者用时少者在前。"
                     "奖项：一等奖 10%、二等奖 20%、三等奖 30%（累计四舍五入，并列者同奖）。",
                     st.small),
                Spacer(1, 4 * mm), signature_block(SIGNERS, font), Spacer(1, 3 * mm),
                para(f"打印时间：{local_display(now)}", st.small)))
        return flow

    return build_document(story, title=title, checkpoint=checkpoint, font_config=font_config,
                          footer=f"{event_name} · {title}")


def _formula(final: FinalResults, theory_weight: Decimal, practical_full: Decimal) -> str:
    # U+2212 MINUS SIGN: pdf.GLYPH_STANDINS draws it where the font lacks it.
    practical = f"实操成绩（满分 {_plain(practical_full)}）"
    text = (f"总分 = 理论成绩 ÷ 满分 × {_plain(theory_weight)} + {practical}− 扣分"
            if final.with_theory else f"总分 = {practical}− 扣分（本赛项无理论考试）")
    if final.task_columns:
        text += "；实操成绩 = " + " + ".join(heading for _task, heading in final.task_columns)
    return text


def _sheet_table(final: FinalResults, rows: list[FinalRow]) -> tuple[list, list, list]:
    """The sheet's columns: the theory's only on a day with a theory part, a column per part or
    task (timetable order) before the practical; widths fit A4 (174 mm)."""
    theory = [("理论(折算)", lambda r: r.theory)] if final.with_theory else []
    per_task = [(heading, lambda r, task=task: r.tasks.get(task, ""))
                for task, heading in final.task_columns]
    marks = [*theory, *per_task, ("实操", lambda r: r.practical),
             ("扣分", lambda r: r.deduction or ""), ("总分", lambda r: r.total)]
    # The 场次 column only when the event has several sessions; its width comes out of the
    # organisation's (or the time's, on the sealed sheet).
    session = 16 if final.sessions else 0
    per_session = [("场次", final.session_of, session)] if session else []
    if final.sealed:
        columns = [("序号", lambda r: r.rank, 16), *per_session,
                   ("赛位号", lambda r: r.station, 24)]
        tail = [("用时", lambda r: _minutes(r.time_used_s), 24)]
        room = 174 - 16 - session - 24 - 24
    else:
        columns = [("名次", lambda r: r.rank, 10), *per_session,
                   ("赛位号", lambda r: r.station, 13),
                   ("参赛编号", lambda r: r.contestant_no or "", 17),
                   ("姓名", lambda r: r.name or "", 16)]
        tail = [("奖项", lambda r: r.award or "", 14)]
        organization = 51 - 12 * len(per_task) + (0 if final.with_theory else 19) - session
        columns.append(("单位", lambda r: r.organization or "", max(organization, 20)))
        room = 174 - 10 - session - 13 - 17 - 16 - max(organization, 20) - 14
    width = room / len(marks)
    columns += [(name, get, width) for name, get in marks] + tail
    header = [name for name, _get, _width in columns]
    body = [[get(r) for _name, get, _width in columns] for r in rows]
    return header, body, [w * mm for _name, _get, w in columns]


def results_xlsx(final: FinalResults, *, event_name: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    theory = ["理论原始分", "理论(折算)"] if final.with_theory else []
    per_session = ["场次"] if final.sessions else []
    header = ["名次", *per_session, "赛位号", "参赛编号", "姓名", "身份证号", "单位", "组别",
              *theory,
              *(heading for _task, heading in final.task_columns), "实操", "扣分", "总分",
              "用时(秒)", "奖项"]
    for group, rows in final.groups:
        sheet = workbook.create_sheet((group or "赛位号成绩")[:31])
        sheet.append(spreadsheet_row([event_name, "", "", "成绩锁定 SHA-256",
                                      final.lock.sha256]))
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for r in rows:
            # Decimals as exact numbers Excel shows as typed (no binary float surprises).
            sheet.append(spreadsheet_row([
                r.rank, *([final.session_of(r)] if final.sessions else []), r.station,
                r.contestant_no, r.name, r.id_number, r.organization,
                r.group,
                *([_optional(r.theory_raw), _optional(r.theory)] if final.with_theory else []),
                *(_optional(mark) for mark in final.task_cells(r)),
                json_number(r.practical), json_number(r.deduction), json_number(r.total),
                r.time_used_s, r.award]))
        sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
