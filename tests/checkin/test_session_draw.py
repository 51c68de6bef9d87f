"""The session draw (场次抽签) and each session's check-in and draws, with two sessions of
different groups: 职工组 in the morning (AM), 学生组 in the afternoon (PM)."""

import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from kiosk import clock, scope
from kiosk.checkin import draw_stages, records, session_draw
from kiosk.checkin import roster as contestants
from kiosk.checkin import verifiable_draw as rules
from kiosk.checkin.badges import render_badges
from kiosk.checkin.models import Contestant, ContestantNumber, SessionDrawRound
from kiosk.checkin.roster import import_roster
from kiosk.errors import Conflict, KioskError
from kiosk.models import AuditEvent
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges
from tests.actors import CHIEF, CRYPT1, CRYPT2, SOMEONE
from tests.factories import csrf_from, id_number, login, make_checkpoint, make_user

DOCS = Path(__file__).resolve().parents[2] / "docs" / "draw.md"
EVENT = "测试赛事"


def _sessions(event, am_capacity=None, pm_capacity=None):
    settings = event.instance.settings
    am = exam_sessions.add(event.session, "AM", name="上午场", groups=["职工组"],
                           capacity=am_capacity, settings=settings, actor=CHIEF,
                           now=clock.now())
    pm = exam_sessions.add(event.session, "PM", name="下午场", groups=["学生组"],
                           capacity=pm_capacity, settings=settings, actor=CHIEF,
                           now=clock.now())
    return am, pm


def _draw(session, entropy="3 5 1 6 2 4"):
    round_ = session_draw.commit(session, actor=CHIEF, now=clock.now())
    session_draw.draw(session, entropy, commitment=round_.commitment, actor=CHIEF,
                      now=clock.now())
    return session_draw.show_result(session, actor=CHIEF, now=clock.now())


@pytest.fixture
def two(event):
    """The event's 12 contestants (6 职工组, 6 学生组) drawn into AM and PM, published."""
    am, pm = _sessions(event)
    _draw(event.session)
    return am, pm


def _recipe():
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## The session draw"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the documented recipe, exactly as printed
    return namespace["recompute"]


# ----------------------------------------------------------------------------- the draw

def test_the_session_draw_recomputes_from_the_published_recipe(event):
    _sessions(event)
    published = _draw(event.session).as_json()
    roster = {p.id_number: p.group for p in event.people}
    assert _recipe()(published, roster) == {a["id_number"]: a["session"]
                                            for a in published["assignments"]}
    assert {a["session"] for a in published["assignments"]} == {"AM", "PM"}
    assert rules.commitment(bytes.fromhex(published["seed"])) == published["commitment"]


def test_the_recipe_matches_kiosk_on_shared_and_unequal_sessions():
    """Overlapping groups and unequal capacities, over many seeds: the documented code and
    kiosk agree, and nobody is ever left out or put in a session closed to their group."""
    roster = {f"id{i:03d}": ("学生组" if i % 3 else "职工组") for i in range(40)}
    slots = [rules.Slot("A", (), 20), rules.Slot("B", ("学生组",), 15),
             rules.Slot("C", ("职工组", "学生组"), 9)]
    recompute = _recipe()
    for n in range(20):
        seed = bytes([n]) * 32
        placed = rules.place_in_sessions(seed, "1 2", roster, slots)
        published = {"seed": seed.hex(), "commitment": rules.commitment(seed), "entropy": "1 2",
                     "sessions": [{"code": s.code, "groups": list(s.groups),
                                   "capacity": s.capacity} for s in slots]}
        assert recompute(published, roster) == placed
        assert set(placed) == set(roster)
        assert all(slot.admits(roster[p]) for p, code in placed.items()
                   for slot in slots if slot.code == code)


def test_a_group_is_spread_over_its_sessions_in_proportion_to_capacity():
    roster = {f"p{i:02d}": "职工组" for i in range(45)}
    placed = rules.place_in_sessions(bytes(32), "6", roster, [rules.Slot("AM", (), 60),
                                                               rules.Slot("PM", (), 30)])
    assert sorted(placed.values()).count("AM") == 30 and list(placed.values()).count("PM") == 15


