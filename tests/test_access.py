"""Every route declares who may use it, and every staff route refuses everybody else."""

import pytest

from kiosk.models import ROLES
from tests.factories import login, make_user

EXEMPT_ENDPOINTS = {"static"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        yield rule, getattr(view, "access", None)


def _url(rule) -> str:
    # Fill path arguments with harmless values: access is checked before anything is looked up.
    values = dict.fromkeys(rule.arguments, "1")
    return rule.build(values, append_unknown=False)[1]


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def test_every_route_declares_its_access(app):
    undeclared = [rule.rule for rule, access in _routes(app) if access is None]
    assert undeclared == [], "routes without @roles_required/@station_required/@public"


def test_staff_routes_refuse_anonymous_users(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    staff_rules = [rule for rule, access in _routes(app) if access[0] == "staff"]
    assert staff_rules, "the walk found no staff routes"
    for rule in staff_rules:
        response = client.open(_url(rule), method=_method(rule))
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302, rule.rule
            assert "/login" in response.headers["Location"], rule.rule


def test_staff_routes_refuse_every_wrong_role(app, kiosk_instance):
    app.config["WTF_CSRF_ENABLED"] = False
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        for role in ROLES:
            make_user(session, role, username=f"walk_{role}")
    staff_rules = [(rule, access[1]) for rule, access in _routes(app) if access[0] == "staff"]
    # Signing out ends the walk, so it comes last.
    staff_rules.sort(key=lambda item: item[0].endpoint == "auth.logout")
    for role in ROLES:
        client = app.test_client()
        assert login(client, f"walk_{role}").status_code == 302
        for rule, allowed in staff_rules:
            response = client.open(_url(rule), method=_method(rule))
            if role in allowed:
                assert response.status_code != 403, (role, rule.rule)
            else:
                assert response.status_code == 403, (role, rule.rule)


def test_station_routes_refuse_a_browser_without_a_station(app):
    client = app.test_client()
    for rule, access in _routes(app):
        if access[0] == "station":
            response = client.open(_url(rule), method=_method(rule),
                                   headers={"Content-Type": "application/json"}, data="{}")
            assert response.status_code == 401, rule.rule


@pytest.mark.parametrize("database", ["sqlite"])
def test_a_role_may_only_be_one_of_the_seven(session):
    from kiosk.errors import ImportErrors

    with pytest.raises(ImportErrors, match="Unknown role"):
        make_user(session, "janitor")


# ----------------------------------------------------------------------------- body limits

# One piece of a resumable hand-in each (the kiosk's and the desk's).
PIECE_ENDPOINTS = {"api.collect_upload_piece", "collect.desk_upload_piece"}
HAND_IN_ENDPOINTS = {"api.collect_upload", "collect.desk_upload"}
IMPORT_ENDPOINTS = {"checkin.roster", "theory.bank", "results.entry", "results.unseal"}


def test_every_route_takes_the_body_limit_it_declares(app):
    """Only the two hand-in routes take a hand-in, only the staff imports a file; everything
    else a few KiB. Flask and the waitress layer read the same declaration for every route."""
    from kiosk.http import RouteBodyLimits
    from kiosk.web import (
        DEFAULT_BODY_LIMIT,
        IMPORT_BODY_LIMIT,
        PIECE_BODY_LIMIT,
        MiB,
        body_limits_by_endpoint,
    )

    hand_in = app.config["KIOSK_SETTINGS"].upload_limit_mb * MiB
    declared = body_limits_by_endpoint(app)
    server_side = RouteBodyLimits(app)
    for rule in app.url_map.iter_rules():
        expected = (hand_in if rule.endpoint in HAND_IN_ENDPOINTS else
                    PIECE_BODY_LIMIT if rule.endpoint in PIECE_ENDPOINTS else
                    IMPORT_BODY_LIMIT if rule.endpoint in IMPORT_ENDPOINTS else
                    DEFAULT_BODY_LIMIT)
        assert declared[rule.endpoint] == expected, rule.rule
        for method in rule.methods - {"OPTIONS"}:
            assert server_side.for_request(method, _url(rule)) == expected, (method, rule.rule)
    assert server_side.for_request("POST", "/no/such/page") == DEFAULT_BODY_LIMIT


def test_a_body_over_its_limit_is_refused_by_flask_too(client):
    """The test client (or any server but ours) sees the same limits: 413 unread."""
    from kiosk.web import DEFAULT_BODY_LIMIT

    big = b'{"token": "' + b"a" * DEFAULT_BODY_LIMIT + b'"}'
    response = client.post("/api/v1/station/login", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    small = b'{"token": "' + b"a" * 100 + b'"}'
    response = client.post("/api/v1/station/login", data=small, content_type="application/json")
    assert response.status_code != 413
    # A staff form over the limit is refused before the CSRF check reads it.
    response = client.post("/login", data={"username": "x" * DEFAULT_BODY_LIMIT})
    assert response.status_code == 413
