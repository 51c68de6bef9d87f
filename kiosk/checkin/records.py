"""The draws' paper: 一次加密记录表, 二次加密记录表 and 竞赛工位抽签记录表.

Each sheet shows the commitment, the public entropy, the SHA-256 of the sealed record, the date,
and signature lines for the encryption judge and a supervisor. They are printed between
`prepare_seal` (which fixes the sealed record's SHA-256) and `seal` (which erases the pairs),
then go into the sealed envelope; the server keeps no copy.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from kiosk.checkin.draws import Mapping
from kiosk.checkpoints import Checkpoint
from kiosk.clock import local_display
from kiosk.pdf import build_document, para, signature_block, table

TITLES = {1: "一次加密记录表", 2: "二次加密记录表", "station": "竞赛工位抽签记录表"}
METHODS = {"computer": "计算机抽签（承诺–熵）", "lots": "现场抽签（实物签）"}


def _facts(mapping: Mapping, st, session_name: str) -> list:
    round_ = mapping.round
    sealed = round_.ciphertext_sha256 or "（尚未生成封存记录：请先执行“准备封存”再打印）"
    lines = [
        f"场次：{session_name}　　抽签方式：{METHODS.get(round_.method, round_.method)}",
        f"抽签时间：{local_display(round_.drawn_at)}　　人数：{len(mapping.pairs)}",
    ]
    if round_.method == "computer":
        lines += [f"承诺值 SHA-256(种子)：{round_.commitment}",
                  f"公开熵（监督输入）：{round_.entropy or ''}"]
    lines.append(f"封存记录 SHA-256：{sealed}")
    # A result shown is final: each redraw after it, with its reason and co-signing supervisor.
    lines += [f"重新抽签：第 {old.id} 轮结果于 {local_display(old.shown_at)} 显示后作废"
              f"（{local_display(old.superseded_at)}），理由：{old.redraw_reason}；"
              f"监督会签：{old.redraw_cosigner}" for old in mapping.redraws]
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
        flow.append(table(rows, widths, font))
        flow += [Spacer(1, 8 * mm), signature_block([judge, "监督签字"], font),
                 para("本表随封存记录装入密封袋，由加密裁判和监督在封口处签字，解密前存放于保密柜。",
                      st.small)]
        return flow

    return build_document(story, title=title, checkpoint=checkpoint, font_config=font_config,
                          footer=f"{event_name} · {title} · 第 {stage} 次加密")
