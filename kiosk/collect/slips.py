"""The receipt slip (收件回执): A4 with the contestant's and the judges' copy and a cut line."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.checkpoints import Checkpoint, checkpoint_for_print
from kiosk.clock import local_display
from kiosk.collect.hand_ins import key_fingerprint, receipt_payload, session_of
from kiosk.collect.models import HandIn
from kiosk.collect.parts import DEFAULT_PART
from kiosk.crypto import load_signing_key
from kiosk.pdf import (
    NARROW_CHECKPOINT_HEIGHT,
    canvas_lines,
    draw_checkpoint,
    draw_checkpoint_narrow,
    draw_qr,
    hex_groups,
    use_font,
)
from kiosk.stations import exam_sessions

ROLL_WIDTH = 80 * mm


def _via_desk(hand_in: HandIn) -> str:
    return "（收件台代收）" if hand_in.via == "desk" else ""


def _part(hand_in: HandIn, part_name: str) -> str:
    """The part the hand-in is for, by the name people read (模块A：…), its key if unnamed."""
    return part_name or hand_in.part or DEFAULT_PART


def _session_rows(session_name: str) -> list[tuple[str, str]]:
    """The slip's 场次 line, in an event of several sessions: the seat's code is the same in
    every session, the session says whose hand-in it is."""
    return [("场次", session_name)] if session_name else []


def roll_receipt_pdf(hand_in: HandIn, *, station: str, payload: str, event_name: str,
                     fingerprint: str, checkpoint: Checkpoint, font_config: str = "",
                     part_name: str = "", session_name: str = "") -> bytes:
    """The same slip on an 80 mm receipt printer roll: one copy, narrow, tall."""
    font = use_font(font_config)
    buffer = io.BytesIO()
    # Room for a file name of three lines and a part's name of two.
    height = 208 * mm + NARROW_CHECKPOINT_HEIGHT + (5 * mm if session_name else 0)
    canvas = Canvas(buffer, pagesize=(ROLL_WIDTH, height))
    canvas.setTitle(f"收件回执 {hand_in.receipt_no}")
    x, y = 5 * mm, height - 10 * mm
    canvas.setFont(font, 12)
    canvas.drawString(x, y, "收件回执")
    canvas.setFont(font, 7.5)
    for number, line in enumerate(canvas_lines(canvas, event_name, font, 7.5, 70 * mm, 2)):
        canvas.drawString(x, y - (5 + 3.5 * number) * mm, line)
    y -= 16 * mm
    rows = [*_session_rows(session_name), ("赛位号", station), ("环节", _part(hand_in, part_name)),
            ("回执编号", hand_in.receipt_no), ("文件", hand_in.filename),
            ("大小", f"{hand_in.size:,} 字节"),
            ("时间", local_display(hand_in.received_at, "%Y-%m-%d %H:%M:%S")),
            ("版本", f"第 {hand_in.version} 次提交" + _via_desk(hand_in))]
    canvas.setFont(font, 8.5)
    for label, value in rows:
        canvas.drawString(x, y, label)
        # The file name whole where it can be (three lines); it is what the contestant checks.
        lines = canvas_lines(canvas, value, font, 8.5, 55 * mm, 3)
        for number, line in enumerate(lines):
            canvas.drawString(x + 15 * mm, y - number * 3.8 * mm, line)
        y -= 5 * mm + (len(lines) - 1) * 3.8 * mm
    canvas.setFont("Courier", 7)
    digest = hex_groups(hand_in.sha256)
    canvas.drawString(x, y, "SHA-256")
    for part in range(4):
        canvas.drawString(x + 15 * mm, y - part * 3.2 * mm, digest[part * 18:part * 18 + 17])
    y -= 16 * mm
    draw_qr(canvas, payload, (ROLL_WIDTH - 60 * mm) / 2, y - 60 * mm, 60 * mm)
    y -= 66 * mm
    canvas.setFont(font, 8.5)
    canvas.drawString(x, y, "选手签字：________________")
    canvas.drawString(x, y - 7 * mm, "现场裁判签字：____________")
    canvas.setFont(font, 6)
    canvas.drawString(x, y - 13 * mm, f"密钥指纹 {fingerprint[:39]}")
    draw_checkpoint_narrow(canvas, checkpoint, font, x, y - 17 * mm, ROLL_WIDTH - 2 * x)
    canvas.save()
    return buffer.getvalue()


def poster_pdf(*, event_name: str, fingerprint: str, font_config: str = "") -> bytes:
    """For the hall: the fingerprint every genuine receipt carries, and how to check one."""
    font = use_font(font_config)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    canvas.setFont(font, 16)
    for number, line in enumerate(canvas_lines(canvas, event_name, font, 16, width - 40 * mm, 2)):
        canvas.drawCentredString(width / 2, height - (36 + 7 * number) * mm, line)
    canvas.setFont(font, 30)
    canvas.drawCentredString(width / 2, height - 70 * mm, "收件回执验证")
    canvas.setFont(font, 14)
    canvas.drawCentredString(width / 2, height - 95 * mm,
                             "真实的回执上印有本服务器的签名密钥指纹：")
    canvas.setFont("Courier-Bold", 22)
    parts = fingerprint.split(" ")
    canvas.drawCentredString(width / 2, height - 115 * mm, " ".join(parts[:4]))
    canvas.drawCentredString(width / 2, height - 127 * mm, " ".join(parts[4:]))
    canvas.setFont(font, 12)
    lines = ["回执上的二维码含有带签名的收件信息（回执编号、赛位号、时间、大小、SHA-256）。",
             "裁判可在服务器上运行：kiosk receipt verify <二维码内容>，",
             "结果为“真实有效”的回执方可作为收件凭证。"]
    for number, line in enumerate(lines):
        canvas.drawCentredString(width / 2, height - (150 + 9 * number) * mm, line)
    canvas.save()
    return buffer.getvalue()


def receipt_pdf(hand_in: HandIn, *, station: str, payload: str, event_name: str,
                fingerprint: str, checkpoint: Checkpoint, font_config: str = "",
                part_name: str = "", session_name: str = "") -> bytes:
    font = use_font(font_config)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"收件回执 {hand_in.receipt_no}")
    width, height = A4
    half = height / 2
    for copy, top in (("选手联", height), ("裁判联", half)):
        x, y = 18 * mm, top - 18 * mm
        canvas.setFont(font, 15)
        canvas.drawString(x, y, f"收件回执（{copy}）")
        canvas.setFont(font, 9)
        for number, line in enumerate(canvas_lines(canvas, event_name, font, 9, 110 * mm, 2)):
            canvas.drawString(x, y - (6 + 4 * number) * mm, line)
        rows = [*_session_rows(session_name), ("赛位号", station),
                ("环节", _part(hand_in, part_name)),
                ("回执编号", hand_in.receipt_no), ("文件名", hand_in.filename),
                ("大小", f"{hand_in.size:,} 字节"),
                ("收件时间", local_display(hand_in.received_at, "%Y-%m-%d %H:%M:%S")),
                ("版本", f"第 {hand_in.version} 次提交" + _via_desk(hand_in))]
        line_y = y - 18 * mm
        canvas.setFont(font, 10)
        for label, value in rows:
            canvas.drawString(x, line_y, label)
            lines = canvas_lines(canvas, value, font, 10, 95 * mm, 2)  # a long file name: two lines
            for number, line in enumerate(lines):
                canvas.drawString(x + 22 * mm, line_y - number * 4.5 * mm, line)
            line_y -= 6.5 * mm + (len(lines) - 1) * 4.5 * mm
        canvas.setFont(font, 10)
        canvas.drawString(x, line_y, "SHA-256")
        canvas.setFont("Courier", 8.5)
        digest = hex_groups(hand_in.sha256)
        canvas.drawString(x + 22 * mm, line_y, digest[:35])
        canvas.drawString(x + 22 * mm, line_y - 4 * mm, digest[36:])
        line_y -= 14 * mm
        canvas.setFont(font, 10)
        canvas.drawString(x, line_y, "选手签字：____________________")
        canvas.drawString(x + 80 * mm, line_y, "现场裁判签字：____________________")
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(x, line_y - 7 * mm, f"服务器签名密钥指纹：{fingerprint}")
        canvas.drawString(x, line_y - 11 * mm,
                          "扫描二维码或运行 kiosk receipt verify 可验证本回执的真实性。")
        canvas.setFillColor(colors.black)
        draw_qr(canvas, payload, width - 18 * mm - 55 * mm, top - 18 * mm - 60 * mm, 55 * mm)
        draw_checkpoint(canvas, checkpoint, font, x, top - 140 * mm, width - 36 * mm)
    canvas.setDash(4, 3)
    canvas.setStrokeColor(colors.grey)
    canvas.line(10 * mm, half, width - 10 * mm, half)
    canvas.setFont(font, 7)
    # Not "✂": CJK fonts lack it, and it printed as a gap (pdf.GLYPH_STANDINS).
    canvas.drawCentredString(width / 2, half + 1.5 * mm, "沿此线剪开")
    canvas.save()
    return buffer.getvalue()


def slip_for(instance, hand_in: HandIn, station: str, *, part_name: str,
             roll: bool = False) -> bytes:
    """The signed slip of one hand-in, A4 or 80 mm roll: what the kiosk and the desk print.
    `part_name` is the part's name as printed (in Chinese, as the slip). In an event of several
    sessions the slip and its signed code name the hand-in's session (its station's)."""
    key = load_signing_key(instance.keys_dir)
    render = roll_receipt_pdf if roll else receipt_pdf
    exam_session = session_of(hand_in)
    code = exam_session.code if exam_session is not None else ""
    session_name = str(exam_sessions.label(exam_session, instance.settings)) if code else ""
    return render(hand_in, station=station,
                  payload=receipt_payload(hand_in, station, key, session_code=code),
                  event_name=instance.settings.event_name,
                  fingerprint=key_fingerprint(key.public_key()),
                  checkpoint=checkpoint_for_print(instance),
                  font_config=instance.settings.pdf_font, part_name=part_name,
                  session_name=session_name)
