"""Attacks and bad input: forged forms, script in every field people type, and importers fed
garbage. Each test fails if the defence is removed."""

import io
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from kiosk import clock
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import checkin_sheet_pdf, import_roster
from kiosk.errors import ImportErrors
from kiosk.field import announcements
from kiosk.results import mark_entry as marks
from kiosk.stations import models
from kiosk.theory_exam.models import Question
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import (
    csrf_from,
    id_number,
    issue_badge,
    login,
    make_checkpoint,
    make_stations,
    make_user,
)

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'


def _staff_post_routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access", None)
        if "POST" in rule.methods and access and access.kind == "staff":
            yield rule, sorted(access.permission_for("POST").roles)[0]


def _url(rule):
    values = {arg: ("A01" if isinstance(rule._converters[arg], type(None)) or
                    rule._converters[arg].__class__.__name__ == "UnicodeConverter" else 1)
              for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_staff_form_refuses_a_post_without_its_csrf_token(app, session):
    users = {}
    checked = 0
    for rule, role in _staff_post_routes(app):
        if role not in users:
            users[role] = make_user(session, role).username
        client = app.test_client()
        login(client, users[role])
        response = client.post(_url(rule), data={"anything": "1"})
        assert response.status_code == 400, rule.rule
        assert b"csrf" in response.data or "表单".encode() in response.data, rule.rule
        checked += 1
    assert checked >= 20  # every form of every capability, not a handful


def test_script_typed_anywhere_comes_back_as_text(app, session, tmp_path):
    roster = f"姓名,身份证号,单位,组别\n{SCRIPT},{id_number(1)},{IMG},职工组\n"
    import_roster(session, roster.encode(), "r.csv", groups=["职工组", "学生组"], actor=CHIEF,
                  now=clock.now())
    bank = ("题型,题干,选项A,选项B,选项C,选项D,答案,分值,分类\n"
            f'单选,"{SCRIPT}",{IMG},b,c,d,A,1,{SCRIPT}\n')
    import_bank(session, bank.encode(), "b.csv", actor=CHIEF, now=clock.now())
    make_stations(session, 1)
    announcements.announce(session, SCRIPT, actor=CHIEF, now=clock.now())
    make_user(session, "chief", "boss")
    client = app.test_client()
    login(client, "boss")
    for url in ("/roster", "/bank", "/control", "/checkin/absent"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert SCRIPT not in text and IMG not in text, url
    assert "&lt;script&gt;" in client.get("/roster").get_data(as_text=True)
    assert "&lt;script&gt;" in client.get("/bank").get_data(as_text=True)
    # PDFs print it as the characters typed (reportlab would otherwise parse the markup).
    with app.extensions["kiosk"].session() as s:
        pdf = checkin_sheet_pdf(s, event_name="测试", session_name="第一场",
                                checkpoint=make_checkpoint(s))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "<script>" in text and "onerror" in text


# ----------------------------------------------------------------------------- importers

cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
tables = st.lists(st.lists(cells, min_size=0, max_size=12), min_size=0, max_size=8)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"])
HEADERS = {
    "roster": "姓名,身份证号,单位,组别",
    "bank": "题型,题干,选项A,选项B,选项C,选项D,答案,分值,分类",
    "marks": "赛位号,分数",
}


def _csv(header, rows):
    quote = lambda cell: '"' + cell.replace('"', '""') + '"'  # noqa: E731
    return "\n".join([header, *(",".join(map(quote, row)) for row in rows)])


def _import(kind, session, data, name):
    if kind == "roster":
        import_roster(session, data, name, groups=["职工组", "学生组"], actor=CHIEF,
                      now=clock.now())
    elif kind == "bank":
        import_bank(session, data, name, actor=CHIEF, now=clock.now())
    else:
        marks.import_marks(session, data, name, entry=1, full_marks=marks.Decimal(85),
                           actor=CHIEF, now=clock.now())


def _count(session, kind):
    model = {"roster": Contestant, "bank": Question, "marks": marks.MarkEntry}[kind]
    return session.scalar(select(func.count()).select_from(model))


LINE = re.compile(r"^(line \d+: )?\S")


@pytest.mark.parametrize("kind", sorted(HEADERS))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=2000),
                      st.builds(lambda h, rows, enc: _csv(h, rows).encode(enc, "replace"),
                                st.sampled_from(list(HEADERS.values())), tables, encodings),
                      # Huge cells: one character repeated, up to 200 000 times.
                      st.builds(lambda ch, n: f"赛位号,分数\nA01,{ch * n}".encode(),
                                st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                st.integers(10_000, 200_000))),
       name=st.sampled_from(["x.csv", "x.xlsx", "x.txt", "x.json"]))
