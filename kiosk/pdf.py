"""A4 PDFs with embedded Chinese text: check-in sheets, draw records, badges, receipts, results.

Shared pieces: tables, signature lines, QR codes, and the audit checkpoint band that every paper
record carries (docs/audit-checkpoints.md).

Every PDF embeds a TrueType CJK font. reportlab's built-in `STSong-Light` is a CID font that is
*not* embedded: it prints as empty boxes wherever the viewer lacks the font, so it is never used.
reportlab also rejects CFF-outline fonts such as Noto Sans CJK `.otf`; a `.ttf` or `.ttc` with
TrueType outlines is needed (Windows: SimHei, SimSun, Microsoft YaHei; Debian: fonts-wqy-zenhei).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from kiosk.clock import local_display
from kiosk.errors import N_, KioskError

if TYPE_CHECKING:  # the band only reads a checkpoint; pdf.py stays free of the database
    from kiosk.checkpoints import Checkpoint

FONT_NAME = "KioskCJK"
PAGE = A4

_windows_fonts = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
# (path, index inside a .ttc collection); searched in this order.
KNOWN_FONTS: list[tuple[Path, int]] = [
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (_windows_fonts / "simhei.ttf", 0),
    (_windows_fonts / "msyh.ttc", 0),
    (_windows_fonts / "simsun.ttc", 0),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),
    (Path("/Library/Fonts/Arial Unicode.ttf"), 0),
]


class FontMissing(KioskError):
    code = "font_missing"
    status = 500


@dataclass(frozen=True)
class FontChoice:
    path: Path
    index: int


def find_cjk_font(configured: str = "") -> FontChoice:
    """The configured font, else the first known system font; else say what to install."""
    if configured:
        path, _, index = configured.partition("#")
        choice = FontChoice(Path(path), int(index or 0))
        if not choice.path.is_file():
            raise FontMissing(N_("The configured PDF font %(path)s does not exist."),
                              path=str(choice.path))
        return choice
    for path, index in KNOWN_FONTS:
        if path.is_file():
            return FontChoice(path, index)
    raise FontMissing(N_(
        "No Chinese TrueType font found for PDFs. Install one (Debian: apt install "
        "fonts-wqy-zenhei; Windows has SimHei) or set pdf_font in config.toml."))


@cache
def register_font(path: str, index: int) -> str:
    try:
        pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
    except TTFError as exc:
        # Typically a CFF-outline (.otf) font such as Noto Sans CJK, which reportlab cannot use.
        raise FontMissing(N_("The font %(path)s cannot be embedded (%(reason)s); use a TrueType "
                             "font such as wqy-zenhei or SimHei."),
                          path=path, reason=str(exc)) from exc
    return FONT_NAME


def use_font(configured: str = "") -> str:
    choice = find_cjk_font(configured)
    return register_font(str(choice.path), choice.index)


# ----------------------------------------------------------------------------- styles

@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle


def styles(font: str) -> Styles:
    return Styles(
        title=ParagraphStyle("title", fontName=font, fontSize=18, leading=24,
                             alignment=TA_CENTER, spaceAfter=4 * mm),
        subtitle=ParagraphStyle("subtitle", fontName=font, fontSize=11, leading=15,
                                alignment=TA_CENTER, spaceAfter=4 * mm, textColor=colors.grey),
        body=ParagraphStyle("body", fontName=font, fontSize=11, leading=16,
                            wordWrap="CJK"),
        small=ParagraphStyle("small", fontName=font, fontSize=8.5, leading=11,
                             textColor=colors.grey, wordWrap="CJK"),
        cell=ParagraphStyle("cell", fontName=font, fontSize=10, leading=13, wordWrap="CJK"),
    )


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: names and question stems may contain <, & or markup, which
    reportlab would otherwise interpret."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def table(rows: Sequence[Sequence[object]], col_widths: Sequence[float], font: str,
          header_rows: int = 1) -> Table:
    st = styles(font)
    cells = [[c if isinstance(c, Flowable) else para("" if c is None else str(c), st.cell)
              for c in row] for row in rows]
    t = Table(cells, colWidths=col_widths, repeatRows=header_rows)
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8ebf0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


def signature_block(labels: Sequence[str], font: str, width: float = 170 * mm) -> Table:
    """Lines for people to sign and date: '裁判长签字：______  日期：______'."""
    st = styles(font)
    rows = [[para(f"{label}：", st.body), "", para("日期：", st.body), ""] for label in labels]
    t = Table(rows, colWidths=[width * 0.28, width * 0.37, width * 0.12, width * 0.23],
              rowHeights=14 * mm)
    t.setStyle(TableStyle([
        ("LINEBELOW", (1, 0), (1, -1), 0.7, colors.black),
        ("LINEBELOW", (3, 0), (3, -1), 0.7, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    ]))
    return t


# ----------------------------------------------------------------------------- QR codes

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def qr_matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(text.encode("ascii"), optimize=0)
    code.make(fit=True)
    return code.get_matrix()


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code with its quiet zone inside the square (x, y, size), runs merged per row."""
    matrix = qr_matrix(text)
    count = len(matrix) + 2 * QUIET_ZONE
    module = size / count
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + QUIET_ZONE + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            # A hair of overlap closes the seams some renderers draw between touching boxes.
            canvas.rect(x + (start + QUIET_ZONE) * module, top, (column - start) * module + 0.05,
                        module + 0.05, stroke=0, fill=1)


