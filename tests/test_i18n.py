from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import kiosk
from tests.factories import csrf_from

TRANSLATIONS = Path(kiosk.__file__).parent / "translations"


def test_pages_are_chinese_by_default(client):
    page = client.get("/login")
    assert '<html lang="zh-CN">' in page.text
    assert "工作人员登录" in page.text


def test_english_is_selectable_and_remembered_by_the_browser(client):
    page = client.get("/login")

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


# Roles as the competition documents (/work/shared/seeds, docs/i18n.md) name them: the two people
# who type the marks twice are 记分员, the supervisors 监督人员 (监督组 as a group).
ROLE_TERMS = {"Chief judge": "裁判长", "Check-in staff": "检录员",
              "First encryption judge": "一次加密裁判", "Second encryption judge": "二次加密裁判",
              "Field judge": "现场裁判", "Scorer": "记分员", "Supervisor": "监督人员"}
# Words the documents do not use for these roles and things, and what they say instead.
NOT_THE_DOCUMENTS_TERMS = {"评分裁判": "记分员", "工位电脑": "工位机", "考场须知": "竞赛须知",
                           "考生": "选手"}


def _catalog():
    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str)}


def test_role_names_are_the_terms_of_the_competition_documents():
    catalog = _catalog()
    assert {role: catalog[role] for role in ROLE_TERMS} == ROLE_TERMS


def test_no_message_uses_a_term_the_documents_do_not():
    import re

    wrong = {msgid: text for msgid, text in _catalog().items()
             if any(term in text for term in NOT_THE_DOCUMENTS_TERMS)
             or re.search(r"监督(?!人员|组|下)", text)}  # a supervisor is 监督人员
    assert wrong == {}
