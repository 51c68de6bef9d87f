"""The paper fallback from the command line: print, hashes, switch, two entries, resolve,
scores marked as graded from paper."""

import io
import json

from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.cli import main
from kiosk.models import AuditEvent
from kiosk.stations import exam_sessions
from kiosk.theory_exam import exam, paper_fallback
from kiosk.theory_exam.models import Paper
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import make_stations
from tests.plugins.theory_exam import GRACE, bank_csv


def kiosk(path, *args):
    return CliRunner().invoke(main, ["--instance", str(path), *map(str, args)])


def test_the_paper_fallback_from_the_command_line(exam_event, kiosk_instance, tmp_path):
    path = kiosk_instance.path
    out = tmp_path / "papers.pdf"
    printed = json.loads(kiosk(path, "paper", "print", "--out", out, "--json").output)
    assert [p["station"] for p in printed["papers"]] == ["A01", "A02", "A03", "A04"]
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert "A01" in reader.pages[0].extract_text()
    hashes = json.loads(kiosk(path, "paper", "hashes", "--json").output)["papers"]
    assert {h["station"]: h["sha256"] for h in hashes} == \
        {p["station"]: p["sha256"] for p in printed["papers"]}
    one = json.loads(kiosk(path, "paper", "print", "--out", tmp_path / "one.pdf",
                           "--stations", "a03", "--json").output)
    assert [p["station"] for p in one["papers"]] == ["A03"]

    assert kiosk(path, "phase", "start", "theory", "--minutes", 20).exit_code == 0
    assert kiosk(path, "paper", "switch", "A01", "--reason", " ").exit_code == 1
    switched = json.loads(kiosk(path, "paper", "switch", "A01", "--reason", "交换机故障",
                                "--json").output)
    assert switched == {"station": "A01", "on_paper": True, "online_answers": 0}

    with exam_event.instance.session() as session:
        paper = session.get(Paper, exam_event.stations[0].id)
        sheet = paper_fallback.printed_paper(paper, "A01")
    answers = "".join("对" if q.type == "tf" else "A" for q in sheet.questions)
    first = json.loads(kiosk(path, "paper", "sheet", "A01", answers, "--entry", 1,
                             "--json").output)
    assert first["answered"] == len(sheet.questions) and not first["agreed"]
    second = answers[:1] + "-" + answers[2:]  # question 2 read as blank
    typed = json.loads(kiosk(path, "paper", "sheet", "A01", second, "--entry", 2,
                             "--json").output)
    assert typed["differences"] == 1 and not typed["agreed"]
    bad = kiosk(path, "paper", "sheet", "A01", "Z" * len(sheet.questions), "--entry", 2)
    assert bad.exit_code == 1 and "Z" in bad.output
    listed = json.loads(kiosk(path, "paper", "differences", "--json").output)
    assert listed["stations"][0]["differences"] == [
        {"question": 2, "entry_1": "A", "entry_2": "", "online": ""}]
    assert "2" in kiosk(path, "paper", "differences").output
    resolved = json.loads(kiosk(path, "paper", "resolve", "A01", 2, "A", "--reason", "清楚",
                                "--json").output)
    assert resolved["agreed"] is True

    assert kiosk(path, "phase", "end", "theory").exit_code == 0
    scores = json.loads(kiosk(path, "exam", "scores", "--json", "--out",
                              tmp_path / "s.xlsx").output)
    row = next(r for r in scores["stations"] if r["station"] == "A01")
    assert row["graded_from"] == "paper" and row["answered"] == len(sheet.questions)
    xlsx = load_workbook(tmp_path / "s.xlsx").active
    assert xlsx["G2"].value == "评分依据" and xlsx["G3"].value == "纸质答题卡"
    with exam_event.instance.session() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions.count("paper.printed") == 2 and "paper.switched" in actions
    assert "paper.sheet_agreed" in actions


