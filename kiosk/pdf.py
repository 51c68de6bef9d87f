"""A4 PDFs with embedded Chinese text: check-in sheets, draw records, badges, receipts, results.

Shared pieces: tables, signature lines, QR codes, and the audit checkpoint band that every paper
record carries (docs/audit-checkpoints.md).

Every PDF embeds a TrueType CJK font. reportlab's built-in `STSong-Light` is a CID font that is
*not* embedded: it prints as empty boxes wherever the viewer lacks the font, so it is never used.
reportlab also rejects CFF-outline fonts such as Noto Sans CJK `.otf`; a `.ttf` or `.ttc` with
TrueType outlines is needed (Windows: SimHei, SimSun, Microsoft YaHei; Debian: fonts-wqy-zenhei).

Paper that people sign (docs/pdf.md): a character the font lacks is drawn with a look-alike
glyph of the same font (`GLYPH_STANDINS`: the minus sign, which wqy-zenhei lacks, as its en
dash), so nothing prints as a gap; lines break between Chinese characters and at spaces, never
inside a Latin word, a number, a code or a hash group (`line_breaks`); a table's columns are
widened until no heading and no such word has to break (`table`); and signature lines stay on
the page of the last rows they sign (`signed`).
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
from reportlab.platypus.paragraph import ParaLines, _handleBulletWidth, cjkU, makeCJKParaLine
from reportlab.rl_config import _FUZZ

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


# Characters kiosk's paper uses that CJK fonts may lack, and the glyphs (of the same font) that
# stand in for them, best first. The text layer keeps the real character: copying or searching
# the PDF finds "−", while the page shows the en dash, which in wqy-zenhei has the minus sign's
# length and height. Without a stand-in reportlab draws glyph 0: nothing, and "\x00" in the text.
GLYPH_STANDINS: dict[str, str] = {
    "\u2212": "\u2013\uff0d-",  # MINUS SIGN: en dash, full-width hyphen-minus, hyphen
    "\u2011": "-\u2010",  # NON-BREAKING HYPHEN
    "\u2010": "-",  # HYPHEN
    "\u2009": " ",  # THIN SPACE
    "\u202f": " ",  # NARROW NO-BREAK SPACE
}


def add_glyph_standins(font: TTFont) -> None:
    face = font.face
    for char, candidates in GLYPH_STANDINS.items():
        if ord(char) in face.charToGlyph:
            continue
        for candidate in candidates:
            if ord(candidate) in face.charToGlyph:
                face.charToGlyph[ord(char)] = face.charToGlyph[ord(candidate)]
                face.charWidths[ord(char)] = face.charWidths[ord(candidate)]
                break


def has_glyph(char: str, font: str = FONT_NAME) -> bool:
    """Whether `font` (registered) draws `char` (stand-ins included)."""
    face = getattr(pdfmetrics.getFont(font), "face", None)
    return face is None or ord(char) in face.charToGlyph


@cache
def register_font(path: str, index: int) -> str:
    try:
        font = TTFont(FONT_NAME, path, subfontIndex=index)
    except TTFError as exc:
        # Typically a CFF-outline (.otf) font such as Noto Sans CJK, which reportlab cannot use.
        raise FontMissing(N_("The font %(path)s cannot be embedded (%(reason)s); use a TrueType "
                             "font such as wqy-zenhei or SimHei."),
                          path=path, reason=str(exc)) from exc
    add_glyph_standins(font)
    pdfmetrics.registerFont(font)
    return FONT_NAME


def use_font(configured: str = "") -> str:
    choice = find_cjk_font(configured)
    return register_font(str(choice.path), choice.index)


# ----------------------------------------------------------------------------- line breaking

# Kinsoku (禁则): what may not begin a line, and what may not end one.
NO_LINE_START = frozenset("，。、；：？！）］｝」』】〕〉》”’·…—–−‐‑-%‰℃°,.;:!?)]}"
                          "\u3001\u3002\u300d\u300f\u3011\u3015\uff09\u30fb\u2032\u2033")
NO_LINE_END = frozenset("（［｛「『【〔〈《“‘([{$¥£#@§")


def _wide(char: str) -> bool:
    """Chinese, Japanese and full-width characters: a line may break before and after each."""
    return "\u2e80" <= char <= "\ua4cf" or "\uac00" <= char <= "\ud7af" or \
        "\uf900" <= char <= "\ufaff" or "\ufe30" <= char <= "\ufe4f" or \
        "\uff00" <= char <= "\uffef" or "\U00020000" <= char <= "\U0003ffff"


def may_break_before(text: Sequence[str], index: int) -> bool:
    """May a line begin at text[index]? Between Chinese characters and after a space, yes;
    inside a run of Latin letters, digits and signs (a word, a number, a code, a masked ID
    number, a group of a hash), never; nor before a closing or after an opening mark."""
    if index <= 0 or index >= len(text):
        return False
    before, char = text[index - 1], text[index]
    if not before or not char or char.isspace():
        return False
    if before.isspace():
        return True
    if char in NO_LINE_START or before in NO_LINE_END:
        return False
    return _wide(before) or _wide(char)


def line_breaks(chars: Sequence[str], widths: Sequence[float], max_widths: Sequence[float],
                hard: Sequence[bool] = ()) -> list[tuple[int, int, float]]:
    """Greedy lines over `chars`: (start, end, width) each, end exclusive; trailing spaces are
    on the line but not in its width. A line breaks at the last place `may_break_before`
    allows; only a single word wider than the whole line is cut inside (callers size columns
    so that this does not happen: `table`). `hard[i]` ends a line after chars[i]."""
    lines: list[tuple[int, int, float]] = []
    count = len(chars)

    def close(start: int, end: int) -> None:
        last = end
        while last > start and chars[last - 1].isspace():
            last -= 1
        lines.append((start, end, sum(widths[start:last])))

    start = index = 0
    used, last_break = 0.0, 0
    while index < count:
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        if hard and hard[index]:
            close(start, index + 1)
            start = index = index + 1
            used, last_break = 0.0, 0
            continue
        if index > start and may_break_before(chars, index):
            last_break = index
        used += widths[index]
        if used > limit + _FUZZ and index > start and not chars[index].isspace():
            cut = last_break if last_break > start else index
            close(start, cut)
            start = index = cut
            used, last_break = 0.0, 0
            continue
        index += 1
    if start < count or not lines:
        close(start, count)
    return lines


def canvas_lines(canvas: Canvas, text: str, font: str, size: float, width: float,
                 max_lines: int) -> list[str]:
    """`text` in lines of `width` for drawing on a canvas, broken as paragraphs are
    (`line_breaks`); the last line ends with … if text is left."""
    chars = list(text)
    widths = [canvas.stringWidth(char, font, size) for char in chars]
    spans = line_breaks(chars, widths, [width])
    lines = [text[start:end].rstrip() for start, end, _width in spans]
    if len(lines) > max_lines:
        last = text[spans[max_lines - 1][0]:].rstrip()
        while last and canvas.stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last + "…"]
    return lines


def unbreakable_width(text: str, font: str, size: float) -> float:
    """The width of the widest piece of `text` that `line_breaks` keeps on one line."""
    widest, start = 0.0, 0
    for index in range(1, len(text) + 1):
        if index == len(text) or may_break_before(text, index):
            widest = max(widest, pdfmetrics.stringWidth(text[start:index].rstrip(), font, size))
            start = index
    return widest


class TextParagraph(Paragraph):
    """A paragraph that breaks lines by `line_breaks`: reportlab's CJK wrapping breaks anywhere,
    inside "4209**********4782" or a hash as readily as between two Chinese characters."""

    def breakLinesCJK(self, maxWidths):
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        if hasattr(self, "blPara") and getattr(self, "_splitpara", 0):
            return self.blPara
        style = self.style
        self.height = 0
        # A table wraps each cell several times at the same width (fitting, splitting pages).
        key = tuple(maxWidths)
        if getattr(self, "_broken_at", None) == key:
            return self._broken
        maxWidths = list(maxWidths)
        _handleBulletWidth(self.bulletText, style, maxWidths)
        units = []
        for frag in self.frags:
            text = frag.text.decode("utf8") if isinstance(frag.text, bytes) else frag.text
            if text:
                units.extend(cjkU(char, frag, "utf8") for char in text)
            else:
                units.append(cjkU(text, frag, "utf8"))
        if not units:
            return ParaLines(kind=0, fontSize=style.fontSize, fontName=style.fontName,
                             textColor=style.textColor, lines=[], ascent=style.fontSize,
                             descent=-0.2 * style.fontSize)
        calc_bounds = getattr(self, "autoLeading", getattr(style, "autoLeading", "")) \
            not in ("", "off")
        hard = [hasattr(u.frag, "lineBreak") for u in units]
        lines = []
        for number, (start, end, width) in enumerate(line_breaks(
                units, [u.width for u in units], maxWidths, hard)):
            max_width = maxWidths[min(number, len(maxWidths) - 1)]
            lines.append(makeCJKParaLine(units[start:end], max_width, width, max_width - width,
                                         hard[end - 1], calc_bounds))
        self._broken_at, self._broken = key, ParaLines(kind=1, lines=lines)
        return self._broken


# ----------------------------------------------------------------------------- styles

@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    heading: ParagraphStyle  # a table's column headings


def styles(font: str, cell_size: float = 10) -> Styles:
    # wordWrap "CJK" routes every paragraph through TextParagraph.breakLinesCJK.
    return Styles(
        title=ParagraphStyle("title", fontName=font, fontSize=18, leading=24,
                             alignment=TA_CENTER, spaceAfter=4 * mm, wordWrap="CJK"),
        subtitle=ParagraphStyle("subtitle", fontName=font, fontSize=11, leading=15,
                                alignment=TA_CENTER, spaceAfter=4 * mm, textColor=colors.grey,
                                wordWrap="CJK"),
        body=ParagraphStyle("body", fontName=font, fontSize=11, leading=16,
                            wordWrap="CJK"),
        small=ParagraphStyle("small", fontName=font, fontSize=8.5, leading=11,
                             textColor=colors.grey, wordWrap="CJK"),
        cell=ParagraphStyle("cell", fontName=font, fontSize=cell_size, leading=cell_size * 1.3,
                            wordWrap="CJK"),
        heading=ParagraphStyle("heading", fontName=font, fontSize=cell_size,
                               leading=cell_size * 1.3, wordWrap="CJK"),
    )


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: names and question stems may contain <, & or markup, which
    reportlab would otherwise interpret."""
    return TextParagraph(escape(text).replace("\n", "<br/>"), style)


