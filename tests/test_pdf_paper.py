"""Paper that people sign, every PDF kind from demo-like data (tests/pdf_samples.py), read back
with pypdf as lines (text at one height on a page): every glyph is printed (no gap where the
font lacks a character: the formula's minus sign), no word, number, code, masked ID number or
hash group is cut across two lines, every column heading is whole, and signature lines share
their page with rows of what they sign."""

import re
from collections import defaultdict
from io import BytesIO

import pytest
from pypdf import PdfReader

from kiosk.checkin import idcard
from tests import pdf_samples as S


def groups(hex_text: str, size: int = 8) -> str:
    return " ".join(hex_text[i:i + size] for i in range(0, len(hex_text), size))


def page_lines(data: bytes) -> list[list[str]]:
    """Each page's lines, top to bottom: the text drawn at one height, left to right. A cell of
    a table row is a line of its own when it wraps; text that breaks lands on two lines."""
    return [[_cells(at[y]) for y in sorted(at, reverse=True)] for at, _w in _runs(data)]


def _runs(data: bytes) -> list[tuple[dict, float]]:
    pages = []
    for page in PdfReader(BytesIO(data)).pages:
        at = defaultdict(list)

        def visit(text, cm, tm, _font, size, at=at):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                at[round(y)].append((x, text.strip(), size * tm[0] * cm[0]))
        page.extract_text(visitor_text=visit)
        pages.append((at, float(page.mediabox.width)))
    return pages


def text_past_the_edge(data: bytes) -> list[str]:
    """Lines that run off the paper (each line's runs measured in the kiosk's font)."""
    from reportlab.pdfbase import pdfmetrics

    from kiosk import pdf

    font = pdf.use_font()
    past = []
    for at, width in _runs(data):
        for runs in at.values():
            x = max(x for x, _t, _s in runs)
            size = max(s for rx, _t, s in runs if rx == x)
            text = _cells(runs).split(" | ")[-1]
            if x + pdfmetrics.stringWidth(text, font, size) > width:
                past.append(text)
    return past


WORD = re.compile(r"[0-9A-Za-z][0-9A-Za-z*,.\-]*[0-9A-Za-z*]|[0-9A-Za-z]")


def assert_no_word_cut(data: bytes, source: str) -> None:
    """Every Latin word or number printed is one of `source`'s, or ends a shortened line (…)."""
    words = set(WORD.findall(source))
    for line in (line for page in page_lines(data) for line in page):
        for match in WORD.finditer(line):
            if match.group() not in words and not line[match.end():].startswith("…"):
                raise AssertionError(f"cut word {match.group()!r} in {line!r}")


def _cells(chunks: list[tuple[float, str, float]]) -> str:
    """A line's text, its cells apart by " | ". pypdf reports each text run with the position
    where its text object began, so the runs of one cell (reportlab starts a new run where a
    font subset of 256 glyphs ends) share an x and are joined in the order they were drawn."""
    cells: list[tuple[float, str]] = []
    for x, text, _size in sorted(chunks, key=lambda chunk: chunk[0]):
        if cells and abs(cells[-1][0] - x) < 0.5:
            cells[-1] = (x, cells[-1][1] + text)
        else:
            cells.append((x, text))
    return " | ".join(text for _x, text in cells)


def assert_paper(data: bytes, *, whole=(), hashes=(), signatures=(), rows=()):
    """`whole`: each on one line somewhere; `hashes`: in groups of 8, lines breaking only
    between groups; each of `signatures` on a page that also holds one of `rows`."""
    pages = page_lines(data)
    lines = [line for page in pages for line in page]
    assert not [line for line in lines if "\x00" in line], "a character the font lacks"
    broken = [token for token in whole if not any(token in line for line in lines)]
    assert not broken, f"not whole on one line: {broken[:5]}"
    running = " ".join(" ".join(line.replace(" | ", " ").split()) for line in lines)
    cut = [h for h in hashes if groups(h) not in running]
    assert not cut, f"hash cut inside a group: {cut}"
    for label in signatures:
        signed_pages = [page for page in pages if any(label in line for line in page)]
        assert signed_pages, f"no {label}"
        for page in signed_pages:
            cells = {cell for line in page for cell in line.split(" | ")}
            assert cells & set(rows), f"{label} stands alone on its page"


