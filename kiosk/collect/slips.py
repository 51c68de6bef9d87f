"""The receipt slip (收件回执): A4 with the contestant's and the judges' copy and a cut line."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.checkin.badges import draw_qr, wrap
from kiosk.clock import local_display
from kiosk.collect.models import HandIn
from kiosk.collect.service import grouped_hex
from kiosk.pdf import use_font


def receipt_pdf(hand_in: HandIn, *, station: str, payload: str, event_name: str,
                fingerprint: str, font_config: str = "") -> bytes:
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
        for number, line in enumerate(wrap(canvas, event_name, font, 9, 110 * mm, 2)):
            canvas.drawString(x, y - (6 + 4 * number) * mm, line)
        rows = [("赛位号", station), ("回执编号", hand_in.receipt_no),
                ("文件名", hand_in.filename), ("大小", f"{hand_in.size:,} 字节"),
                ("收件时间", local_display(hand_in.received_at, "%Y-%m-%d %H:%M:%S")),
                ("版本", f"第 {hand_in.version} 次提交" + ("（收件台代收）" if hand_in.via == "desk"
                                                       else ""))]
        line_y = y - 18 * mm
        for label, value in rows:
            canvas.setFont(font, 10)
            canvas.drawString(x, line_y, label)
            shown = wrap(canvas, value, font, 10, 95 * mm, 1)[0]
            canvas.drawString(x + 22 * mm, line_y, shown)
            line_y -= 6.5 * mm
        canvas.setFont(font, 10)
        canvas.drawString(x, line_y, "SHA-256")
        canvas.setFont("Courier", 8.5)
        digest = grouped_hex(hand_in.sha256)
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
    canvas.setDash(4, 3)
    canvas.setStrokeColor(colors.grey)
    canvas.line(10 * mm, half, width - 10 * mm, half)
    canvas.setFont(font, 7)
    canvas.drawCentredString(width / 2, half + 1.5 * mm, "✂ 沿此线剪开")
    canvas.save()
    return buffer.getvalue()
