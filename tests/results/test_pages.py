"""Scoring through its pages, as each role: two scorekeepers, the chief judge, a supervisor
reviewing, both encryption judges at the unsealing. No name shows before it."""

import io
import re

import pytest
from pypdf import PdfReader

from tests.factories import PASSWORD, csrf_from, login, make_user


@pytest.fixture
def people(app, day):
    with app.extensions["kiosk"].session() as session:
        for role, name in (("scorer", "sc1"), ("scorer", "sc2"), ("chief", "boss"),
                           ("crypt1", "j1"), ("crypt2", "j2")):
            make_user(session, role, username=name)
    clients = {}
    for name in ("sc1", "sc2", "boss", "sup", "j1", "j2"):
        clients[name] = app.test_client()
        login(clients[name], name)
    return clients


def post(client, url, page=None, files=None, **form):
    token = csrf_from(client.get(page or url).text)
    data = {"csrf_token": token, **form, **(files or {})}
    return client.post(url, data=data, follow_redirects=True,
                       content_type="multipart/form-data" if files else None)


def test_from_two_entries_to_the_signed_results_through_the_pages(people, day):
    sc1, sc2, boss, sup = people["sc1"], people["sc2"], people["boss"], people["sup"]
    marks = {f"mark:{code}": str(70 + i) for i, code in enumerate(day.stations)}
    saved = post(sc1, "/results/entry/1", **marks)
    assert "已保存" in saved.text or "Saved" in saved.text
    # The one who typed entry 1 may not type entry 2.
    refused = post(sc1, "/results/entry/2", **{f"mark:{day.stations[0]}": "70"})
    assert "另一名记分员" in refused.text or "another scorekeeper" in refused.text
    # A bad mark is listed and nothing is saved.
    bad = post(sc2, "/results/entry/2", **{**marks, f"mark:{day.stations[1]}": "86"})
    assert day.stations[1] in bad.text and "86" in bad.text
    from kiosk.results import mark_entry

    assert mark_entry.entry_marks(day.session, 2) == {}
    typed = {**marks, f"mark:{day.stations[0]}": "71.5"}
    post(sc2, "/results/entry/2", **typed)
    differences = boss.get("/results/differences").text
    assert day.stations[0] in differences and "71.5" in differences
    post(boss, "/results/differences", station=day.stations[0], task="", mark="71.5",
         reason="以评分表为准")
    assert "两次录入完全一致" in boss.get("/results/differences").text or \
        "agree everywhere" in boss.get("/results/differences").text
    post(boss, "/results/deductions", station=day.stations[1], amount="5%", reason="着装不规范",
         approved_by="裁判长")
    post(boss, "/results/review", action="draw")
    review = sup.get("/results/review").text
    sampled = [code for code in day.stations if f"<td>{code}</td>" in review]
    assert len(sampled) == 6
    for code in sampled:
        post(sup, "/results/review", station=code, action="confirm")
    post(boss, "/results/lock", page="/results/")
    overview = boss.get("/results/").text
    assert "SHA-256" in overview and "已锁定" in overview

    names = [p.name for p in day.event.people]
    for url in ("/results/", "/results/review", "/results/differences", "/results/final",
                "/results/unseal"):
        page = boss.get(url).text
        assert not any(name in page for name in names), url
    sealed_pdf = boss.get("/results/final.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(sealed_pdf.data)).pages)
    assert "赛位号成绩表" in text and not any(name in text for name in names)

    j1, j2 = people["j1"], people["j2"]
    keys = {stage: str(day.event.keys[f"crypt{stage}"]) for stage in (1, 2)}
    early = post(j1, "/results/unseal", stage="1", identity_text=keys[1], supervisor="sup",
                 password=PASSWORD)
    assert "逐层解密" in early.text and not any(name in early.text for name in names)
    damaged = post(j2, "/results/unseal", stage="2", identity_text="AGE-SECRET-KEY-1NOTAKEY",
                   supervisor="sup", password=PASSWORD)
    assert "已损坏" in damaged.text and not any(name in damaged.text for name in names)
    wrong = post(j2, "/results/unseal", stage="2", identity_text=keys[2], supervisor="sup",
                 password="wrong")
    assert "用户名或密码错误" in wrong.text
    # The key is pasted in front of the hall: it shows as dots, and no page says it back.
    for page in (damaged.text, wrong.text, j2.get("/results/unseal").text):
        assert "AGE-SECRET-KEY-1NOTAKEY" not in page and keys[2] not in page
        assert keys[2].upper() not in page.upper()
        field = re.search(r'<input[^>]*name="identity_text"[^>]*>', page).group(0)
        assert 'type="password"' in field, field
        assert 'autocomplete="off"' in field and 'spellcheck="false"' in field, field
    opened = post(j2, "/results/unseal", stage="2",
                  files={"identity": (io.BytesIO(f"# key\n{keys[2]}\n".encode()), "k.txt")},
                  supervisor="sup", password=PASSWORD)
    assert "已打开并与其承诺值核对一致" in opened.text or "verified" in opened.text
    post(j1, "/results/unseal", stage="1", identity_text=keys[1], supervisor="sup",
         password=PASSWORD)
    final = boss.get("/results/final").text
    assert "职工组" in final and "学生组" in final and "一等奖" in final
    assert sum(name in final for name in names) == len(names)
    pdf = boss.get("/results/final.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "成绩汇总表（职工组）" in text and names[0] in text
    assert boss.get("/results/final.xlsx").data[:2] == b"PK"


def test_a_scorekeeper_sees_only_their_own_entry_and_decides_nothing(people, day):
    sc1, sc2 = people["sc1"], people["sc2"]
    post(sc2, "/results/entry/2", **{f"mark:{day.stations[0]}": "77.25"})
    other = sc1.get("/results/entry/2").text
    assert "77.25" not in other and ("另一名记分员" in other)
    assert "77.25" in sc2.get("/results/entry/2").text
    assert "77.25" in people["boss"].get("/results/entry/2").text
    for url in ("/results/", "/results/differences", "/results/review", "/results/final",
                "/results/final.pdf"):
        assert sc1.get(url).status_code == 403, url
    token = csrf_from(sc1.get("/results/entry/1").text)
    assert sc1.post("/results/differences", data={"csrf_token": token, "station": "A01",
                                                  "mark": "1", "reason": "x"}).status_code == 403
    assert sc1.post("/results/lock", data={"csrf_token": token}).status_code == 403
    # Without a CSRF token nothing is accepted, even from the chief judge.
    assert people["boss"].post("/results/lock", data={}).status_code == 400


def test_a_full_width_mark_is_stored_as_digits_and_the_page_says_so(people, day):
    """A Chinese input method in full-width mode types ８０: stored as 80, and the page
    tells the scorekeeper what it kept; digits of another script are refused."""
    from kiosk.results import mark_entry

    first, second = day.stations[0], day.stations[1]
    saved = post(people["sc1"], "/results/entry/1",
                 **{f"mark:{first}": "８０．５", f"mark:{second}": "72"})
    assert f"{first}：您输入的是 ８０．５，已按 80.5 保存。" in saved.text
    assert f'value="80.5" aria-label="{first}"' in saved.text
    assert mark_entry.entry_marks(day.session, 1)[first][0] == 80.5
    refused = post(people["sc1"], "/results/entry/1", **{f"mark:{first}": "٨٠"})
    assert "٨٠" in refused.text and mark_entry.entry_marks(day.session, 1)[first][0] == 80.5


def test_typed_problems_stand_by_the_typed_form_and_the_other_entry_is_read_only(people, day):
    sc1, sc2 = people["sc1"], people["sc2"]
    marks = {f"mark:{code}": "70" for code in day.stations}
    post(sc1, "/results/entry/1", **marks)
    # sc1 typed entry 1: entry 2 is shown read-only, with the reason, before anything is typed.
    page = sc1.get("/results/entry/2").text
    assert "第二次录入必须由另一名记分员完成" in page
    fields = re.findall(r'<input name="mark:[^>]*>', page)
    assert fields and all("disabled" in field for field in fields), fields
    assert re.search(r'<button type="submit" class="primary"[^>]*disabled', page)
    assert 'name="file"' not in page  # no import either: it would be refused the same way
    # Typed marks that are wrong: said beside the typed form, not as a file that was imported.
    bad = post(sc2, "/results/entry/2", **{**marks, f"mark:{day.stations[1]}": "86",
                                            f"mark:{day.stations[2]}": "abc"}).text
    assert "未导入任何数据" not in bad
    typed_card = bad.split("逐个录入", 1)[1]
    assert "未保存任何分数：共 2 处问题" in typed_card
    assert day.stations[1] in typed_card.split("<table", 1)[0] + typed_card
    editable = re.findall(r'<input name="mark:[^>]*>', bad)
    assert editable and not any("disabled" in field for field in editable)
