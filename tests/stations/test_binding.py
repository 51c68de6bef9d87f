"""One browser per station, release and rebind (kiosk.stations.binding); and what the field
judges do with a station: telemetry, incidents, extensions, announcements, the hall clock."""

import threading

from kiosk import clock
from kiosk.field import announcements
from kiosk.stations import binding
from tests.actors import CHIEF, FIELD_JUDGE
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user


def _badge(app, **options):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        station = make_stations(session, 1, **options)[0]
        return issue_badge(session, station, instance.badge_key())


def test_two_browsers_racing_for_one_station_one_wins_the_other_gets_409(app):
    badge = _badge(app)
    results = []
    barrier = threading.Barrier(2)

    def sign_in():
        client = app.test_client()
        barrier.wait()
        results.append(client.post("/api/v1/station/login",
                                   json={"token": badge.qr_token}).status_code)

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]


def test_the_second_browser_is_told_what_to_do_and_a_release_lets_it_in(app):
    badge = _badge(app)
    first, second = app.test_client(), app.test_client()
    assert first.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200
    refused = second.post("/api/v1/station/login", json={"token": badge.fallback_code})
    assert refused.status_code == 409
    assert "现场裁判" in refused.get_json()["message"]
    # The same browser signing in again keeps its session.
    assert first.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200
    with app.extensions["kiosk"].session() as session:
        binding.release(session, "A01", actor=FIELD_JUDGE, now=clock.now())
    assert first.get("/api/v1/exam/paper").status_code == 401  # the old browser is out
    assert first.get("/api/v1/clock").get_json()["signed_out"] is True
    assert second.post("/api/v1/station/login", json={"token": badge.qr_token}).status_code == 200


def test_binding_a_station_to_another_workstation(app):
    badge = _badge(app, first_ip="10.9.9.1")
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.9.9.2"}
    assert client.post("/api/v1/station/login", json={"token": badge.qr_token},
                       environ_base=here).status_code == 403
    with app.extensions["kiosk"].session() as session:
        binding.rebind(session, "A01", "10.9.9.2", actor=FIELD_JUDGE, now=clock.now())
    assert client.post("/api/v1/station/login", json={"token": badge.qr_token},
                       environ_base=here).status_code == 200


def test_telemetry_is_recorded_and_shown_to_field_judges(app):
    badge = _badge(app)
    kiosk = app.test_client()
    kiosk.post("/api/v1/station/login", json={"token": badge.qr_token})
    events = [{"kind": "blur"}, {"kind": "copy"}, {"kind": "nonsense"}, "junk"]
    assert kiosk.post("/api/v1/station/telemetry", json={"events": events}).get_json() == {
        "recorded": 2}
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    board = judge.get("/field").text
    assert "离开考试窗口 ×1" in board and "尝试复制 ×1" in board and "在线" in board
    detail = judge.get("/field/A01").text
    assert "<td>尝试复制</td>" in detail


def test_field_judges_extend_record_incidents_and_early_finish(app):
    _badge(app)
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge2")
        from kiosk.stations import phases

        phases.start(session, "practical", 120, actor=CHIEF, now=clock.now())
    judge = app.test_client()
    login(judge, "judge2")
    token = csrf_from(judge.get("/field/A01").text)
    judge.post("/field/A01/act", data={"csrf_token": token, "action": "extend", "minutes": "10",
                                       "reason": "设备故障（非选手原因）"})
    judge.post("/field/A01/act", data={"csrf_token": token, "action": "incident",
                                       "rule": "使用手机", "deduction": "5%"})
    judge.post("/field/A01/act", data={"csrf_token": token, "action": "early_finish",
                                       "phase": "practical"})
    detail = judge.get("/field/A01").text
    assert "设备故障（非选手原因）" in detail and "使用手机" in detail
    board = judge.get("/field").text
    assert "+10" in board and "1 条违规记录" in board and "提前结束" in board


def test_announcements_reach_the_clock_and_can_be_withdrawn(app, client):
    with app.extensions["kiosk"].session() as session:
        item = announcements.announce(session, "请保存作品 <b>", actor=CHIEF, now=clock.now())
    texts = [a["text"] for a in client.get("/api/v1/clock").get_json()["announcements"]]
    assert texts == ["请保存作品 <b>"]
    with app.extensions["kiosk"].session() as session:
        announcements.withdraw(session, item.id, actor=CHIEF, now=clock.now())
    assert client.get("/api/v1/clock").get_json()["announcements"] == []


