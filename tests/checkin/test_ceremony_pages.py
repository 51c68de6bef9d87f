"""The draw ceremonies through their pages: the judge commits, a supervisor enters the entropy,
the judge prepares, prints and seals."""

import shutil
import subprocess

import pytest
from sqlalchemy import select

from kiosk.checkin.models import DrawRound
from tests.factories import PASSWORD, csrf_from, login, make_user


@pytest.fixture
def judges(app, event):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "crypt1", username="j1")
        make_user(session, "supervisor", username="sup")
        make_user(session, "chief", username="boss")
    event.checkin()
    return app


def _post(client, url, **form):
    token = csrf_from(client.get("/draw/1").text)
    return client.post(url, data={"csrf_token": token, **form})


def test_the_whole_first_draw_through_the_pages(judges, tmp_path):
    judge, supervisor = judges.test_client(), judges.test_client()
    login(judge, "j1")
    login(supervisor, "sup")
    _post(judge, "/draw/1/act", action="commit")
    page = judge.get("/draw/1").text
    with judges.extensions["kiosk"].session() as session:
        commitment = session.scalar(select(DrawRound.commitment))
    assert commitment in page
    # The supervisor enters the entropy on their own screen; they cannot run other steps.
    assert _post(supervisor, "/draw/1/act", action="commit").status_code == 403
    _post(supervisor, "/draw/1/entropy", entropy="6 2 3 5", commitment=commitment)
    _post(judge, "/draw/1/act", action="prepare")
    with judges.extensions["kiosk"].session() as session:
        round_ = session.scalar(select(DrawRound))
        assert round_.status == "prepared" and round_.entropy == "6 2 3 5"
    record = judge.get("/draw/1/record.pdf")
    assert record.mimetype == "application/pdf"
    if shutil.which("pdftotext"):
        pdf = tmp_path / "r.pdf"
        pdf.write_bytes(record.data)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout.replace("\n", "")
        flat = "".join(text.split())  # hashes print in groups of 8
        assert "一次加密记录表" in text and commitment in flat
        assert round_.ciphertext_sha256 in flat and "6 2 3 5" in text
        assert "一次加密裁判签字" in text and "监督人员签字" in text
    unconfirmed = _post(judge, "/draw/1/act", action="seal")
    assert unconfirmed.status_code == 302
    _post(judge, "/draw/1/act", action="seal", confirm="yes")
    with judges.extensions["kiosk"].session() as session:
        assert session.scalar(select(DrawRound.status)) == "sealed"
    assert judge.get("/draw/1/record.pdf").status_code == 409  # nothing left to print


def test_the_chief_judge_cannot_see_the_draw(judges):
    chief = judges.test_client()
    login(chief, "boss")
    assert chief.get("/draw/1").status_code == 403
    assert chief.get("/draw/2").status_code == 403


def test_badge_page_prints_a_pdf_and_reissues(judges, app):
    chief = judges.test_client()
    login(chief, "boss")
    page = chief.get("/badges")
    response = chief.post("/badges", data={"csrf_token": csrf_from(page.text),
                                           "station": ["A01", "A02"]})
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    from kiosk.stations.models import Station

    with app.extensions["kiosk"].session() as session:
        generations = dict(session.execute(select(Station.code, Station.badge_generation)).all())
    assert generations["A01"] == 1 and generations["A03"] == 0


def test_entropy_from_a_screen_that_showed_a_replaced_commitment_is_refused(judges):
    judge, supervisor = judges.test_client(), judges.test_client()
    login(judge, "j1")
    login(supervisor, "sup")
    _post(judge, "/draw/1/act", action="commit")
    shown = supervisor.get("/draw/1").text
    with judges.extensions["kiosk"].session() as session:
        first = session.scalar(select(DrawRound.commitment))
    assert f'name="commitment" value="{first}"' in shown
    _post(judge, "/draw/1/act", action="commit")  # a new commitment the supervisor has not seen
    _post(supervisor, "/draw/1/entropy", entropy="6 2 3 5", commitment=first)
    with judges.extensions["kiosk"].session() as session:
        statuses = list(session.scalars(select(DrawRound.status).order_by(DrawRound.id)))
    assert statuses == ["superseded", "committed"]


def test_the_result_on_screen_is_final_without_a_supervisor(judges, tmp_path):
    judge = judges.test_client()
    login(judge, "j1")
    _post(judge, "/draw/1/act", action="commit")
    with judges.extensions["kiosk"].session() as session:
        commitment = session.scalar(select(DrawRound.commitment))
    _post(judge, "/draw/1/entropy", entropy="6 2 3 5", commitment=commitment)
    page = judge.get("/draw/1").text  # the result is on the screen now
    assert "监督人员会签" in page
    _post(judge, "/draw/1/act", action="commit")
    shown = judge.get("/draw/1").text
    assert "需要监督人员会签" in shown
    with judges.extensions["kiosk"].session() as session:
        statuses = list(session.scalars(select(DrawRound.status).order_by(DrawRound.id)))
    assert statuses == ["drawn"]
    # A wrong password is refused and counted like a sign-in; the right one redraws.
    _post(judge, "/draw/1/act", action="commit", supervisor="sup", password="wrong-one-1",
          reason="熵输错了")
    assert "用户名或密码错误" in judge.get("/draw/1").text
    with judges.extensions["kiosk"].session() as session:
        assert session.scalar(select(DrawRound.status)) == "drawn"
    _post(judge, "/draw/1/act", action="commit", supervisor="sup", password=PASSWORD,
          reason="熵输错了")
    _post(judge, "/draw/1/entropy", entropy="1 2 3 4",
          commitment=_current_commitment(judges))
    judge.get("/draw/1")
    _post(judge, "/draw/1/act", action="prepare")
    record = judge.get("/draw/1/record.pdf")
    if shutil.which("pdftotext"):
        pdf = tmp_path / "r.pdf"
        pdf.write_bytes(record.data)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout.replace("\n", "")
        assert "重新抽签" in text and "熵输错了" in text and "sup" in text


def _current_commitment(app):
    from kiosk.checkin import draw_stages

    with app.extensions["kiosk"].session() as session:
        return draw_stages.current_round(session, 1).commitment


def test_a_redraw_says_what_happened_and_keeps_the_reason_typed(judges):
    judge = judges.test_client()
    login(judge, "j1")
    _post(judge, "/draw/1/act", action="commit")
    _post(judge, "/draw/1/entropy", entropy="6 2 3 5", commitment=_current_commitment(judges))
    judge.get("/draw/1")  # the result is on the screen: a redraw is co-signed from now on
    # The supervisor's password mistyped: said as theirs, and nothing typed is lost but it.
    _post(judge, "/draw/1/act", action="commit", supervisor="sup", password="wrong-one-1",
          reason="熵输错了")
    page = judge.get("/draw/1").text
    assert "监督人员的用户名或密码错误" in page
    assert 'value="熵输错了"' in page and 'value="sup"' in page
    assert "<details class=\"redraw\" data-redraw open>" in page
    assert "wrong-one-1" not in page
    # Once only: the next visit shows an empty form again.
    assert 'value="熵输错了"' not in judge.get("/draw/1").text
    # Co-signed: the page says so, with who co-signed.
    _post(judge, "/draw/1/act", action="commit", supervisor="sup", password=PASSWORD,
          reason="熵输错了")
    page = judge.get("/draw/1").text
    assert "已重新抽签" in page and "监督人员 sup 会签" in page
    assert 'class="flash flash-success' in page or "flash-success" in page
