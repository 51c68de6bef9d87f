"""Absurd numbers and absurd JSON (issue 14, item 9): a 400 on every JSON route, never a 500,
and no number a client sends can freeze a question."""

import pytest

from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.factories import login, make_user

# Each under the 16 KiB a JSON route takes, so that it reaches the JSON reader, not the door.
ABSURD_BODIES = {
    "seq 2^63": '{"choice": null, "seq": 9223372036854775808, "token": "x", "events": []}',
    "seq 2^64": '{"choice": null, "seq": 18446744073709551616}',
    "1e400": '{"choice": null, "seq": 1e400, "token": 1e400, "events": [1e400]}',
    "-1e400": '{"seq": -1e400}',
    "NaN": '{"choice": null, "seq": NaN, "token": NaN}',
    "Infinity": '{"seq": Infinity}',
    "deeply nested": '{"seq": 1, "choice": ' + "[" * 5000 + "]" * 5000 + "}",
    "nested objects": '{"token": ' + '{"a":' * 2000 + "1" + "}" * 2000 + "}",
    "5000 digits": '{"seq": ' + "9" * 5000 + "}",
}


def _json_routes(app):
    """Every API route that reads a JSON body, with a value for each path argument."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or not rule.methods & {"POST", "PUT"}:
            continue
        if "upload" in rule.rule:  # the raw file body, not JSON
            continue
        values = dict.fromkeys(rule.arguments, "1")
        yield rule.build(values, append_unknown=False)[1], sorted(rule.methods & {"POST", "PUT"})


def test_absurd_numbers_and_nesting_are_a_400_on_every_json_route(exam_event, app):
    from kiosk.web import DEFAULT_BODY_LIMIT

    assert all(len(body) < DEFAULT_BODY_LIMIT for body in ABSURD_BODIES.values())
    exam_event.start()
    station = app.test_client()
    station.post("/api/v1/station/login", json={"token": exam_event.badges["A01"].qr_token})
    with exam_event.instance.session() as session:
        qid = next(iter(session.get(Paper, exam_event.stations[0].id).key_map))
    make_user(exam_event.session, "checkin", "desk")
    staff = app.test_client()
    login(staff, "desk")
    routes = list(_json_routes(app))
    assert len(routes) >= 4
    checked = 0
    for client in (station, staff):
        for url, methods in routes:
            url = url.replace("/answers/1", f"/answers/{qid}")
            for method in methods:
                for name, body in ABSURD_BODIES.items():
                    response = client.open(url, method=method, data=body,
                                           content_type="application/json")
                    assert response.status_code < 500, (url, name, response.status_code)
                    checked += 1
    # The answer route itself refuses each one as bad input, not merely "not a 500".
    for name, body in ABSURD_BODIES.items():
        response = station.put(f"/api/v1/exam/answers/{qid}", data=body,
                               content_type="application/json")
        assert response.status_code == 400, name
        assert response.get_json()["error"], name
    assert checked > 50


@pytest.mark.parametrize("seq", [exam.MAX_SEQ + 1, 2**63 - 1, 2**63, 2**64])
def test_a_seq_beyond_the_limit_is_refused_and_stores_nothing(exam_event, app, seq):
    exam_event.start()
    client = app.test_client()
    client.post("/api/v1/station/login", json={"token": exam_event.badges["A01"].qr_token})
    with exam_event.instance.session() as session:
        qid = next(iter(session.get(Paper, exam_event.stations[0].id).key_map))
    refused = client.put(f"/api/v1/exam/answers/{qid}", json={"choice": None, "seq": seq})
    assert refused.status_code == 400
    assert client.get("/api/v1/exam/paper").get_json()["last_seq"] == 0


def test_a_seq_near_the_limit_cannot_freeze_a_question(exam_event, app):
    """A kiosk (or a tampered one) that sends a seq far ahead of the station's last one would,
    once stored, leave no newer seq possible: that question could never change again. A seq
    may only run so far ahead of what the station sent before."""
    exam_event.start()
    client = app.test_client()
    client.post("/api/v1/station/login", json={"token": exam_event.badges["A01"].qr_token})
    with exam_event.instance.session() as session:
        paper = session.get(Paper, exam_event.stations[0].id)
        qid = next(iter(paper.key_map))
    questions = client.get("/api/v1/exam/paper").get_json()["questions"]
    first, second = (option["key"] for option in
                     next(q for q in questions if q["id"] == qid)["options"][:2])
    assert client.put(f"/api/v1/exam/answers/{qid}",
                      json={"choice": first, "seq": 1}).status_code == 200
    for seq in (exam.MAX_SEQ, exam.MAX_SEQ - 1, 1 + exam.MAX_SEQ_STEP + 1):
        jumped = client.put(f"/api/v1/exam/answers/{qid}", json={"choice": second, "seq": seq})
        assert jumped.status_code == 400, seq
    # The question still takes the contestant's next change.
    changed = client.put(f"/api/v1/exam/answers/{qid}", json={"choice": second, "seq": 2})
    assert changed.status_code == 200 and changed.get_json()["saved"]
    paper = client.get("/api/v1/exam/paper").get_json()
    assert paper["answers"][qid] == second and paper["last_seq"] == 2
    # Within the step the kiosk may skip ahead (choices never acknowledged, a second browser).
    ahead = client.put(f"/api/v1/exam/answers/{qid}",
                       json={"choice": first, "seq": 2 + exam.MAX_SEQ_STEP})
    assert ahead.status_code == 200 and ahead.get_json()["saved"]
