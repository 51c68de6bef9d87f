"""The printed hall map (场地布局图): one landscape A3 page for the field judges' table and the
hall's door, station codes large, drawn from the layout in force (kiosk.field.hall_layout).

The same geometry as the board's map (`Layout.geometry`): seats one unit wide, aisles and cross
aisles narrower; the page scales the whole hall to fit. Spare stations and spare seats have a
dashed outline and say 备用; landmarks are grey boxes with their text; each row of seats is
numbered at the left (第 N 排), as the check-in desk names a seat.
"""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A3, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from kiosk.clock import local_display
from kiosk.errors import N_, NotFound
from kiosk.field import hall_layout
from kiosk.pdf import use_font

PAGE = landscape(A3)
MARGIN = 12 * mm
HEADER = 22 * mm
FOOTER = 12 * mm
ROW_LABELS = 16 * mm
MAX_UNIT = 38 * mm
CODE_FONT = "Helvetica-Bold"


def _fit(text: str, font: str, size: float, width: float) -> float:
    """`size`, or smaller until `text` fits `width`."""
    wide = stringWidth(text, font, size)
    return size if wide <= width else max(size * width / wide, 4)


def render(session: Session, *, event_name: str, font_config: str = "",
           now: datetime) -> bytes:
    stored = hall_layout.stored(session)
    if stored is None:
        raise NotFound(N_("No hall layout has been imported yet: kiosk hall layout import "
                          "FILE, or the Hall layout page."))
    _codes, spare_codes = hall_layout.event_stations(session)
    return draw(stored.layout, spare_codes, event_name=event_name, font_config=font_config,
                printed=local_display(now, "%Y-%m-%d %H:%M"), sha256=stored.row.sha256)


def draw(layout: hall_layout.Layout, spare_codes: set[str], *, event_name: str,
         font_config: str = "", printed: str = "", sha256: str = "") -> bytes:
    font = use_font(font_config)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(f"{event_name} 场地布局图")
    canvas.setAuthor("kiosk")
    width, height = PAGE
    _header(canvas, font, layout, event_name, width, height)
    xs, ys = layout.geometry()
    area_w = width - 2 * MARGIN - ROW_LABELS
    area_h = height - 2 * MARGIN - HEADER - FOOTER
    unit = min(area_w / max(xs[-1], 1), area_h / max(ys[-1], 1), MAX_UNIT)
    left = MARGIN + ROW_LABELS + (area_w - unit * xs[-1]) / 2
    top = height - MARGIN - HEADER - (area_h - unit * ys[-1]) / 2

    def box(item: hall_layout.Item) -> tuple[float, float, float, float]:
        x0, x1 = xs[item.col], xs[min(item.col + item.width, layout.columns)]
        y0, y1 = ys[item.row], ys[item.row + item.height]
        pad = unit * 0.05
        return (left + x0 * unit + pad, top - y1 * unit + pad,
                (x1 - x0) * unit - 2 * pad, (y1 - y0) * unit - 2 * pad)

    numbers: dict[int, int] = {}
    for item in layout.items:
        x, y, w, h = box(item)
        if item.seat:
            numbers[item.row] = item.seat[0]
        if item.kind == "aisle":
            _aisle(canvas, font, item.label, left, y, unit * xs[-1], h)
        elif item.kind == "landmark":
            _landmark(canvas, font, item.label, x, y, w, h)
        else:
            spare = item.kind == "spare" or item.label in spare_codes
            _seat(canvas, font, item, x, y, w, h, spare)
    canvas.setFillColor(colors.HexColor("#444444"))
    for row, number in numbers.items():
        label = f"第{number}排"
        size = _fit(label, font, min(11, unit * 0.28), ROW_LABELS - 2 * mm)
        canvas.setFont(font, size)
        mid = top - (ys[row] + ys[row + 1]) / 2 * unit
        canvas.drawRightString(left - 3 * mm, mid - size / 3, label)
    _footer(canvas, font, layout, width, printed, sha256)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(canvas: Canvas, font: str, layout: hall_layout.Layout, event_name: str,
            width: float, height: float) -> None:
    canvas.setFillColor(colors.black)
    title = "场地布局图" + (f" · {layout.title}" if layout.title else "")
    canvas.setFont(font, _fit(title, font, 22, width - 2 * MARGIN))
    canvas.drawString(MARGIN, height - MARGIN - 9 * mm, title)
    canvas.setFont(font, 11)
    canvas.setFillColor(colors.HexColor("#444444"))
    canvas.drawString(MARGIN, height - MARGIN - 16 * mm, event_name)
    counts = f"赛位 {len(layout.stations)} 个 · 备用工位 {len(layout.spare_seats)} 个"
    canvas.drawRightString(width - MARGIN, height - MARGIN - 16 * mm, counts)