def hex_groups(hex_text: str, size: int = 8) -> str:
    """A hash as people compare it, in groups of `size` that lines break between."""
    return " ".join(hex_text[i:i + size] for i in range(0, len(hex_text), size))


CELL_PADDING = 3  # points left and right of a cell's text
TABLE_WIDTH = PAGE[0] - 36 * mm  # what build_document's margins leave
SMALLEST_CELL_TEXT = 7


def fitted_widths(rows: Sequence[Sequence[object]], col_widths: Sequence[float], font: str,
                  size: float, header_rows: int = 1,
                  max_width: float = TABLE_WIDTH) -> list[float] | None:
    """`col_widths`, changed as little as it takes for every heading to fit on one line and no
    word, number or code in a cell to break: a column that is too narrow for its longest such
    piece widens, taking room from columns of breakable text (names of units) and, if that is
    not enough, from the page's margin up to `max_width`. None if even that is not enough."""
    needed = []
    for column in range(len(col_widths)):
        widest = 0.0
        for number, row in enumerate(rows):
            cell = row[column] if column < len(row) else None
            if cell is None or isinstance(cell, Flowable):
                continue
            text = str(cell)
            if number < header_rows:
                piece = max(pdfmetrics.stringWidth(line, font, size) for line in text.split("\n"))
            else:
                piece = max(unbreakable_width(line, font, size) for line in text.split("\n"))
            widest = max(widest, piece)
        needed.append(widest + 2 * CELL_PADDING + 0.5)
    widths = [max(given, need) for given, need in zip(col_widths, needed, strict=True)]
    budget = max(sum(col_widths), min(max_width, sum(needed)))
    excess = sum(widths) - budget
    if excess > 0:
        slack = [w - need for w, need in zip(widths, needed, strict=True)]
        total_slack = sum(slack)
        if total_slack < excess:
            return None
        widths = [w - excess * s / total_slack for w, s in zip(widths, slack, strict=True)]
    return widths