def test_two_groups_sharing_two_sessions_are_each_split_evenly():
    roster = {f"w{i:02d}": "职工组" for i in range(20)} | {f"s{i:02d}": "学生组"
                                                         for i in range(20)}
    placed = rules.place_in_sessions(bytes(32), "6", roster, [rules.Slot("AM", (), 30),
                                                               rules.Slot("PM", (), 30)])
    for group in ("职工组", "学生组"):
        codes = [placed[p] for p in roster if roster[p] == group]
        assert codes.count("AM") == codes.count("PM") == 10


def test_a_session_open_to_everyone_keeps_room_for_the_group_that_has_no_other():
    # 学生组 is placed first (code-point order); spread evenly it would leave AM too small for
    # 职工组, which only AM admits: the room check keeps AM for them.
    roster = {f"w{i:02d}": "职工组" for i in range(10)} | {f"s{i:02d}": "学生组"
                                                         for i in range(10)}
    placed = rules.place_in_sessions(bytes(32), "1", roster, [rules.Slot("AM", (), 10),
                                                               rules.Slot("PM", ("学生组",), 10)])
    assert {placed[p] for p in roster if roster[p] == "职工组"} == {"AM"}
    assert [placed[p] for p in roster if roster[p] == "学生组"].count("PM") == 10


def test_each_contestant_gets_a_session_of_their_group_within_capacity(event, two):
    am, pm = two
    with scope.event_wide(event.session):
        people = list(event.session.scalars(select(Contestant)))
    assert {p.exam_session_id for p in people if p.group == "职工组"} == {am.id}
    assert {p.exam_session_id for p in people if p.group == "学生组"} == {pm.id}


def test_an_impossible_draw_is_refused_whole_with_the_reason(event):
    _sessions(event, am_capacity=4)  # 6 职工组, AM holds 4
    with pytest.raises(Conflict) as refused:
        session_draw.commit(event.session, actor=CHIEF, now=clock.now())
    message = refused.value.message % refused.value.details
    assert "职工组" in message and "6" in message and "AM" in message and "4" in message
    assert event.session.scalar(select(func.count()).select_from(SessionDrawRound)) == 0
    with scope.event_wide(event.session):
        assert event.session.scalar(select(func.count()).select_from(Contestant).where(
            Contestant.exam_session_id.is_(None))) == 0  # nobody moved


def test_a_redraw_before_publication_needs_a_reason_and_after_it_is_refused(event):
    _sessions(event)
    first = session_draw.commit(event.session, actor=CHIEF, now=clock.now())
    session_draw.draw(event.session, "1 1", commitment=first.commitment, actor=CHIEF,
                      now=clock.now())
    with pytest.raises(KioskError, match="reason"):
        session_draw.commit(event.session, actor=CHIEF, now=clock.now())
    second = session_draw.commit(event.session, actor=CHIEF, now=clock.now(),
                                 reason="领队会前发现名单错误")
    assert first.status == "superseded" and first.redraw_reason == "领队会前发现名单错误"
    superseded = event.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "sessions.draw_superseded"))
    assert "领队会前发现名单错误" in superseded.details
    with pytest.raises(Conflict, match="already used"):  # the replaced round's entropy
        session_draw.draw(event.session, "1 1", commitment=second.commitment, actor=CHIEF,
                          now=clock.now())
    session_draw.draw(event.session, "2 2", commitment=second.commitment, actor=CHIEF,
                      now=clock.now())
    session_draw.show_result(event.session, actor=CHIEF, now=clock.now())
    with pytest.raises(Conflict, match="final"):
        session_draw.commit(event.session, actor=CHIEF, now=clock.now(), reason="再抽一次")


def test_nothing_is_set_on_the_contestants_until_the_result_is_shown(event):
    _am, pm = _sessions(event)
    round_ = session_draw.commit(event.session, actor=CHIEF, now=clock.now())
    session_draw.draw(event.session, "5", commitment=round_.commitment, actor=CHIEF,
                      now=clock.now())
    exam_sessions.enter(event.session, pm)
    assert contestants.roster(event.session) == []  # not published: PM's desk shows nobody
    session_draw.show_result(event.session, actor=CHIEF, now=clock.now())
    assert len(contestants.roster(event.session)) == 6


def test_once_published_sessions_and_the_roster_can_no_longer_change(event, two):
    with pytest.raises(Conflict, match="published"):
        session_draw.require_open(event.session)
    rows = f"姓名,身份证号,单位,组别\r\n替补,{id_number(99)},单位9,职工组\r\n"
    with pytest.raises(Conflict, match="published"):
        import_roster(event.session, rows.encode(), "late.csv", groups=["职工组", "学生组"],
                      actor=SOMEONE, now=clock.now())