def checkpoint_band(text: str) -> str:
    fields = text.split(".")
    return " ".join((groups(f) if len(f) > 16 else f) + ("." if n < len(fields) - 1 else "")
                    for n, f in enumerate(fields))


BAND = [groups(S.AUDIT_HASH[:16], 4), f"事件 {S.CHECKPOINT.seq}"]


def assert_band(data: bytes) -> None:
    """The checkpoint's text to type: in groups, broken only between groups."""
    for page in page_lines(data):
        running = " ".join(" ".join(page).split())
        assert checkpoint_band(S.CHECKPOINT.text) in running


# ----------------------------------------------------------------------------- the glyphs

@pytest.mark.parametrize("sealed", [False, True])
def test_the_results_formula_prints_its_minus_sign(sealed):
    data = S.results(sealed=sealed)
    text = "\n".join(line for page in page_lines(data) for line in page)
    assert "实操成绩（满分 85）− 扣分" in text
    assert "\x00" not in text


def test_no_pdf_kind_prints_a_character_its_font_lacks():
    for name, build in S.ALL.items():
        lines = [line for page in page_lines(build()) for line in page]
        assert not [line for line in lines if "\x00" in line], name


# ----------------------------------------------------------------------------- per kind

CHECKIN_HEADINGS = ["序号", "姓名", "身份证号", "单位", "检录时间", "检录员", "状态"]
CHECKIN_SIGNERS = ["检录员签字：", "裁判长签字：", "监督人员签字："]


# The counts: a roster whose signature lines, before, fell alone onto a page (and one that fits).
@pytest.mark.parametrize("count", [22, 44, 60])
def test_checkin_sheet(count):
    people = S.roster(count)
    masked = [idcard.mask(p["id_number"]) for p in people]
    data = S.checkin_sheet(count)
    assert_paper(data, whole=[*CHECKIN_HEADINGS, *masked, "应到", "打印时间 2026-05-20"],
                 signatures=CHECKIN_SIGNERS, rows=["已检录", "缺考"])
    assert_band(data)


@pytest.mark.parametrize("count", [20, 51])
def test_draw_record_stage_1(count):
    ids = [p["id_number"] for p in S.roster(count)]
    data = S.record(1, count)
    assert_paper(data, whole=["参赛编号", "姓名", "身份证号", "单位", "组别", "备注", *ids],
                 hashes=[S.COMMITMENT, S.SEALED],
                 signatures=["一次加密裁判签字：", "监督人员签字："], rows=ids)
    assert_band(data)


@pytest.mark.parametrize("kind", [2, "station"])
@pytest.mark.parametrize("count", [20, 52])
def test_draw_record_stage_2_and_the_station_draw_record(kind, count):
    stations = [p["station"] for p in S.mapping(2, count).pairs]
    headings = ["参赛编号", "赛位号", "备注"] if kind == 2 else ["赛位号", "参赛编号", "选手签字"]
    data = S.record(kind, count)
    assert_paper(data, whole=[*headings, *stations], hashes=[S.COMMITMENT, S.SEALED],
                 signatures=["二次加密裁判签字：", "监督人员签字："], rows=stations)
    assert_band(data)


@pytest.mark.parametrize("count", [24, 56])
def test_seal_record(count):
    data = S.seal_record(count)
    receipts = [f"0520-{n:06X}" for n in range(1, count + 1)]
    assert_paper(data, whole=["赛位号", "版本", "回执编号", "大小（字节）", "SHA-256（前 16 位）",
                              *receipts, "1,012,345"],
                 hashes=[S.MANIFEST],
                 signatures=["加密裁判签字：", "监督人员签字：", "裁判长签字："], rows=receipts)
    assert_band(data)


FINAL_HEADINGS = ["名次", "赛位号", "参赛编号", "姓名", "单位", "理论(折算)", "实操", "扣分",
                  "总分", "奖项"]
STATION_HEADINGS = ["序号", "赛位号", "理论(折算)", "实操", "扣分", "总分", "用时"]
RESULT_SIGNERS = ["裁判长签字：", "监督人员签字：", "记分员（一）签字：", "记分员（二）签字："]


