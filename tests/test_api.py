import re

from kiosk.openapi import openapi_document
from tests.factories import issue_badge, make_stations

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def test_clock_answers_with_server_time_in_iso_with_milliseconds(client):
    body = client.get("/api/v1/clock").get_json()
    assert ISO_MS.match(body["server_time"])
    assert set(body) >= {"server_time", "phase", "phase_ends_at", "station_deadline",
                         "warnings_at_minutes", "announcements"}
    assert body["warnings_at_minutes"] == [15, 5, 1]


def test_unknown_badge_is_401_with_json_error(client):
    response = client.post("/api/v1/station/login", json={"token": "NOTABADGE"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.get_json()["message"].startswith("工位牌编码无效")


def _badge(app, **station_options):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        station = make_stations(session, 1, **station_options)[0]
        return issue_badge(session, station, instance.badge_key())


def test_the_qr_text_logs_the_station_in(app, client):
    badge = _badge(app)
    response = client.post("/api/v1/station/login", json={"token": badge.qr_token})
    assert response.status_code == 200
    assert response.get_json()["station"] == "A01"
    assert "kiosk_session" in response.headers["Set-Cookie"]


def test_the_typed_fallback_code_logs_in_however_it_is_typed(app, client):
    badge = _badge(app)
    for typed in (badge.fallback_display, badge.fallback_code.lower(),
                  " ".join(badge.fallback_code)):
        response = client.post("/api/v1/station/login", json={"token": typed})
        assert response.status_code == 200, typed


def test_a_reprinted_badge_kills_the_old_one(app, client):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        station = make_stations(session, 1)[0]
        old = issue_badge(session, station, instance.badge_key())
        new = issue_badge(session, station, instance.badge_key())
    for token in (old.qr_token, old.fallback_code):
        assert client.post("/api/v1/station/login", json={"token": token}).status_code == 401
    assert client.post("/api/v1/station/login", json={"token": new.qr_token}).status_code == 200


def test_badge_tokens_are_stored_only_hashed(app):
    badge = _badge(app)
    instance = app.extensions["kiosk"]
    with instance.engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(text("SELECT * FROM station")).mappings().one()
    values = " ".join(str(v) for v in row.values())
    assert badge.qr_token not in values and badge.fallback_code not in values
    assert len(badge.qr_token) >= 26  # at least 128 bits of base32


def test_a_station_bound_to_a_workstation_refuses_others(app, client):
    badge = _badge(app, first_ip="10.1.1.5")
    elsewhere = client.post("/api/v1/station/login", json={"token": badge.qr_token},
                            environ_base={"REMOTE_ADDR": "10.1.1.6"})
    assert elsewhere.status_code == 403
    home = client.post("/api/v1/station/login", json={"token": badge.qr_token},
                       environ_base={"REMOTE_ADDR": "10.1.1.5"})
    assert home.status_code == 200


def test_badge_guessing_is_throttled(client):
    codes = [client.post("/api/v1/station/login", json={"token": f"GUESS{i}"}).status_code
             for i in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


def test_malformed_login_body_is_a_400_not_a_crash(client):
    for body in ["", "[]", '{"token": 5}', "not json"]:
        response = client.post("/api/v1/station/login", data=body,
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.get_json()["error"]


def test_api_errors_are_json_even_for_unknown_paths(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_cross_site_api_writes_are_refused(client):
    foreign = client.post("/api/v1/station/login", json={"token": "X"},
                          headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    form_like = client.post("/api/v1/station/login", data="token=X",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form_like.status_code == 403


def test_openapi_is_3_1_and_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    described = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/")}
    assert routes - described == set(), "routes missing from kiosk/openapi.py"


def test_openapi_promises_nothing_that_is_not_served(app):
    """Calls not marked planned must really exist; planned ones are the interface still to build."""
    served = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    for path, operations in openapi_document()["paths"].items():
        for operation in operations.values():
            if operation.get("x-kiosk-status") != "planned":
                assert path in served, path


def test_openapi_covers_the_whole_interface():
    paths = set(openapi_document()["paths"])
    assert {"/api/v1/station/login", "/api/v1/clock", "/api/v1/exam/paper",
            "/api/v1/exam/answers/{qid}", "/api/v1/exam/submit", "/api/v1/collect/upload",
            "/api/v1/collect/receipts/{receipt_no}.pdf"} <= paths


def test_a_wrong_method_says_which_methods_are_allowed(client):
    response = client.delete("/api/v1/station/login")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