def test_the_roster_or_sessions_changing_after_the_commitment_refuses_the_draw(event):
    _sessions(event)
    round_ = session_draw.commit(event.session, actor=CHIEF, now=clock.now())
    contestants.withdraw(event.session, event.people[0].id_number, "生病", actor=CHIEF,
                         now=clock.now())
    with pytest.raises(Conflict, match="changed"):
        session_draw.draw(event.session, "4", commitment=round_.commitment, actor=CHIEF,
                          now=clock.now())


# ----------------------------------------------------------------------------- withdrawals

def test_a_withdrawn_contestant_is_recorded_not_deleted_and_refused_at_check_in(event, two):
    am, _pm = two
    person = next(p for p in event.people if p.group == "职工组")
    contestants.withdraw(event.session, person.id_number, "因病无法参赛", actor=CHIEF,
                         now=clock.now())
    with scope.event_wide(event.session):
        row = event.session.scalar(select(Contestant).where(
            Contestant.id_number == person.id_number))
    assert row is not None and row.withdrawn_reason == "因病无法参赛" and row.withdrawn_by
    assert row.exam_session_id == am.id  # keeps the published session
    exam_sessions.enter(event.session, am)
    with pytest.raises(Conflict) as refused:
        contestants.check_in(event.session, person.id_number, staff_id=None, actor=SOMEONE,
                             now=clock.now())
    assert "因病无法参赛" in refused.value.message % refused.value.details
    assert row.checked_in_at is None


def test_a_contestant_withdrawn_before_the_draw_gets_no_session(event):
    _sessions(event)
    person = event.people[0]
    contestants.withdraw(event.session, person.id_number, "退赛", actor=CHIEF, now=clock.now())
    published = _draw(event.session).as_json()
    assert person.id_number not in {a["id_number"] for a in published["assignments"]}
    assert len(published["assignments"]) == len(event.people) - 1


# ----------------------------------------------------------------------------- check-in

def test_check_in_shows_only_its_sessions_contestants(event, two):
    am, pm = two
    exam_sessions.enter(event.session, am)
    assert {p.group for p in contestants.roster(event.session)} == {"职工组"}
    assert contestants.counts(event.session).total == 6
    assert {p.group for p in contestants.absent(event.session)} == {"职工组"}
    exam_sessions.enter(event.session, pm)
    assert {p.group for p in contestants.roster(event.session)} == {"学生组"}


def test_a_contestant_of_another_session_is_told_where_they_belong(event, two):
    am, _pm = two
    student = next(p for p in event.people if p.group == "学生组")
    exam_sessions.enter(event.session, am)
    with pytest.raises(contestants.OtherSession) as refused:
        contestants.check_in(event.session, student.id_number, staff_id=None, actor=SOMEONE,
                             now=clock.now())
    assert "下午场（PM）" in refused.value.message % refused.value.details
    assert refused.value.status == 409
    with pytest.raises(contestants.OtherSession, match="session"):
        contestants.find_contestants(event.session, student.id_number)


def test_check_in_waits_for_the_published_session_draw(event):
    am, _pm = _sessions(event)
    exam_sessions.enter(event.session, am)
    with pytest.raises(Conflict, match="published"):
        contestants.check_in(event.session, event.people[1].id_number, staff_id=None,
                             actor=SOMEONE, now=clock.now())


@pytest.fixture
def am_desk(event, two, app, client):
    """The check-in desk's browser, with AM chosen in the header."""
    with app.extensions["kiosk"].session() as session:
        make_user(session, "checkin", username="desk")
    login(client, "desk")
    client.post("/session", data={"code": "AM", "csrf_token": csrf_from(
        client.get("/checkin").text)})
    page = client.get("/checkin")
    token = csrf_from(page.text)

    def scan(query):
        return client.post("/checkin/scan", json={"query": query},
                           headers={"X-CSRFToken": token})

    scan.page = page.text
    scan.client = client
    return scan