def test_importers_never_crash_and_never_half_import(kind, session, data, name):
    if kind == "marks" and _count(session, "marks") == 0 and \
            session.scalar(select(func.count()).select_from(models.Station)) == 0:
        make_stations(session, 3)
    before = _count(session, kind)
    try:
        _import(kind, session, data, name)
    except ImportErrors as exc:
        session.rollback()
        assert exc.problems
        for problem in exc.problems:
            assert LINE.match(problem.render()), problem.render()
        assert _count(session, kind) == before  # nothing changed
    session.rollback()


def test_a_huge_cell_is_a_line_error_not_a_stored_novel(session):
    make_stations(session, 1)
    giant = "9" * 100_000
    with pytest.raises(ImportErrors) as excinfo:
        marks.import_marks(session, f"赛位号,分数\nA01,{giant}\n".encode(), "m.csv", entry=1,
                           full_marks=marks.Decimal(85), actor=CHIEF, now=clock.now())
    assert excinfo.value.problems[0].render().startswith("line 2:")
    assert all(len(p.render()) < 2000 for p in excinfo.value.problems)


def test_a_filename_never_acts_as_a_path():
    from kiosk.collect.hand_ins import clean_filename

    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/abs/path.zip", "C:\\x\\y.zip",
                 "a\x00b.zip", string.punctuation, "..", "作品 v2.zip"):
        cleaned = clean_filename(name)
        assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
        assert cleaned not in ("", ".", "..")
    assert clean_filename("../../作品 v2.zip") == "作品 v2.zip"


def test_signing_in_starts_a_new_session(app, session):
    """Session fixation: whatever the browser carried before (here a station's sign-in on a
    shared machine) does not survive a staff sign-in, and the cookie changes."""

    station = make_stations(session, 1)[0]
    badge = issue_badge(session, station, app.extensions["kiosk"].badge_key())
    make_user(session, "field", "judge")
    client = app.test_client()
    assert client.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200
    before = client.get_cookie("kiosk_session").value
    assert client.get("/api/v1/exam/paper").status_code != 401  # the station is signed in
    login(client, "judge")
    assert client.get_cookie("kiosk_session").value != before
    assert client.get("/api/v1/exam/paper").status_code == 401  # its station session is gone


def test_a_nul_character_is_refused_as_bad_input_on_every_database(app, session):
    """PostgreSQL cannot store NUL: typed into a sign-in, a badge or an announcement it must be
    a 400 there as on SQLite, never a 500, and nothing is stored."""
    make_user(session, "chief", "chief")
    client = app.test_client()
    page = client.get("/login")

    signed = client.post("/login", data={"username": "chi\x00ef", "password": "x",
                                         "csrf_token": csrf_from(page.text)})
    assert signed.status_code == 400
    badge = client.post("/api/v1/station/login", json={"token": "AB\x00CD"})
    assert badge.status_code == 400 and badge.get_json()["message"]
    assert client.get("/api/v1/collect/receipts/R%00.pdf").status_code == 400
    login(client, "chief")
    control = client.get("/control")
    said = client.post("/control/announce", data={"text": "休息\x00十分钟",
                                                   "csrf_token": csrf_from(control.text)})
    assert said.status_code == 400
    assert announcements.recent_announcements(session) == []


def test_a_value_the_database_refuses_is_a_400_not_a_crash(app):
    """The last net under the guards: whatever the database calls bad data is the input's
    fault, answered 400 and logged."""
    from sqlalchemy.exc import DataError

    @app.get("/raise-data-error")
    def raise_data_error():
        raise DataError("INSERT …", {}, Exception("value out of range"))

    response = app.test_client().get("/raise-data-error", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_a_staff_import_is_never_spooled_to_a_plaintext_temp_file(app, session, monkeypatch):
    """Issue 14: a roster holds every contestant's ID number. Werkzeug writes a form's file over
    500 KiB to a temp file; an import stays in memory (its route takes 8 MiB at most)."""
    import tempfile

    spooled = []
    real = tempfile.SpooledTemporaryFile

    def watching(*args, **kwargs):
        spooled.append(kwargs.get("max_size", args[0] if args else None))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", watching)
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: spooled.append("file") or
                        real(*a, **k))
    make_user(session, "chief", "importer")
    client = app.test_client()
    login(client, "importer")

    # Whether or not the rows import, the file is parsed from the form first.
    rows = "".join(f"选手{i},{id_number(i % 900 + 1)},{'某某职业技术学院' * 12},职工组\n"
                   for i in range(1, 2200))
    roster = ("姓名,身份证号,单位,组别\n" + rows).encode()
    assert len(roster) > 600 * 1024
    page = client.get("/roster")
    response = client.post("/roster", data={"csrf_token": csrf_from(page.text),
                                            "file": (io.BytesIO(roster), "roster.csv")})
    assert response.status_code in (200, 302, 303)
    assert spooled == []
