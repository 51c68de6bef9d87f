from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import kiosk

TRANSLATIONS = Path(kiosk.__file__).parent / "translations"


def test_pages_are_chinese_by_default(client):
    page = client.get("/login")
    assert '<html lang="zh-CN">' in page.text
    assert "工作人员登录" in page.text


def test_english_is_selectable_and_remembered_by_the_browser(client):
    page = client.get("/login")
    from tests.conftest import csrf_from

    response = client.post("/lang/en", data={"csrf_token": csrf_from(page.text),
                                             "next": "/login"})
    assert response.status_code == 302
    assert "kiosk_lang=en" in response.headers["Set-Cookie"]
    english = client.get("/login")
    assert "Staff sign-in" in english.text
    assert "工作人员登录" not in english.text


def test_the_chinese_catalog_sits_where_babel_looks():
    """Babel parses zh_CN as zh_Hans_CN: a folder named zh_CN would never be loaded."""
    assert (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo").exists()
    assert not (TRANSLATIONS / "zh_CN").exists()


def test_every_message_is_translated_and_compiled():
    po_path = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        po = read_po(f)
    with po_path.with_suffix(".mo").open("rb") as f:
        mo = read_mo(f)
    untranslated = [m.id for m in po if m.id and not m.string]
    fuzzy = [m.id for m in po if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    compiled = {m.id: m.string for m in mo if m.id}
    assert compiled == {m.id: m.string for m in po if m.id}, "run pybabel compile"


def test_every_marked_message_is_in_the_catalog():
    """A string marked in the code but missing from the catalog would show in English."""
    from babel.messages.extract import extract_from_dir

    method_map = [("kiosk/**.py", "python"), ("kiosk/**/templates/**.html", "jinja2")]
    root = Path(kiosk.__file__).parent.parent
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "N_": None,
                "ngettext": (1, 2)}
    found = {msg if isinstance(msg, str) else msg[0]
             for _, _, msg, _, _ in extract_from_dir(str(root), method_map=method_map,
                                                     keywords=keywords)
             if msg}
    po_path = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        catalog_ids = {m.id for m in read_po(f) if m.id}
    assert sorted(found - catalog_ids) == [], "run the extract/update steps in docs/i18n.md"
