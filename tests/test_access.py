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