@pytest.mark.parametrize(("sealed", "count"), [(False, 20), (False, 46), (False, 60),
                                               (True, 23), (True, 54)])
def test_results_sheets(sealed, count):
    rows = S.final_rows(count, sealed)
    stations = [r.station for r in rows]
    totals = [str(r.total) for r in rows]
    data = S.results(sealed=sealed, count=count)
    used = ["50分17秒"] if sealed else []  # the station sheets' 用时 of A01 (3,017 s)
    assert_paper(data, whole=[*(STATION_HEADINGS if sealed else FINAL_HEADINGS), *totals,
                              *stations, *used, "实操成绩（满分 85）− 扣分"],
                 hashes=[S.LOCK], signatures=RESULT_SIGNERS, rows=stations)
    assert_band(data)


def test_checkpoint_sheet():
    data = S.checkpoint_sheet()
    assert_paper(data, whole=[f"第 {S.CHECKPOINT.seq} 号", *BAND], hashes=[S.AUDIT_HASH],
                 signatures=["监督人员签字：", "裁判长签字："],
                 rows=[f"审计日志最后一个事件：第 {S.CHECKPOINT.seq} 号"])
    assert_band(data)


@pytest.mark.parametrize("roll", [False, True])
def test_receipt_slips(roll):
    data = S.receipt(roll=roll)
    hand_in = S.hand_in()
    assert_paper(data, whole=[hand_in.receipt_no, "A07", "48,213,775 字节", "2026-05-20",
                              "（收件台代收）", *S.fingerprint().split(), *BAND],
                 hashes=[S.FILE_SHA])
    text = "".join(line for page in page_lines(data) for line in page)
    assert hand_in.filename in text.replace(" | ", "").replace(" ", ""), "file name cut off"
    assert_band(data)


def test_badges():
    data = S.badges(event_name=S.BADGE_EVENT)
    assert_paper(data, whole=["A01", "A10", "7K1Q-X4PM-9TRB", "赛位号", "Intelligence"])
    assert_no_word_cut(data, S.BADGE_EVENT + " " + " ".join(
        f"A{n:02d} 7K{n % 10}Q-X4PM-9TRB" for n in range(1, 11)))


def test_the_poster():
    data = S.poster(event_name=S.MIXED)
    assert_paper(data, whole=S.fingerprint().split())
    assert_no_word_cut(data, S.MIXED + " SHA-256 kiosk receipt verify " + S.fingerprint())
    assert not text_past_the_edge(data)


# ----------------------------------------------------------------------------- the rules

def test_lines_break_between_chinese_characters_and_at_spaces_only():
    from reportlab.pdfgen.canvas import Canvas

    from kiosk import pdf

    font = pdf.use_font()
    canvas = Canvas(BytesIO())
    text = "身份证号4209**********4782江城智能制造有限公司 SHA-256 " + groups(S.FILE_SHA)
    for width in range(110, 400, 7):  # the ID number is 108 points wide
        lines = pdf.canvas_lines(canvas, text, font, 10, width, 99)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        joined = " ".join(lines)
        assert "4209**********4782" in joined and "SHA-256" in joined
        assert groups(S.FILE_SHA) in " ".join(joined.split())
        assert not any(line.startswith(("，", "）", "−")) for line in lines)


def test_a_column_too_narrow_for_its_heading_or_codes_is_widened():
    from reportlab.lib.units import mm

    from kiosk import pdf

    font = pdf.use_font()
    rows = [["参赛编号", "单位", "身份证号"],
            ["001", "江城智能制造有限公司", "4209**********4782"]]
    widths = pdf.fitted_widths(rows, [8 * mm, 80 * mm, 20 * mm], font, 10)
    assert sum(widths) == pytest.approx(108 * mm)
    assert widths[0] > pdf.pdfmetrics.stringWidth("参赛编号", font, 10)
    assert widths[2] > pdf.pdfmetrics.stringWidth("4209**********4782", font, 10)


def test_a_stand_in_glyph_keeps_the_character_in_the_text():
    from kiosk import pdf

    data = pdf.simple_document("测试", ["5 − 2 = 3"])
    assert "5 − 2 = 3" in "".join(line for page in page_lines(data) for line in page)
    assert pdf.has_glyph("−")
