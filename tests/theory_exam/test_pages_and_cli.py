"""The chief judge's exam pages and the exam commands, as organisers use them."""

import io
import json
import re
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook

from kiosk import clock
from kiosk.cli import main
from kiosk.stations import phases
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.actors import CHIEF
from tests.factories import csrf_from, login, make_user
from tests.plugins.theory_exam import GRACE, bank_csv


def kiosk(path, *args, input=None):
    return CliRunner().invoke(main, ["--instance", str(path), *map(str, args)], input=input)


def test_the_exam_from_the_command_line(exam_event, kiosk_instance, tmp_path):
    path = kiosk_instance.path
    built = json.loads(kiosk(path, "paper", "set", "--single", 6, "--tf", 4, "--single-points",
                             "2.5", "--json").output)
    assert built == {"papers": 4, "full_marks": "19.00"}
    started = json.loads(kiosk(path, "phase", "start", "theory", "--minutes", 20, "--json").output)
    assert started["state"] == "running"
    assert json.loads(kiosk(path, "phase", "pause", "theory", "--json").output)["state"] == "paused"
    assert kiosk(path, "phase", "pause", "theory").exit_code == 1  # paused already
    resumed = json.loads(kiosk(path, "phase", "resume", "theory", "--json").output)
    assert resumed["state"] == "running"
    extended = json.loads(kiosk(path, "extend", "a02", 5, "--reason", "设备故障（非选手原因）",
                                "--json").output)
    assert extended["station"] == "A02" and extended["station_deadline"]
    assert kiosk(path, "extend", "A02", 5, "--reason", " ").exit_code == 1
    assert kiosk(path, "paper", "set", "--single", 3).exit_code == 1  # frozen once started

    with exam_event.instance.session() as session:
        station = exam_event.stations[0]
        paper = session.get(Paper, station.id)
        question = paper.questions[0]
        exam.save_answer(session, station.id, question["id"], question["options"][0]["key"], 1,
                         now=clock.now(), grace=GRACE)
    out = tmp_path / "scores.xlsx"
    scores = json.loads(kiosk(path, "exam", "scores", "--json", "--out", out).output)
    row = scores["stations"][0]
    assert set(row) == {"station", "score", "full_marks", "answered", "submitted_at",
                        "time_used_s"}
    assert row["station"] == "A01" and row["answered"] == 1 and row["full_marks"] == 19
    sheet = load_workbook(out).active
    assert sheet["A3"].value == "A01"
    ended = json.loads(kiosk(path, "phase", "end", "theory", "--json").output)
    assert ended["state"] == "ended"


def test_bank_page_imports_lists_problems_toggles_and_exports(app, client):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss")
    login(client, "boss")
    token = csrf_from(client.get("/bank").text)
    bad = "题型,题干,选项A,选项B,答案\n多选题,选两个,a,b,AB\n单选,,a,b,A\n".encode()
    page = client.post("/bank", data={"csrf_token": token, "file": (io.BytesIO(bad), "b.csv")},
                       content_type="multipart/form-data")
    assert "line 2" in page.text and "line 3" in page.text
    client.post("/bank", data={"csrf_token": token, "file": (io.BytesIO(bank_csv(3, 2)),
                                                             "bank.csv")},
                content_type="multipart/form-data")
    listing = client.get("/bank?q=单选题1").text
    assert "单选题1？" in listing and "单选题2？" not in listing

    from kiosk.theory_exam.models import Question

    with app.extensions["kiosk"].session() as session:
        first = session.query(Question).order_by(Question.id).first().id
    client.post(f"/bank/{first}/toggle", data={"csrf_token": token})
    with app.extensions["kiosk"].session() as session:
        assert session.get(Question, first).enabled is False
    exported = client.get("/bank/export.xlsx")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    assert sheet["B1"].value == "题型" and sheet.max_row == 6


def test_paper_page_builds_papers_and_results_page_lists_stations(exam_event, app, client):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss2")
    login(client, "boss2")
    token = csrf_from(client.get("/paper").text)
    client.post("/paper", data={"csrf_token": token, "single": "4", "tf": "2",
                                "single_points": "3", "shuffle_questions": "1"})
    with app.extensions["kiosk"].session() as session:
        paper = session.query(Paper).first()
        assert len(paper.questions) == 6 and paper.full_marks == 14
    exam_event.start()
    assert "A01" not in client.get("/exam/results").text  # nobody has answered yet
    results = client.get("/exam/results.xlsx")
    assert results.data[:2] == b"PK"


def test_a_station_cannot_write_into_another_stations_paper(exam_event, app, client):
    exam_event.start()
    with app.extensions["kiosk"].session() as session:
        mine = session.get(Paper, exam_event.stations[0].id)
        theirs = session.get(Paper, exam_event.stations[1].id)
    client.post("/api/v1/station/login", json={"token": exam_event.badges["A01"].qr_token})
    # The bank has 20 questions and a paper 15: some question is always on another paper only.
    from sqlalchemy import select

    from kiosk.theory_exam.models import Question

    with app.extensions["kiosk"].session() as session:
        bank = [str(i) for i in session.scalars(select(Question.id))]
    not_mine = next(qid for qid in bank if qid not in {m["id"] for m in mine.questions})
    response = client.put(f"/api/v1/exam/answers/{not_mine}", json={"choice": None, "seq": 1})
    assert response.status_code == 404
    # Option keys are per station: another station's key for my question is no option of mine.
    their_keys = {o["key"] for q in theirs.questions for o in q["options"]}
    shared = mine.questions[0]
    foreign_key = next(k for k in sorted(their_keys)
                       if k not in {o["key"] for o in shared["options"]})
    response = client.put(f"/api/v1/exam/answers/{shared['id']}",
                          json={"choice": foreign_key, "seq": 2})
    assert response.status_code == 400
    paper = client.get("/api/v1/exam/paper").get_json()
    assert paper["questions"] == mine.questions and "key_map" not in json.dumps(paper)


