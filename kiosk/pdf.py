"""A4 PDFs with embedded Chinese text: check-in sheets, draw records, badges, receipts, results.

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
from xml.sax.saxutils import escape

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

from kiosk.errors import N_, KioskError

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


# ----------------------------------------------------------------------------- documents

def build_document(story_for: Callable[[str, Styles], list[Flowable]], *, title: str,
                   footer: str = "", font_config: str = "") -> bytes:
    """An A4 PDF: `story_for(font, styles)` returns the flowables; pages carry a footer with the
    page number, so a loose sheet can be put back in order."""
    font = use_font(font_config)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, title=title, author="kiosk",
                            leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=20 * mm)

    def on_page(canvas: Canvas, document) -> None:
        canvas.saveState()
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
    return build_document(story, title=title, font_config=font_config)