def table(rows: Sequence[Sequence[object]], col_widths: Sequence[float], font: str,
          header_rows: int = 1, row_height: float | None = None) -> Table:
    """A ruled table with its heading repeated on every page. Columns are fitted to their
    content (`fitted_widths`); if a table cannot fit at 10 pt, its text gets smaller.
    `row_height`: at least this tall, for a row that someone signs in."""
    size = 10.0
    widths = fitted_widths(rows, col_widths, font, size, header_rows)
    while widths is None and size > SMALLEST_CELL_TEXT:
        size -= 0.5
        widths = fitted_widths(rows, col_widths, font, size, header_rows)
    if widths is None:
        widths = list(col_widths)
    st = styles(font, size)
    cells = [[c if isinstance(c, Flowable) else
              para("" if c is None else str(c), st.heading if number < header_rows else st.cell)
              for c in row] for number, row in enumerate(rows)]
    heights = None if row_height is None else \
        [None] * header_rows + [row_height] * (len(rows) - header_rows)
    t = Table(cells, colWidths=widths, rowHeights=heights, repeatRows=header_rows)
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8ebf0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
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


SIGNED_ROWS = 3  # rows of a table that go over to the next page with its signature lines


class Signed(Flowable):
    """A table and what follows it (notes, the signature lines), kept so that the signatures
    never stand alone on a page: when the whole does not fit, the table is split early enough
    that its last `keep` rows go over with them (under the repeated heading)."""

    def __init__(self, table: Table, tail: Sequence[Flowable], keep: int = SIGNED_ROWS):
        super().__init__()
        self.table, self.tail, self.keep = table, list(tail), keep

    def _sizes(self, width: float, height: float) -> list[tuple[Flowable, float, float]]:
        return [(f, *f.wrapOn(self.canv, width, height)) for f in (self.table, *self.tail)]

    def wrap(self, availWidth, availHeight):
        self._wrapped = self._sizes(availWidth, availHeight)
        self.width = availWidth
        self.height = sum(h for _f, _w, h in self._wrapped)
        return self.width, self.height

    def draw(self):
        y = self.height
        for flowable, width, height in self._wrapped:
            y -= height
            align = getattr(flowable, "hAlign", "LEFT")
            x = {"CENTER": (self.width - width) / 2, "CENTRE": (self.width - width) / 2,
                 "RIGHT": self.width - width}.get(align, 0)
            flowable.drawOn(self.canv, x, y)

    def split(self, availWidth, availHeight):
        self.table.wrapOn(self.canv, availWidth, availHeight)
        heights = self.table._rowHeights
        header = self.table.repeatRows
        data_rows = len(heights) - header
        keep = min(self.keep, data_rows)
        rows, used = 0, 0.0
        for height in heights:
            if used + height > availHeight + _FUZZ:
                break
            used, rows = used + height, rows + 1
        rows = min(rows, len(heights) - keep)
        if rows <= header:
            return []  # nothing of the table fits here: all of it goes to the next page
        first_height = sum(heights[:rows])
        parts = self.table.split(availWidth, first_height + _FUZZ)
        if len(parts) != 2:
            return []
        return [parts[0], Signed(parts[1], self.tail, self.keep)]