def test_the_chief_judge_is_told_the_announcement_went_out_and_when_it_is_withdrawn(app):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="chief")
    chief = app.test_client()
    login(chief, "chief")
    token = csrf_from(chief.get("/control").text)
    page = chief.post("/control/announce", data={"csrf_token": token, "text": "请检查工位牌"},
                      follow_redirects=True).text
    assert "公告已发布" in page and "<td>请检查工位牌</td>" in page
    [listed] = app.test_client().get("/api/v1/clock").get_json()["announcements"]
    page = chief.post("/control/announce", data={"csrf_token": token, "withdraw": listed["id"]},
                      follow_redirects=True).text
    assert "公告已撤回" in page and "<td>请检查工位牌</td>" not in page
    assert app.test_client().get("/api/v1/clock").get_json()["announcements"] == []
    # A refused one says why, never that it went out.
    page = chief.post("/control/announce", data={"csrf_token": token, "text": "  "},
                      follow_redirects=True).text
    assert "flash-error" in page and "公告已发布" not in page
    page = chief.post("/control/announce", data={"csrf_token": token, "withdraw": "999"},
                      follow_redirects=True).text
    assert "flash-error" in page and "公告已撤回" not in page


def test_the_hall_clock_opens_with_its_view_link_only(app, client):
    token = app.extensions["kiosk"].hall_token()
    assert client.get(f"/hall/{token}").status_code == 200
    assert client.get("/hall/guess").status_code == 404


def test_exam_pages_are_never_cached(client):
    assert "no-store" in client.get("/kiosk").headers["Cache-Control"]


def test_a_copied_session_cookie_is_refused_on_another_workstation(app):
    """Issue 14, item 10: the station's session belongs to the workstation that signed in. A
    cookie copied to another machine is refused on every station request (and the field judges
    see where it came from); the real workstation goes on."""
    badge = _badge(app)
    here, there = {"REMOTE_ADDR": "10.9.9.5"}, {"REMOTE_ADDR": "10.9.9.6"}
    real = app.test_client()
    assert real.post("/api/v1/station/login", json={"token": badge.qr_token},
                     environ_base=here).status_code == 200
    copy = app.test_client()
    cookie = real.get_cookie("kiosk_session")
    copy.set_cookie("kiosk_session", cookie.value)
    assert copy.get("/api/v1/exam/paper", environ_base=there).status_code == 401
    assert copy.post("/api/v1/station/telemetry", json={"events": [{"kind": "blur"}]},
                     environ_base=there).status_code == 401
    assert copy.get("/api/v1/collect/mine", environ_base=there).status_code == 401
    assert copy.get("/api/v1/clock", environ_base=there).get_json()["signed_out"] is True
    # Even within the moment a confirmed session is trusted without asking the database.
    assert real.get("/api/v1/collect/mine", environ_base=here).status_code == 200
    assert copy.get("/api/v1/collect/mine", environ_base=there).status_code == 401
    assert real.get("/api/v1/clock", environ_base=here).get_json()["signed_out"] is False
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    detail = judge.get("/field/A01").text
    assert "10.9.9.6" in detail


def test_a_rebound_station_refuses_its_old_workstation_at_once(app):
    badge = _badge(app, first_ip="10.9.9.1")
    old = {"REMOTE_ADDR": "10.9.9.1"}
    kiosk = app.test_client()
    assert kiosk.post("/api/v1/station/login", json={"token": badge.qr_token},
                      environ_base=old).status_code == 200
    assert kiosk.get("/api/v1/collect/mine", environ_base=old).status_code == 200
    with app.extensions["kiosk"].session() as session:
        binding.rebind(session, "A01", "10.9.9.2", actor=FIELD_JUDGE, now=clock.now())
    assert kiosk.get("/api/v1/collect/mine", environ_base=old).status_code == 401


def test_the_station_in_use_answer_tells_the_contestant_what_to_do_not_where(app):
    badge = _badge(app)
    first, second = app.test_client(), app.test_client()
    first.post("/api/v1/station/login", json={"token": badge.qr_token},
               environ_base={"REMOTE_ADDR": "10.9.9.5"})
    refused = second.post("/api/v1/station/login", json={"token": badge.qr_token},
                          environ_base={"REMOTE_ADDR": "10.9.9.7"})
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "现场裁判" in message and "10.9.9.5" not in message
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    detail = judge.get("/field/A01").text
    assert "10.9.9.5" in detail and "10.9.9.7" in detail


def test_a_dual_stack_address_is_the_same_workstation(app):
    """On a dual-stack listener the socket writes 10.9.9.1 as ::ffff:10.9.9.1: the bound
    workstation is still itself, at sign-in and on every request after it."""
    badge = _badge(app, first_ip="10.9.9.1")
    mapped = {"REMOTE_ADDR": "::ffff:10.9.9.1"}
    kiosk = app.test_client()
    assert kiosk.post("/api/v1/station/login", json={"token": badge.qr_token},
                      environ_base=mapped).status_code == 200
    assert kiosk.get("/api/v1/collect/mine",
                     environ_base={"REMOTE_ADDR": "10.9.9.1"}).status_code == 200
    assert binding.same_address("fe80::1%eth0", "fe80::1")
    assert not binding.same_address("10.9.9.1", "10.9.9.2")