def test_the_desk_answers_409_with_the_other_session(event, am_desk):
    student = next(p for p in event.people if p.group == "学生组")
    worker = next(p for p in event.people if p.group == "职工组")
    assert "上午场" in am_desk.page
    reply = am_desk(student.id_number)
    assert reply.status_code == 409
    assert "PM" in reply.get_json()["message"] and "下午场" in reply.get_json()["message"]
    assert am_desk(worker.id_number).status_code == 200
    absent = am_desk.client.get("/checkin/absent").text
    assert student.name not in absent and "上午场" in absent
    assert any(p.name in absent for p in event.people if p.group == "职工组" and p != worker)
    counts = am_desk.client.get("/checkin/counts").get_json()
    assert counts["total"] == 6 and counts["present"] == 1
    sheet = _text(am_desk.client.get("/checkin/sheet.pdf").data)
    assert "上午场" in sheet and student.name not in sheet


def test_the_session_draw_page_commits_draws_shows_and_prints(event, app, client):
    _sessions(event)
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="chief")
    login(client, "chief")
    page = client.get("/sessions/draw")
    assert page.status_code == 200
    token = csrf_from(page.text)
    client.post("/sessions/draw/act", data={"action": "commit", "csrf_token": token})
    page = client.get("/sessions/draw").text
    commitment = re.search(r"data-commitment>([0-9a-f]{64})<", page).group(1)
    client.post("/sessions/draw/act", data={"action": "entropy", "entropy": "2 4 6",
                                            "commitment": commitment, "csrf_token": token})
    shown = client.get("/sessions/draw").text
    assert "data-session-result" in shown and "2 4 6" in shown
    assert session_draw.published(event.session) is not None
    record = client.get("/sessions/draw/record.pdf")
    assert record.status_code == 200 and "场次抽签记录表" in _text(record.data)
    assert "/sessions/draw" in client.get("/roster").text  # linked from the roster


# ----------------------------------------------------------------------------- the draws

def _check_in_all(event, exam_session):
    exam_sessions.enter(event.session, exam_session)
    for person in contestants.roster(event.session):
        contestants.check_in(event.session, person.id, staff_id=None, actor=SOMEONE,
                             now=clock.now())


def _stage(session, stage, entropy="9 9"):
    actor = CRYPT1 if stage == 1 else CRYPT2
    round_ = draw_stages.commit(session, stage, actor=actor, now=clock.now())
    draw_stages.draw(session, stage, entropy, commitment=round_.commitment, actor=actor,
                     now=clock.now())
    return draw_stages.plaintext_mapping(session, stage).pairs


def test_contestant_numbers_are_unique_across_sessions(event, two):
    am, pm = two
    numbers = {}
    for exam_session in (am, pm):
        _check_in_all(event, exam_session)
        numbers[exam_session.code] = {p["contestant_no"] for p in _stage(event.session, 1)}
    assert numbers["AM"] == {f"{n:03d}" for n in range(1, 7)}
    assert numbers["PM"] == {f"{n:03d}" for n in range(7, 13)}


def test_each_session_draws_its_own_stations_and_seals_on_its_own(event, two):
    am, pm = two
    stations = {}
    for exam_session in (am, pm):
        _check_in_all(event, exam_session)
        _stage(event.session, 1)
        draw_stages.seal(event.session, 1, event_name=EVENT, actor=CRYPT1, now=clock.now())
        pairs = _stage(event.session, 2)
        ids = dict(event.session.execute(select(Station.code, Station.id)).all())
        stations[exam_session.code] = {ids[p["station"]] for p in pairs}
        assert len(pairs) == 6
    assert stations["AM"].isdisjoint(stations["PM"])  # each session's own station rows
    exam_sessions.enter(event.session, am)
    draw_stages.seal(event.session, 2, event_name=EVENT, actor=CRYPT2, now=clock.now())
    assert draw_stages.current_round(event.session, 2).status == "sealed"
    # AM's seals rewrote its numbers in use and its stations: PM's are untouched.
    exam_sessions.enter(event.session, pm)
    assert draw_stages.current_round(event.session, 2).status == "drawn"
    assert sorted(event.session.scalars(select(ContestantNumber.no))) == \
        [f"{n:03d}" for n in range(7, 13)]
    assert event.session.scalar(select(func.count()).select_from(Station).where(
        Station.occupied.is_(True))) == 6


# ----------------------------------------------------------------------------- paper