def signed(table: Table, *tail: Flowable, keep: int = SIGNED_ROWS) -> Signed:
    return Signed(table, tail, keep)


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


# ----------------------------------------------------------------------------- audit checkpoint

CHECKPOINT_BAND = 25 * mm  # height of the checkpoint band at the foot of a record's pages
CHECKPOINT_QR = 24 * mm


def checkpoint_groups(text: str, size: int = 8) -> str:
    """A checkpoint's text to type by hand: its long fields (hash, signature) in groups of
    `size`, so that lines break only between groups; `parse_checkpoint` ignores the spaces."""
    fields = text.split(".")
    return " ".join((hex_groups(field, size) if len(field) > 2 * size else field)
                    + ("." if number < len(fields) - 1 else "")
                    for number, field in enumerate(fields))


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
        for line in canvas_lines(canvas, text, font, size, width, 2):
            canvas.drawString(x, y, line)
            y -= 3.8 * mm
    canvas.setFont("Courier-Bold", 8)
    canvas.drawString(x, y, f"SHA-256 {hex_groups(checkpoint.hash[:16], 4)} …")
    y -= 3.2 * mm
    # The whole line, to type when the QR cannot be read; Courier keeps every character apart.
    canvas.setFont("Courier", 5.2)
    for line in canvas_lines(canvas, checkpoint_groups(checkpoint.text), "Courier", 5.2, width, 8):
        canvas.drawString(x, y, line)
        y -= 2.3 * mm
    canvas.setFont(font, 6)
    canvas.setFillColor(colors.grey)
    for line in canvas_lines(canvas, "核对：监督人员在审计日志页面扫码，或运行 kiosk audit verify "
                     "--checkpoint <上述文本>", font, 6, width, 2):
        y -= 0.4 * mm
        canvas.drawString(x, y, line)
        y -= 2.6 * mm
    canvas.setFillColor(colors.black)
    return y