def test_printing_is_of_the_session_the_hall_serves_or_the_one_named(instance, session,
                                                                     kiosk_instance, tmp_path):
    import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
    make_stations(session, 2)
    for code, name, group in (("AM", "上午场", "职工组"), ("PM", "下午场", "学生组")):
        exam_sessions.add(session, code, name=name, groups=[group], capacity=None,
                          settings=instance.settings, actor=CHIEF, now=clock.now())
    set_spec(session, SpecInput(single=4, tf=2), actor=CHIEF, now=clock.now())
    path = kiosk_instance.path
    served = json.loads(kiosk(path, "paper", "print", "--out", tmp_path / "am.pdf",
                              "--json").output)
    assert served["session"] == "AM" and [p["station"] for p in served["papers"]] == \
        ["A01", "A02"]
    named = json.loads(kiosk(path, "paper", "print", "--out", tmp_path / "pm.pdf",
                             "--session", "PM", "--json").output)
    assert named["session"] == "PM"
    assert {p["sha256"] for p in named["papers"]}.isdisjoint(
        {p["sha256"] for p in served["papers"]})  # each session's own papers
    text = PdfReader(io.BytesIO((tmp_path / "pm.pdf").read_bytes())).pages[0].extract_text()
    assert "场次 PM" in text
    hashes = kiosk(path, "paper", "hashes", "--session", "PM").output.splitlines()
    assert hashes[0] == "场次 PM" and hashes[1].split() == ["A01", named["papers"][0]["sha256"]]
    assert kiosk(path, "paper", "switch", "A01", "--reason", "x").exit_code == 1  # which one?
    switched = json.loads(kiosk(path, "paper", "switch", "A01", "--reason", "断网",
                                "--session", "PM", "--json").output)
    assert switched["station"] == "A01"
    listed = json.loads(kiosk(path, "paper", "differences", "--session", "AM", "--json").output)
    assert listed["stations"] == []


def test_the_text_output_says_what_the_sheet_says_and_which_stations_are_on_paper(
        exam_event, kiosk_instance):
    path = kiosk_instance.path
    assert kiosk(path, "phase", "start", "theory", "--minutes", 20).exit_code == 0
    assert kiosk(path, "paper", "switch", "A01", "--reason", "交换机故障").exit_code == 0
    with exam_event.instance.session() as session:
        sheet = paper_fallback.printed_paper(session.get(Paper, exam_event.stations[0].id), "A01")
    tf = next(q.number for q in sheet.questions if q.type == "tf")
    first = "".join("对" if q.type == "tf" else "A" for q in sheet.questions)
    second = "".join("错" if q.number == tf else first[q.number - 1] for q in sheet.questions)
    kiosk(path, "paper", "sheet", "A01", first, "--entry", 1)
    kiosk(path, "paper", "sheet", "A01", second, "--entry", 2)
    with exam_event.instance.session() as session:  # A02 answers online
        question = session.get(Paper, exam_event.stations[1].id).questions[0]
        exam.save_answer(session, exam_event.stations[1].id, question["id"],
                         question["options"][0]["key"], 1, now=clock.now(), grace=GRACE)
    # The sheet's own words (对/错), never the stored code (T/F).
    assert f"{tf:>3}  对 / 错" in kiosk(path, "paper", "differences").output
    resolved = kiosk(path, "paper", "resolve", "A01", tf, "错", "--reason", "清楚").output
    assert resolved.strip().endswith("错。") and "F" not in resolved
    # The scores: a header line, and the paper station named as graded from paper.
    assert kiosk(path, "phase", "end", "theory").exit_code == 0
    lines = kiosk(path, "exam", "scores").output.splitlines()
    assert lines[0].split() == ["赛位号", "得分", "满分", "作答数", "交卷时间", "用时", "评分依据"]
    a01 = next(line for line in lines if line.startswith("A01"))
    assert a01.rstrip().endswith("按纸质答题卡评分")
    a02 = next(line for line in lines if line.startswith("A02"))
    assert a02.rstrip().endswith("在线作答")
