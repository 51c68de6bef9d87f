"""QR station badges (工位牌): A4 sheets, eight badges a page, with cut marks.

Each badge shows the station number large, the event and session, a QR code whose text is the
login token, and the short typed fallback code. Never a name or an ID: a badge belongs to a
station, so badges can be printed before the draw. QR codes are drawn as vector rectangles, so
they stay sharp on any printer and cost no image encoding (500 badges in about a second).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kiosk.pdf import canvas_lines, draw_qr, use_font
from kiosk.stations.sign_in import BadgeSecrets

COLUMNS, ROWS = 2, 4
BADGE_W, BADGE_H = 88 * mm, 64 * mm
QR_SIZE = 34 * mm


def _cut_marks(canvas: Canvas, x: float, y: float) -> None:
    length = 4 * mm
    canvas.setStrokeColor(colors.grey)
    canvas.setLineWidth(0.3)
    for cx, cy in ((x, y), (x + BADGE_W, y), (x, y + BADGE_H), (x + BADGE_W, y + BADGE_H)):
        dx = -length if cx == x else length
        dy = -length if cy == y else length
        canvas.line(cx, cy, cx + dx, cy)
        canvas.line(cx, cy, cx, cy + dy)


def _badge(canvas: Canvas, font: str, badge: BadgeSecrets, x: float, y: float,
           event_name: str, session_name: str) -> None:
    _cut_marks(canvas, x, y)
    pad = 5 * mm
    draw_qr(canvas, badge.qr_token, x + BADGE_W - pad - QR_SIZE, y + pad + 7 * mm, QR_SIZE)
    canvas.setFillColor(colors.black)
    canvas.setFont(font, 8.5)
    lines = canvas_lines(canvas, event_name, font, 8.5, BADGE_W - 2 * pad, max_lines=2)
    for number, line in enumerate(lines):
        canvas.drawString(x + pad, y + BADGE_H - pad - (3.5 + 3.8 * number) * mm, line)
    canvas.drawString(x + pad, y + BADGE_H - pad - (3.5 + 3.8 * len(lines)) * mm,
                      f"{session_name} · 工位牌")
    canvas.setFont(font, 11)
    canvas.drawString(x + pad, y + BADGE_H - pad - 19 * mm, "赛位号")
    canvas.setFont("Helvetica-Bold", 40)
    canvas.drawString(x + pad, y + BADGE_H - pad - 34 * mm, badge.station)
    canvas.setFont(font, 7.5)
    canvas.setFillColor(colors.HexColor("#444444"))
    canvas.drawString(x + pad, y + pad + 5.5 * mm, "扫码登录；无法扫码时输入下方编码")
    canvas.drawString(x + pad, y + pad + 2 * mm, "请勿遮挡、折叠或带离考场")
    canvas.setFillColor(colors.black)
    canvas.setFont("Courier-Bold", 12)
    canvas.drawCentredString(x + BADGE_W - pad - QR_SIZE / 2, y + pad + 1.5 * mm,
                             badge.fallback_display)


def render_badges(badges: Sequence[BadgeSecrets], *, event_name: str, session_name: str,
                  font_config: str = "") -> bytes:
    font = use_font(font_config)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{event_name} 工位牌")
    canvas.setAuthor("kiosk")
    page_w, page_h = A4
    margin_x = (page_w - COLUMNS * BADGE_W) / 2
    margin_y = (page_h - ROWS * BADGE_H) / 2
    per_page = COLUMNS * ROWS
    for index, badge in enumerate(badges):
        if index and index % per_page == 0:
            canvas.showPage()
        slot = index % per_page
        column, row = slot % COLUMNS, slot // COLUMNS
        x = margin_x + column * BADGE_W
        y = page_h - margin_y - (row + 1) * BADGE_H
        _badge(canvas, font, badge, x, y, event_name, session_name)
    if not badges:
        canvas.setFont(font, 12)
        canvas.drawString(20 * mm, page_h - 30 * mm, "没有要打印的工位牌")
    canvas.save()
    return buffer.getvalue()