# ----------------------------------------------------------------------------- documents

class PageStamp:
    """What each page from some point of a document on is stamped with, e.g. the station and
    the hash of its paper in a stack of every station's paper: `mark(value)` is a flowable that
    sets the value where it stands (at the top of a page: each part begins on a new page), and
    `build_document(stamp=…)` calls `draw(canvas, font, value, page)` at the end of every page,
    `page` counting the pages since the value was set. `on_mark(value)`, if given, is called
    as each mark is laid out: how far a long document has got (kiosk/progress.py)."""

    def __init__(self, draw: Callable[[Canvas, str, object, int], None],
                 on_mark: Callable[[object], None] | None = None) -> None:
        self.draw = draw
        self.on_mark = on_mark
        self.value: object = None
        self.page = 0

    def mark(self, value: object) -> Flowable:
        return _StampMark(self, value)


class _StampMark(Flowable):
    def __init__(self, stamp: PageStamp, value: object) -> None:
        super().__init__()
        self.stamp, self.value = stamp, value
        self.width = self.height = 0

    def wrap(self, availWidth, availHeight):
        return 0, 0

    def draw(self):
        self.stamp.value, self.stamp.page = self.value, 0
        if self.stamp.on_mark is not None:
            self.stamp.on_mark(self.value)


class _StampedDocument(SimpleDocTemplate):
    def __init__(self, *args, stamp: PageStamp, font: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stamp, self.stamp_font = stamp, font

    def afterPage(self):
        if self.stamp.value is not None:
            self.stamp.page += 1
            self.canv.saveState()
            self.stamp.draw(self.canv, self.stamp_font, self.stamp.value, self.stamp.page)
            self.canv.restoreState()


def build_document(story_for: Callable[[str, Styles], list[Flowable]], *, title: str,
                   checkpoint: Checkpoint | None, footer: str = "",
                   font_config: str = "", stamp: PageStamp | None = None,
                   top_margin: float = 18 * mm) -> bytes:
    """An A4 PDF: `story_for(font, styles)` returns the flowables; pages carry a footer with the
    page number, so a loose sheet can be put back in order. A record passes the `checkpoint`
    current at printing: every page carries it above the footer, so a single sheet that leaves
    the envelope still names the audit log's state when it was printed. A `stamp`
    (`PageStamp`) is drawn at the end of every page: what its marks in the story set."""
    font = use_font(font_config)
    buffer = io.BytesIO()
    band = CHECKPOINT_BAND + 4 * mm if checkpoint else 0
    kind, extra = (SimpleDocTemplate, {}) if stamp is None else \
        (_StampedDocument, {"stamp": stamp, "font": font})
    doc = kind(buffer, pagesize=PAGE, title=title, author="kiosk",
               leftMargin=18 * mm, rightMargin=18 * mm, topMargin=top_margin,
               bottomMargin=20 * mm + band, **extra)

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
