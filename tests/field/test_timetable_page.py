"""赛程 /timetable: the chief judge sees the day's parts and replaces them by a file or the text
box; every problem is listed and nothing changes; once a part started the page is read-only."""

import io
import re

from kiosk import clock
from kiosk.stations import phases, timetable
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_user

TWO_MODULES = """
[[part]]
key = "A"
name = "模块A：数据处理"
kind = "practical"
minutes = 60

[[part]]
key = "B"
name = "模块B：模型训练"
kind = "practical"
minutes = 90
warnings = [15, 5]
reading_minutes = 10
"""


def _signed_in(app, role="chief"):
    with app.extensions["kiosk"].session() as session:
        make_user(session, role, username="judge")
    client = app.test_client()
    login(client, "judge")
    return client


def _keys(app):
    with app.extensions["kiosk"].session() as session:
        return timetable.keys(session)


def test_the_page_lists_the_default_day(app):
    page = _signed_in(app).get("/timetable")
    assert page.status_code == 200
    assert "理论知识考试" in page.text and "实操技能考核" in page.text
    assert "<code>theory</code>" in page.text


def test_an_uploaded_timetable_replaces_the_parts(app):
    chief = _signed_in(app)
    token = csrf_from(chief.get("/timetable").text)
    done = chief.post("/timetable", data={"csrf_token": token,
                                          "file": (io.BytesIO(TWO_MODULES.encode()),
                                                   "timetable.toml")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert done.status_code == 200
    assert _keys(app) == ["A", "B"]
    assert "模块A：数据处理" in done.text and "模块B：模型训练" in done.text


def test_a_wrong_timetable_lists_every_problem_and_changes_nothing(app):
    chief = _signed_in(app)
    token = csrf_from(chief.get("/timetable").text)
    wrong = TWO_MODULES.replace("minutes = 60", "minutes = -1").replace('kind = "practical"\n'
                                                                        'minutes = 90',
                                                                        'kind = "lab"\n'
                                                                        'minutes = 90')
    page = chief.post("/timetable", data={"csrf_token": token, "text": wrong})
    assert page.status_code == 422
    listed = re.search(r'<div class="problems".*?</div>', page.text, re.S).group(0)
    rows = re.findall(r"<td>(.*?)</td>", listed)
    assert len(rows) == 2 and " A" in rows[0] and " B" in rows[1]
    assert _keys(app) == ["theory", "practical"]


def test_the_text_box_edits_in_place(app):
    chief = _signed_in(app)
    page = chief.get("/timetable")
    assert 'key = &#34;practical&#34;' in page.text or 'key = "practical"' in page.text
    chief.post("/timetable", data={"csrf_token": csrf_from(page.text), "text": TWO_MODULES},
               follow_redirects=True)
    assert _keys(app) == ["A", "B"]


def test_no_csrf_no_change(app):
    chief = _signed_in(app)
    answer = chief.post("/timetable", data={"text": TWO_MODULES})
    assert answer.status_code in (400, 403)
    assert _keys(app) == ["theory", "practical"]


def test_once_a_part_started_the_page_is_read_only_and_refuses(app):
    chief = _signed_in(app)
    token = csrf_from(chief.get("/timetable").text)
    with app.extensions["kiosk"].session() as session:
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
    page = chief.get("/timetable")
    assert "data-timetable-locked" in page.text
    assert 'name="text"' not in page.text
    refused = chief.post("/timetable", data={"csrf_token": token, "text": TWO_MODULES})
    assert refused.status_code == 422
    assert "theory" in refused.text
    assert _keys(app) == ["theory", "practical"]


def test_a_field_judge_reads_but_may_not_edit(app):
    judge = _signed_in(app, role="field")
    page = judge.get("/timetable")
    assert page.status_code == 200
    assert 'name="text"' not in page.text
    token = csrf_from(page.text) if "csrf_token" in page.text else ""
    assert judge.post("/timetable", data={"csrf_token": token,
                                          "text": TWO_MODULES}).status_code == 403
    assert _keys(app) == ["theory", "practical"]
