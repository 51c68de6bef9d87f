"""The check-in desk through its pages, as the desk staff use it."""

import shutil
import subprocess

import pytest
from sqlalchemy import select

from kiosk.checkin.models import CheckinUndo, Contestant
from kiosk.models import AuditEvent
from tests.factories import csrf_from, id_number, login, make_user

ROSTER = "姓名,身份证号,单位,组别\r\n张三,{a},武汉数智,职工组\r\n张三丰,{b},长江职院,学生组\r\n"


@pytest.fixture
def desk(app, client):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        make_user(session, "checkin", username="desk")
        make_user(session, "chief", username="chief")
    ids = (id_number(1), id_number(2))
    login(client, "chief")
    page = client.get("/roster")
    client.post("/roster", data={"csrf_token": csrf_from(page.text), "file": (
        __import__("io").BytesIO(ROSTER.format(a=ids[0], b=ids[1]).encode()), "roster.csv")},
        content_type="multipart/form-data")
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/staff").text)})
    login(client, "desk")
    token = csrf_from(client.get("/checkin").text)

    def scan(**body):
        return client.post("/checkin/scan", json=body, headers={"X-CSRFToken": token})

    scan.ids = ids
    scan.token = token
    scan.instance = instance
    return scan


def test_a_scanned_id_checks_in_at_once(desk):
    response = desk(query=desk.ids[0].lower())  # a scanner may send a lower-case x
    data = response.get_json()
    assert data["person"]["name"] == "张三" and data["already"] is False
    assert data["person"]["id_number"].count("*") == 10
    assert data["counts"] == {"present": 1, "total": 2}


def test_a_second_scan_says_when_and_by_whom_and_changes_nothing(desk):
    desk(query=desk.ids[0])
    with desk.instance.session() as session:
        events = session.query(AuditEvent).count()
        first = session.scalar(select(Contestant.checked_in_at).where(Contestant.name == "张三"))
    again = desk(query=desk.ids[0]).get_json()
    assert again["already"] is True and again["by"] == "desk"
    with desk.instance.session() as session:
        assert session.query(AuditEvent).count() == events
        assert session.scalar(select(Contestant.checked_in_at)
                              .where(Contestant.name == "张三")) == first


def test_a_name_lists_the_matches_to_choose_from(desk):
    data = desk(query="张三").get_json()
    assert sorted(m["name"] for m in data["matches"]) == ["张三", "张三丰"]
    chosen = desk(contestant_id=data["matches"][0]["id"]).get_json()
    assert chosen["person"]["checked_in_time"]


def test_someone_not_on_the_roster_is_told_clearly(desk):
    response = desk(query="王五")
    assert response.status_code == 400
    assert "王五" in response.get_json()["message"]


def test_undo_needs_a_reason_and_is_recorded(client, desk):
    person = desk(query=desk.ids[1]).get_json()["person"]
    refused = client.post("/checkin/undo", json={"contestant_id": person["id"], "reason": " "},
                          headers={"X-CSRFToken": desk.token})
    assert refused.status_code == 400
    done = client.post("/checkin/undo", json={"contestant_id": person["id"],
                                              "reason": "认错人"},
                       headers={"X-CSRFToken": desk.token})
    assert done.status_code == 200
    with desk.instance.session() as session:
        undo = session.scalar(select(CheckinUndo))
        assert undo.reason == "认错人" and undo.undone_by == "desk"


def test_json_writes_without_the_csrf_header_are_refused(client, desk):
    response = client.post("/checkin/scan", json={"query": desk.ids[0]})
    assert response.status_code == 400


def test_absent_list_and_counts(client, desk):
    desk(query=desk.ids[0])
    assert client.get("/checkin/counts").get_json()["absent"] == 1
    page = client.get("/checkin/absent").text
    assert "张三丰" in page and "张三</td>" not in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_checkin_sheet_lists_everyone_with_signature_lines(client, desk, tmp_path):
    desk(query=desk.ids[0])
    response = client.get("/checkin/sheet.pdf")
    assert response.mimetype == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "检录单" in text and "张三" in text and "已检录" in text and "缺考" in text
    assert "检录员签字" in text and "裁判长签字" in text
    assert desk.ids[0] not in text  # masked on paper too


def test_roster_upload_page_lists_every_problem_and_imports_nothing(client, app):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="boss")
    login(client, "boss")
    page = client.get("/roster")
    bad = "姓名,身份证号,单位,组别\r\n,123,a,职工组\r\n李四,420102199001010010,a,无组\r\n"
    response = client.post("/roster", data={"csrf_token": csrf_from(page.text), "file": (
        __import__("io").BytesIO(bad.encode()), "bad.csv")},
        content_type="multipart/form-data")
    assert "line 2" in response.text and "line 3" in response.text
    with app.extensions["kiosk"].session() as session:
        assert session.query(Contestant).count() == 0


def test_a_wrong_check_digit_is_told_apart_from_not_on_the_roster(desk):
    typed = desk.ids[0][:17] + ("1" if desk.ids[0][17] != "1" else "2")  # one character off
    wrong = desk(query=typed)
    assert wrong.status_code == 400
    assert "校验位错误" in wrong.get_json()["message"]
    assert "名单中没有" not in wrong.get_json()["message"]
    stranger = desk(query=id_number(77))  # a real number, of someone not on the roster
    assert stranger.status_code == 400
    assert "名单中没有" in stranger.get_json()["message"]
    assert "校验" not in stranger.get_json()["message"]


def test_percent_and_underscore_are_text_in_a_name_search(desk):
    for query in ("%", "_", "张%", "_三", "%三%"):
        response = desk(query=query)
        assert response.status_code == 400, query  # nobody's name holds these characters
        assert "matches" not in response.get_json()


def test_an_overlong_query_is_refused_with_the_reason(desk):
    from kiosk.checkin.roster import find_contestants
    from kiosk.errors import KioskError

    response = desk(query="x" * 2000)
    assert response.status_code == 400
    assert "64" in response.get_json()["message"]
    # Larger than the desk's body limit: the door refuses it with the reason, never a 500.
    door = desk(query="x" * 100_000)
    assert door.status_code == 413 and door.get_json()["message"]
    # The service itself refuses it too (SQLite: "LIKE or GLOB pattern too complex").
    with desk.instance.session() as session, pytest.raises(KioskError) as refused:
        find_contestants(session, "x" * 100_000)
    assert refused.value.status == 400 and refused.value.details == {"max": 64}


def test_matches_say_who_is_checked_in_already(desk):
    desk(query=desk.ids[0])
    matches = {m["name"]: m for m in desk(query="张三").get_json()["matches"]}
    assert matches["张三"]["checked_in_at"] and matches["张三"]["checked_in_time"]
    assert matches["张三丰"]["checked_in_at"] is None