def test_bad_answer_bodies_are_400_not_500(exam_event, client):
    exam_event.start()
    client.post("/api/v1/station/login", json={"token": exam_event.badges["A02"].qr_token})
    for body in [{}, {"choice": "x"}, {"choice": 5, "seq": 1}, {"choice": "x", "seq": -1},
                 {"choice": "x", "seq": True}, {"choice": "x", "seq": "7"}]:
        assert client.put("/api/v1/exam/answers/1", json=body).status_code == 400, body


def test_the_paper_page_draws_per_category_and_refuses_bad_json(exam_event, app, client):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss3")
    login(client, "boss3")
    token = csrf_from(client.get("/paper").text)
    refused = client.post("/paper", data={"csrf_token": token, "per_category": "{oops"},
                          follow_redirects=True)
    assert "JSON" in refused.text
    client.post("/paper", data={"csrf_token": token,
                                "per_category": '{"类一": {"single": 2, "tf": 3}}'})
    with app.extensions["kiosk"].session() as session:
        assert len(session.query(Paper).first().questions) == 5


def test_bank_and_audit_searches_take_wildcards_as_text_and_refuse_absurd_lengths(app, client):
    """A search box is text: `%` and `_` find themselves, and a 100 000-character query is a
    400 with the reason (SQLite refuses such a LIKE pattern: that was a 500)."""
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss")
    login(client, "boss")
    token = csrf_from(client.get("/bank").text)
    client.post("/bank", data={"csrf_token": token, "file": (io.BytesIO(bank_csv(3, 2)),
                                                             "bank.csv")},
                content_type="multipart/form-data")
    assert "单选题1？" in client.get("/bank?q=单选题").text
    for wildcard in ("%", "_", "单选题_"):
        assert "单选题1？" not in client.get("/bank", query_string={"q": wildcard}).text
    for url in ("/bank", "/audit"):
        key = "q" if url == "/bank" else "subject"
        answer = client.get(url, query_string={key: "题" * 100_000})
        assert answer.status_code == 400, (url, answer.status_code)
        assert "200" in answer.text  # the limit is named
    assert client.get("/audit", query_string={"subject": "%"}).status_code == 200


def test_a_per_category_file_of_the_wrong_shape_is_refused_in_one_line(kiosk_instance,
                                                                        tmp_path):
    """Valid JSON that is no {"category": {"single": n, "tf": m}} is a refusal that says how to
    write it, from the command line as from the page; never a traceback, never a paper."""
    for number, text in enumerate(('[1, 2]', '{"类一": 3}', '{"类一": {"single": "x"}}',
                                   '{"类一": {"single": -1}}', '{"类一": {"single": true}}',
                                   '{"类一": {"essay": 2}}')):
        spec = tmp_path / f"per-category-{number}.json"
        spec.write_text(text, "utf-8")
        result = kiosk(kiosk_instance.path, "paper", "set", "--per-category", spec)
        assert result.exit_code == 1, (text, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), text
        assert '{"分类": {"single": 10, "tf": 5}}' in result.output, (text, result.output)
    instance = kiosk_instance.open()
    with instance.session() as session:
        assert session.query(Paper).count() == 0
    instance.engine.dispose()


def test_points_per_question_are_read_as_marks_are_from_the_page_and_the_command_line(
        exam_event, kiosk_instance, app, client):
    """NaN was a traceback, 1e1 and ٨ (an Arabic-Indic eight) were taken as 10 and 8, 2.555 kept
    three decimals: points are typed numbers like marks (kiosk.numbers), refused in one line."""
    def full_marks():
        with app.extensions["kiosk"].session() as session:
            return sorted(str(paper.full_marks) for paper in session.query(Paper))

    before = full_marks()
    for typed in ("NaN", "1e1", "٨", "2.555", "-1"):
        result = kiosk(kiosk_instance.path, "paper", "set", "--single", 6, "--tf", 4,
                       "--single-points", typed)
        assert result.exit_code == 1, (typed, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), typed
        assert "不是数字" in result.output or "Not a number" in result.output, result.output
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss4")
    assert full_marks() == before  # nothing was rebuilt
    login(client, "boss4")
    token = csrf_from(client.get("/paper").text)
    refused = client.post("/paper", data={"csrf_token": token, "single": "6", "tf": "4",
                                          "single_points": "1e1"}, follow_redirects=True)
    assert "1e1" in refused.text
    full_width = kiosk(kiosk_instance.path, "paper", "set", "--single", 6, "--tf", 4,
                       "--single-points", "２.５", "--json")
    assert json.loads(full_width.output) == {"papers": 4, "full_marks": "19.00"}


def test_the_results_page_says_the_time_used_in_minutes_and_seconds(exam_event, app, client):
    # "19:10" reads as ten past seven; the page says 19 分 10 秒.
    start = clock.now() - timedelta(hours=1)
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=start)
    station = exam_event.stations[0]
    question = exam_event.session.get(Paper, station.id).questions[0]
    exam.save_answer(exam_event.session, station.id, question["id"],
                     question["options"][0]["key"], 1, now=start + timedelta(minutes=1),
                     grace=GRACE)
    exam.submit(exam_event.session, station.id, station.code,
                now=start + timedelta(minutes=19, seconds=10), grace=GRACE)
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss3")
    login(client, "boss3")
    page = client.get("/exam/results").text
    assert re.search(r'<td class="num">19 分 10 秒</td></tr>', page)