def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_every_checkin_paper_names_its_session(event, two):
    _am, pm = two
    _check_in_all(event, pm)
    label = str(exam_sessions.label(pm, event.instance.settings))
    checkpoint = make_checkpoint(event.session)
    sheet = contestants.checkin_sheet_pdf(event.session, event_name=EVENT, session_name=label,
                                          checkpoint=checkpoint)
    assert "下午场" in _text(sheet) and "职工组" not in _text(sheet)
    _stage(event.session, 1)
    record = records.record_sheet(draw_stages.plaintext_mapping(event.session, 1), kind=1,
                                  event_name=EVENT, session_name=label, checkpoint=checkpoint)
    assert "下午场" in _text(record)
    issued = issue_badges(event.session, list(event.session.scalars(select(Station)))[:2],
                          badge_key=event.instance.badge_key(), actor=SOMEONE,
                          now=clock.now())
    assert "下午场" in _text(render_badges(issued, event_name=EVENT, session_name=label))


def test_the_session_draw_record_lists_everyone_with_their_session(event, two):
    result = session_draw.show_result(event.session, actor=CHIEF, now=clock.now())
    text = _text(records.session_draw_sheet(result, event_name=EVENT,
                                            checkpoint=make_checkpoint(event.session)))
    assert "场次抽签记录表" in text and "领队代表" in text and "裁判长" in text
    assert result.round.commitment[:8] in text
    assert text.count("上午场") >= 6 and text.count("下午场") >= 6


# ----------------------------------------------------------------------------- the command

def test_kiosk_sessions_draw_commits_then_draws_and_publishes_with_json(event, kiosk_instance,
                                                                         tmp_path):
    from click.testing import CliRunner

    from kiosk.checkin.cli import sessions_draw_command
    from kiosk.cli import main

    group = main.commands["sessions"]
    if "draw" not in group.commands:  # the lead attaches it in kiosk/cli.py
        group.add_command(sessions_draw_command)
    _sessions(event)
    event.session.commit()

    def kiosk(*args):
        return CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), *args])

    committing = kiosk("sessions", "draw", "--json")
    assert committing.exit_code == 3
    commitment = json.loads(committing.output)["commitment"]
    assert kiosk("sessions", "draw", "--json").exit_code == 3  # shown again, not replaced
    drawn = kiosk("sessions", "draw", "--entropy", "6 2 3", "--json")
    assert drawn.exit_code == 0, drawn.output
    published = json.loads(drawn.output)
    assert published["commitment"] == commitment and published["entropy"] == "6 2 3"
    assert {a["session"] for a in published["assignments"]} == {"AM", "PM"}
    assert set(published["assignments"][0]) == {"id_number", "session"}
    assert kiosk("sessions", "draw", "--reason", "again").exit_code == 1  # published: final
    out = tmp_path / "sessions.pdf"
    assert kiosk("records", "--sessions", "--out", str(out)).exit_code == 0
    assert "场次抽签记录表" in _text(out.read_bytes())
    added = kiosk("sessions", "add", "EVE", "--name", "晚场")
    assert added.exit_code == 1 and ("published" in added.output or "公布" in added.output)
    student = next(p for p in event.people if p.group == "学生组")
    elsewhere = kiosk("checkin", "--session", "AM", student.id_number)
    assert elsewhere.exit_code == 1 and "PM" in elsewhere.output
    withdrawn = kiosk("roster", "withdraw", student.id_number, "--reason", "因病", "--json")
    assert withdrawn.exit_code == 0 and json.loads(withdrawn.output)["reason"] == "因病"
    refused = kiosk("checkin", "--session", "PM", student.id_number)
    assert refused.exit_code == 1 and "因病" in refused.output
    sheet = tmp_path / "pm.pdf"
    assert kiosk("roster", "sheet", "--session", "PM", "--out", str(sheet)).exit_code == 0
    assert "下午场" in _text(sheet.read_bytes()) and "弃权" in _text(sheet.read_bytes())


def test_each_sessions_sealed_record_says_whose_it_is(event, two):
    import pyrage

    for exam_session in two:
        _check_in_all(event, exam_session)
        _stage(event.session, 1)
        round_ = draw_stages.seal(event.session, 1, event_name=EVENT, actor=CRYPT1,
                                  now=clock.now())
        document = json.loads(pyrage.decrypt(round_.ciphertext, [event.keys["crypt1"]]))
        assert document["session"] == exam_session.code
        assert {a["group"] for a in document["assignments"]} == set(exam_session.groups)