def wrap(canvas: Canvas, text: str, font: str, size: float, width: float,
         max_lines: int) -> list[str]:
    """Break Chinese text (no spaces) by width; the last line ends with … if text is left."""
    lines: list[str] = []
    current = ""
    for char in text:
        if canvas.stringWidth(current + char, font, size) > width:
            lines.append(current)
            current = char
        else:
            current += char
    lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


# ----------------------------------------------------------------------------- audit checkpoint

CHECKPOINT_BAND = 25 * mm  # height of the checkpoint band at the foot of a record's pages
CHECKPOINT_QR = 24 * mm


def grouped(hex_text: str, size: int = 4) -> str:
    return " ".join(hex_text[i:i + size] for i in range(0, len(hex_text), size))


def draw_checkpoint(canvas: Canvas, checkpoint: Checkpoint, font: str, x: float, y: float,
                    width: float, qr_size: float = CHECKPOINT_QR) -> None:
    """The signed audit checkpoint current at printing, in a band of height `qr_size` whose
    lower left corner is (x, y): its QR code at the right, at the left what a person compares
    (event number, the hash's first 16 hex digits, time) and the full text to type if the QR
    cannot be scanned. Every paper record carries one (docs/audit-checkpoints.md)."""
    canvas.saveState()
    draw_qr(canvas, checkpoint.text, x + width - qr_size, y, qr_size)
    _checkpoint_text(canvas, checkpoint, font, x, y + qr_size, width - qr_size - 3 * mm)
    canvas.restoreState()


NARROW_CHECKPOINT_HEIGHT = 55 * mm  # `draw_checkpoint_narrow` at a 30 mm QR on a 70 mm roll


def draw_checkpoint_narrow(canvas: Canvas, checkpoint: Checkpoint, font: str, x: float,
                           top: float, width: float, qr_size: float = 30 * mm) -> None:
    """The same for a receipt roll: the text first, the QR code under it, centred."""
    canvas.saveState()
    bottom = _checkpoint_text(canvas, checkpoint, font, x, top, width)
    draw_qr(canvas, checkpoint.text, x + (width - qr_size) / 2, bottom - qr_size - 1 * mm,
            qr_size)
    canvas.restoreState()


def _checkpoint_text(canvas: Canvas, checkpoint: Checkpoint, font: str, x: float, top: float,
                     width: float) -> float:
    """The lines of a checkpoint from `top` down in `width`; returns where they end."""
    y = top - 3.2 * mm
    canvas.setFillColor(colors.black)
    for text, size in (("审计检查点（打印时审计日志的状态，经服务器签名）", 8),
                       (f"事件 {checkpoint.seq}　签发 {local_display(checkpoint.at)}", 7.5)):
        canvas.setFont(font, size)
        for line in wrap(canvas, text, font, size, width, 2):
            canvas.drawString(x, y, line)
            y -= 3.8 * mm
    canvas.setFont("Courier-Bold", 8)
    canvas.drawString(x, y, f"SHA-256 {grouped(checkpoint.hash[:16])} …")
    y -= 3.2 * mm
    # The whole line, to type when the QR cannot be read; Courier keeps every character apart.
    canvas.setFont("Courier", 5.2)
    per_line = max(20, int(width / canvas.stringWidth("M", "Courier", 5.2)))
    text = checkpoint.text
    for start in range(0, len(text), per_line):
        canvas.drawString(x, y, text[start:start + per_line])
        y -= 2.3 * mm
    canvas.setFont(font, 6)
    canvas.setFillColor(colors.grey)
    for line in wrap(canvas, "核对：监督在审计日志页面扫码，或运行 kiosk audit verify "
                     "--checkpoint <上述文本>", font, 6, width, 2):
        y -= 0.4 * mm
        canvas.drawString(x, y, line)
        y -= 2.6 * mm
    canvas.setFillColor(colors.black)
    return y


# ----------------------------------------------------------------------------- documents

def build_document(story_for: Callable[[str, Styles], list[Flowable]], *, title: str,
                   checkpoint: Checkpoint | None, footer: str = "",
                   font_config: str = "") -> bytes:
    """An A4 PDF: `story_for(font, styles)` returns the flowables; pages carry a footer with the
    page number, so a loose sheet can be put back in order. A record passes the `checkpoint`
    current at printing: every page carries it above the footer, so a single sheet that leaves
    the envelope still names the audit log's state when it was printed."""
    font = use_font(font_config)
    buffer = io.BytesIO()
    band = CHECKPOINT_BAND + 4 * mm if checkpoint else 0
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, title=title, author="kiosk",
                            leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=20 * mm + band)

    def on_page(canvas: Canvas, document) -> None:
        canvas.saveState()
        if checkpoint:
            draw_checkpoint(canvas, checkpoint, font, 18 * mm, 15 * mm, PAGE[0] - 36 * mm)
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(18 * mm, 10 * mm, footer or title)
        canvas.drawRightString(PAGE[0] - 18 * mm, 10 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story_for(font, styles(font)), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def simple_document(title: str, lines: Sequence[str], font_config: str = "") -> bytes:
    """Title and paragraphs: for checks and for `kiosk preflight`'s test page."""
    def story(font: str, st: Styles) -> list[Flowable]:
        return [para(title, st.title), *[para(line, st.body) for line in lines],
                Spacer(1, 10 * mm)]
    return build_document(story, title=title, checkpoint=None, font_config=font_config)
