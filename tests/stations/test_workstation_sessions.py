"""A workstation of an event in sessions (场次): its requests are about its station's session
only: the clock, the announcements, its hand-ins and receipts."""

from tests.stations.two_sessions import two_session_day


def test_a_workstation_sees_its_own_sessions_clock_and_announcements(app):
    day = two_session_day(app)
    body = day.clients["PM"].get("/api/v1/clock").get_json()
    assert body["phase"] == "practical" and body["phase_state"] == "running"
    assert [a["text"] for a in body["announcements"]] == ["下午公告"]
    if "session" in body:  # once the API names it (kiosk.field.sessions_shown.clock_session)
        assert body["session"] == {"code": "PM", "name": "下午场"}
    # AM's workstation, still signed in after its day: AM's clock (ended), AM's word.
    am = day.clients["AM"].get("/api/v1/clock").get_json()
    assert [a["text"] for a in am["announcements"]] == ["上午公告"]
    assert am["phase_state"] == "ended"