def _footer(canvas: Canvas, font: str, layout: hall_layout.Layout, width: float,
            printed: str, sha256: str) -> None:
    canvas.setFont(font, 9)
    canvas.setFillColor(colors.HexColor("#444444"))
    legend = ("图例：实线框 赛位（赛位号）　虚线框 备用工位 / 备用赛位　灰色框 场地设施　"
              "空白条 通道　上方为场地前方（绘制方向），排从前往后数，座从左往右数")
    canvas.drawString(MARGIN, MARGIN + 4 * mm, legend)
    right = "打印时间 " + printed if printed else ""
    if sha256:
        right += f" · 布局 SHA-256 {sha256[:16]}"
    canvas.drawRightString(width - MARGIN, MARGIN, right)


def _seat(canvas: Canvas, font: str, item: hall_layout.Item, x: float, y: float, w: float,
          h: float, spare: bool) -> None:
    canvas.setLineWidth(1.6 if not spare else 1.0)
    canvas.setStrokeColor(colors.black)
    if spare:
        canvas.setDash(4, 3)
    canvas.setFillColor(colors.white)
    canvas.roundRect(x, y, w, h, min(w, h) * 0.08, stroke=1, fill=1)
    canvas.setDash()
    canvas.setFillColor(colors.black)
    code = item.label
    note = ("备用工位" if item.kind == "spare" else "备用") if spare else ""
    if code:
        size = _fit(code, CODE_FONT if item.kind == "station" else font, h * 0.42, w * 0.86)
        canvas.setFont(CODE_FONT if item.kind == "station" else font, size)
        canvas.drawCentredString(x + w / 2, y + h * (0.48 if note else 0.36), code)
    if note:
        size = _fit(note, font, h * (0.2 if code else 0.3), w * 0.86)
        canvas.setFont(font, size)
        canvas.drawCentredString(x + w / 2, y + h * (0.16 if code else 0.4), note)


def _landmark(canvas: Canvas, font: str, label: str, x: float, y: float, w: float,
              h: float) -> None:
    canvas.setFillColor(colors.HexColor("#e4e7ec"))
    canvas.setStrokeColor(colors.HexColor("#6b7280"))
    canvas.setLineWidth(0.8)
    canvas.rect(x, y, w, h, stroke=1, fill=1)
    canvas.setFillColor(colors.black)
    size = _fit(label, font, min(h * 0.4, 20), w * 0.9)
    canvas.setFont(font, size)
    canvas.drawCentredString(x + w / 2, y + h / 2 - size / 3, label)


def _aisle(canvas: Canvas, font: str, label: str, x: float, y: float, w: float,
           h: float) -> None:
    canvas.setStrokeColor(colors.HexColor("#9aa1ad"))
    canvas.setLineWidth(0.6)
    canvas.setDash(2, 3)
    canvas.line(x, y + h / 2, x + w, y + h / 2)
    canvas.setDash()
    if label:
        size = _fit(label, font, min(h * 0.55, 14), w)
        canvas.setFont(font, size)
        text_w = stringWidth(label, font, size)
        canvas.setFillColor(colors.white)
        canvas.rect(x + (w - text_w) / 2 - 2 * mm, y + h / 2 - size * 0.6, text_w + 4 * mm,
                    size * 1.2, stroke=0, fill=1)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawCentredString(x + w / 2, y + h / 2 - size / 3, label)
