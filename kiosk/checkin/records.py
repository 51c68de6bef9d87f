"""The check-in desk's and the draws' paper: 检录单, 一次加密记录表, 二次加密记录表,
竞赛工位抽签记录表 and the leaders' meeting's 场次抽签记录表.

Each sheet shows the commitment, the public entropy, the SHA-256 of the sealed record, the date,
and signature lines for the encryption judge and a supervisor. They are printed between
`prepare_seal` (which fixes the sealed record's SHA-256) and `seal` (which erases the pairs),
then go into the sealed envelope; the server keeps no copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Spacer

from kiosk.checkin import idcard
from kiosk.checkin.draw_stages import Mapping
from kiosk.checkin.session_draw import Result
from kiosk.checkpoints import Checkpoint
from kiosk.clock import local_display
from kiosk.pdf import build_document, hex_groups, para, signature_block, signed, table

TITLES = {1: "一次加密记录表", 2: "二次加密记录表", "station": "竞赛工位抽签记录表"}
METHODS = {"computer": "计算机抽签（承诺–熵）", "lots": "现场抽签（实物签）"}


def _facts(mapping: Mapping, st, session_name: str) -> list:
    round_ = mapping.round
    sealed = hex_groups(round_.ciphertext_sha256) if round_.ciphertext_sha256 else \
        "（尚未生成封存记录：请先执行“准备封存”再打印）"
    lines = [
        f"场次：{session_name}　　抽签方式：{METHODS.get(round_.method, round_.method)}",
        f"抽签时间：{local_display(round_.drawn_at)}　　人数：{len(mapping.pairs)}",
    ]
    if round_.method == "computer":
        lines += [f"承诺值 SHA-256(种子)：{hex_groups(round_.commitment)}",
                  f"公开熵（监督人员输入）：{round_.entropy or ''}"]
    lines.append(f"封存记录 SHA-256：{sealed}")
    # A result shown is final: each redraw after it, with its reason and co-signing supervisor.
    lines += [f"重新抽签：第 {old.id} 轮结果于 {local_display(old.shown_at)} 显示后作废"
              f"（{local_display(old.superseded_at)}），理由：{old.redraw_reason}；"
              f"监督人员会签：{old.redraw_cosigner}" for old in mapping.redraws]
    return [para(line, st.body) for line in lines]


def record_sheet(mapping: Mapping, *, kind: int | str, event_name: str, session_name: str,
                 checkpoint: Checkpoint, font_config: str = "") -> bytes:
    """kind 1: identity → contestant number; 2: contestant number → station; "station": the
    station draw record that every contestant signs."""
    stage = mapping.round.stage
    title = TITLES[kind]
    judge = "一次加密裁判签字" if stage == 1 else "二次加密裁判签字"

    def story(font, st):
        flow = [para(event_name, st.subtitle), para(title, st.title),
                *_facts(mapping, st, session_name), Spacer(1, 4 * mm)]
        if kind == 1:
            rows = [["参赛编号", "姓名", "身份证号", "单位", "组别", "备注"]]
            rows += [[p["contestant_no"], p["name"], p["id_number"], p["organization"],
                      p["group"], "补抽" if p["late"] else ""] for p in mapping.pairs]
            widths = [18 * mm, 22 * mm, 50 * mm, 50 * mm, 18 * mm, 14 * mm]
        elif kind == 2:
            rows = [["参赛编号", "赛位号", "备注"]]
            rows += [[p["contestant_no"], p["station"], "补抽" if p["late"] else ""]
                     for p in mapping.pairs]
            widths = [50 * mm, 50 * mm, 60 * mm]
        else:
            rows = [["赛位号", "参赛编号", "选手签字", "备注"]]
            rows += [[p["station"], p["contestant_no"], "", "补抽" if p["late"] else ""]
                     for p in sorted(mapping.pairs, key=lambda p: p["station"])]
            widths = [30 * mm, 30 * mm, 70 * mm, 34 * mm]
        # Every contestant signs a row of the station draw record: room for a hand.
        signing = 9 * mm if kind == "station" else None
        flow.append(signed(table(rows, widths, font, row_height=signing), Spacer(1, 8 * mm),
                           signature_block([judge, "监督人员签字"], font), Spacer(1, 3 * mm),
                           para("本表随封存记录装入密封袋，由加密裁判和监督在封口处签字，"
                                "解密前存放于保密柜。", st.small)))
        return flow

    return build_document(story, title=title, checkpoint=checkpoint, font_config=font_config,
                          footer=f"{event_name} · {session_name} · {title} · 第 {stage} 次加密")


@dataclass(frozen=True)
class CheckinRow:
    name: str
    id_number: str
    organization: str
    group: str
    checked_in_at: datetime | None
    checked_in_by: str  # the desk's staff member, "命令行", or "" if absent
    withdrawn: bool = False  # cannot come: recorded, with a reason, on the roster


def checkin_sheet_pdf(rows: Sequence[CheckinRow], *, event_name: str, session_name: str,
                      printed_at: datetime, checkpoint: Checkpoint,
                      font_config: str = "") -> bytes:
    """检录单: everyone on the roster with check-in time and who checked them in, for the chief
    judge, with signature lines; one part per group. ID numbers are masked: the sheet leaves
    the desk."""
    groups: dict[str, list[CheckinRow]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    present_total = sum(1 for r in rows if r.checked_in_at)

    def story(font, st):
        flow = []
        for number, (group, members) in enumerate(groups.items()):
            if number:
                flow.append(PageBreak())
            present = sum(1 for m in members if m.checked_in_at)
            withdrawn = sum(1 for m in members if m.withdrawn)
            flow += [para(f"{event_name}", st.subtitle), para(f"检录单（{group}）", st.title),
                     para(f"场次：{session_name}　应到 {len(members)} 人　实到 {present} 人　"
                          f"缺考 {len(members) - present - withdrawn} 人　"
                          f"弃权 {withdrawn} 人　打印时间 "
                          f"{local_display(printed_at)}", st.body), Spacer(1, 3 * mm)]
            table_rows = [["序号", "姓名", "身份证号", "单位", "检录时间", "检录员", "状态"]]
            for index, m in enumerate(members, start=1):
                table_rows.append([index, m.name, idcard.mask(m.id_number), m.organization,
                                   local_display(m.checked_in_at, "%H:%M:%S")
                                   if m.checked_in_at else "", m.checked_in_by,
                                   "已检录" if m.checked_in_at else
                                   ("弃权" if m.withdrawn else "缺考")])
            flow.append(signed(table(table_rows, [12 * mm, 22 * mm, 38 * mm, 44 * mm, 20 * mm,
                                                  18 * mm, 16 * mm], font),
                               Spacer(1, 8 * mm),
                               signature_block(["检录员签字", "裁判长签字", "监督人员签字"], font)))
        if not groups:
            flow.append(para("名单为空", st.body))
        return flow

    return build_document(story, title="检录单", checkpoint=checkpoint, font_config=font_config,
                          footer=f"{event_name} · {session_name} · 检录单 · 应到 {len(rows)} "
                                 f"实到 {present_total}")


SESSION_DRAW_TITLE = "场次抽签记录表"


def session_draw_sheet(result: Result, *, event_name: str, checkpoint: Checkpoint,
                       font_config: str = "") -> bytes:
    """场次抽签记录表, for the leaders' meeting: the commitment, the entropy, the seed (public
    once drawn: anyone recomputes the draw with docs/draw.md), each session's capacity and
    count, every contestant with 组别, 单位 and 场次, and signature lines."""
    round_ = result.round
    names = {s["code"]: s["name"] or s["code"] for s in round_.sessions or []}
    counts = result.counts()

    seed = hex_groups(round_.seed.hex()) if round_.seed else ""

    def story(font, st):
        lines = [
            f"抽签时间：{local_display(round_.drawn_at)}　　人数：{sum(counts.values())}",
            f"承诺值 SHA-256(种子)：{hex_groups(round_.commitment)}",
            f"公开熵（领队会现场产生）：{round_.entropy or ''}",
            f"种子（抽签后公开，可据此复核）：{seed}",
        ]
        lines += [f"场次 {s['name'] or s['code']}（{s['code']}）：组别 "
                  f"{'、'.join(s['groups']) or '全部'}，容量 {s['capacity']}，"
                  f"抽中 {counts.get(s['code'], 0)} 人" for s in round_.sessions or []]
        lines += [f"重新抽签：第 {old.id} 轮（承诺值 {old.commitment[:16]}…）于 "
                  f"{local_display(old.superseded_at)} 作废，理由：{old.redraw_reason}"
                  for old in result.replaced]
        flow = [para(event_name, st.subtitle), para(SESSION_DRAW_TITLE, st.title),
                *[para(line, st.body) for line in lines], Spacer(1, 4 * mm)]
        rows = [["序号", "姓名", "身份证号", "单位", "组别", "场次", "备注"]]
        for index, placement in enumerate(result.placements, start=1):
            person = placement.contestant
            note = "弃权" if person.withdrawn_at is not None else ""
            rows.append([index, person.name, idcard.mask(person.id_number), person.organization,
                         person.group, names.get(placement.session_code, "—"), note])
        widths = [12 * mm, 22 * mm, 36 * mm, 44 * mm, 18 * mm, 20 * mm, 14 * mm]
        flow.append(signed(table(rows, widths, font), Spacer(1, 8 * mm),
                           signature_block(["领队代表签字", "领队代表签字", "监督人员签字",
                                            "裁判长签字"], font),
                           Spacer(1, 3 * mm),
                           para("场次抽签结果当场公布；本表由领队代表、监督和裁判长签字后存档。",
                                st.small)))
        return flow

    return build_document(story, title=SESSION_DRAW_TITLE, checkpoint=checkpoint,
                          font_config=font_config,
                          footer=f"{event_name} · {SESSION_DRAW_TITLE} · 承诺值 "
                                 f"{round_.commitment[:16]}")
