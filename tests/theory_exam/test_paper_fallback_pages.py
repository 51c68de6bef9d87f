"""The paper fallback's pages: who may print, switch, type and decide; what each one sees; the
online save refused with 409 on_paper; the results pages saying 'graded from paper'."""

import io

from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.models import AuditEvent
from kiosk.stations import phases
from kiosk.theory_exam import paper_fallback
from kiosk.theory_exam.models import Paper
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_user


def _users(app):
    with app.extensions["kiosk"].session() as session:
        for role, name in (("chief", "boss"), ("scorer", "s1"), ("scorer", "s2"),
                           ("supervisor", "sup")):
            make_user(session, role, username=name)


def _as(app, name):
    client = app.test_client()
    login(client, name)
    return client


def test_print_switch_type_twice_compare_decide(exam_event, app):
    _users(app)
    chief, first, second, sup = (_as(app, n) for n in ("boss", "s1", "s2", "sup"))
    page = chief.get("/exam/on-paper").text
    token = csrf_from(page)
    printed = chief.post("/exam/on-paper/papers.pdf", data={"csrf_token": token})
    assert printed.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(printed.data)).pages) >= 8  # 4 papers, 4 answer sheets
    assert first.post("/exam/on-paper/papers.pdf",
                      data={"csrf_token": csrf_from(first.get("/exam/on-paper").text)}
                      ).status_code == 403
    exam_event.start()
    # The workstation saves before the switch, is refused after.
    station = _as(app, "boss")  # any client: the station signs in with its badge
    station.post("/api/v1/station/login", json={"token": exam_event.badges["A01"].qr_token})
    with app.extensions["kiosk"].session() as session:
        paper = session.get(Paper, exam_event.stations[0].id)
        sheet = paper_fallback.printed_paper(paper, "A01")
    question = paper.questions[0]
    saved = station.put(f"/api/v1/exam/answers/{question['id']}",
                        json={"choice": question["options"][1]["key"], "seq": 1})
    assert saved.status_code == 200
    chief.post("/exam/on-paper/switch", data={"csrf_token": token, "station": "A01",
                                              "reason": "交换机故障"})
    refused = station.put(f"/api/v1/exam/answers/{question['id']}",
                          json={"choice": question["options"][0]["key"], "seq": 2})
    assert refused.status_code == 409 and refused.get_json()["error"] == "on_paper"
    listing = first.get("/exam/on-paper").text
    assert "A01" in listing and "交换机故障" in listing
    assert first.post("/exam/on-paper/switch", data={"csrf_token": csrf_from(listing),
                                                     "station": "A02", "reason": "x"}
                      ).status_code == 403

    answers = {f"q:{q.number}": ("对" if q.type == "tf" else "A") for q in sheet.questions}
    form = first.get("/exam/on-paper/A01/entry/1").text
    bad = first.post("/exam/on-paper/A01/entry/1",
                     data={"csrf_token": csrf_from(form), **answers, "q:1": "Q"}).text
    assert "data-sheet-problems" in bad
    first.post("/exam/on-paper/A01/entry/1", data={"csrf_token": csrf_from(form), **answers})
    assert first.get("/exam/on-paper/A01/entry/2").text.count("data-not-theirs") == 1
    hidden = second.get("/exam/on-paper/A01/entry/1").text  # s2 does not see s1's entry
    assert 'value="A"' not in hidden
    form = second.get("/exam/on-paper/A01/entry/2").text
    second.post("/exam/on-paper/A01/entry/2",
                data={"csrf_token": csrf_from(form), **answers, "q:1": "B"})
    assert second.get("/exam/on-paper/A01").status_code == 403  # scorers never compare
    watched = sup.get("/exam/on-paper/A01").text
    assert 'data-difference="1"' in watched and 'name="reason"' not in watched
    compare = chief.get("/exam/on-paper/A01").text
    assert 'data-difference="1"' in compare
    assert f'data-paper-hash="{sheet.sha256}"' in compare  # the hash printed on A01's paper
    assert sup.post("/exam/on-paper/A01", data={"csrf_token": csrf_from(watched),
                                                "question": "1", "mark": "A",
                                                "reason": "x"}).status_code == 403
    chief.post("/exam/on-paper/A01", data={"csrf_token": csrf_from(compare), "question": "1",
                                           "mark": "A", "reason": "答题卡上勾选 A"})
    compare = chief.get("/exam/on-paper/A01").text
    assert "data-difference" not in compare
    assert "data-sheet-state" in compare
    with app.extensions["kiosk"].session() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    for action in ("paper.printed", "paper.switched", "paper.sheet_entered",
                   "paper.sheet_resolved", "paper.sheet_agreed"):
        assert action in actions
    phases.end(exam_event.session, "theory", actor=CHIEF, now=clock.now())
    results = chief.get("/exam/results").text
    assert 'data-graded-from="paper"' in results



def test_the_fallback_page_is_one_click_away_for_whoever_uses_it_yet_not_in_the_header(exam_event,
                                                                                       app):
    # The header holds the daily pages on one line; the fallback page is linked where its
    # users already stand: exam control (the chief switches), scoring (the scorers type).
    _users(app)
    chief, scorer = _as(app, "boss"), _as(app, "s1")
    assert "/exam/on-paper" not in chief.get("/staff").text  # neither header nor task list
    assert 'href="/exam/on-paper" data-to-paper' in chief.get("/control").text
    assert 'href="/exam/on-paper"' in chief.get("/paper").text
    assert 'href="/exam/on-paper"' in scorer.get("/results/entry/1").text
