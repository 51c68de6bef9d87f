import shutil
import subprocess

import pytest
from pypdf import PdfReader

from kiosk import pdf

TEXT = "检录单：张三、李四（职工组）赛位号 A01 身份证号 42010219900101001X"


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "sample.pdf"
    document = pdf.simple_document("一次加密记录表", [TEXT, "<script>alert(1)</script> & 备注"])
    path.write_bytes(document)
    return path


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_chinese_text_comes_back_identical_through_pdftotext(sample_pdf):
    extracted = subprocess.run(["pdftotext", "-enc", "UTF-8", str(sample_pdf), "-"],
                               capture_output=True, text=True, check=True).stdout
    assert TEXT in extracted
    assert "一次加密记录表" in extracted
    assert "<script>alert(1)</script> & 备注" in extracted  # markup is text, not reportlab tags


def test_the_cjk_font_is_embedded_and_the_page_is_a4(sample_pdf):
    reader = PdfReader(sample_pdf)
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    fonts = page["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None:
            embedded.append("/FontFile2" in descriptor.get_object())
    assert embedded and all(embedded)
    assert not any("STSong" in str(ref.get_object().get("/BaseFont")) for ref in fonts.values())


def test_a_configured_font_that_is_missing_says_so(tmp_path):
    with pytest.raises(pdf.FontMissing, match="does not exist"):
        pdf.find_cjk_font(str(tmp_path / "nope.ttf"))


def test_without_any_font_the_message_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "KNOWN_FONTS", [(tmp_path / "absent.ttc", 0)])
    with pytest.raises(pdf.FontMissing) as excinfo:
        pdf.find_cjk_font("")
    assert "fonts-wqy-zenhei" in excinfo.value.message


def test_a_font_reportlab_cannot_embed_is_refused_clearly(tmp_path):
    fake = tmp_path / "NotoSansCJK-Regular.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)  # a CFF-outline header
    with pytest.raises(pdf.FontMissing, match="TrueType"):
        pdf.register_font(str(fake), 0)
