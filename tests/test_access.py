"""Every route declares who may use it, and every staff route refuses everybody else.

Who may do what is one table, kiosk/permissions.py: every staff route declares a permission of
it, every role it names is a real one, and the walk below gives each role exactly what the
table says (allowed: not refused; everyone else: 403)."""

import re
from pathlib import Path

import pytest

from kiosk import permissions
from kiosk.models import ROLES
from tests.factories import login, make_user

EXEMPT_ENDPOINTS = {"static"}
KIOSK = Path(permissions.__file__).parent


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
    assert undeclared == [], "routes without @requires/@station_required/@public"


def test_every_staff_route_declares_a_permission_of_the_table(app):
    table = set(permissions.TABLE.values())
    for rule, access in _routes(app):
        if access.kind == "staff":
            assert access.permission in table, rule.rule
            assert access.post is None or access.post in table, rule.rule
        else:
            assert access.permission is None and access.post is None, rule.rule


def test_the_table_names_only_real_roles_under_its_own_names():
    assert permissions.TABLE, "the permission table is empty"
    for name, permission in permissions.TABLE.items():
        assert permission.name == name
        assert permission.roles and permission.roles <= set(ROLES), name
        # Templates ask may(NAME): the module's constant is the row, under the row's name.
        assert getattr(permissions, name.upper()) is permission, name


def test_a_permission_naming_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="janitor"):
        permissions._permission("sweep_the_hall", "janitor")
    with pytest.raises(ValueError, match="declared twice"):
        permissions._permission("staff", "chief")
    assert "sweep_the_hall" not in permissions.TABLE


def test_granted_to_is_the_table():
    for permission in permissions.TABLE.values():
        for role in (*ROLES, None, "cli", "station"):
            assert permission.granted_to(role) == (role in permission.roles)


def _kiosk_text(pattern: str) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in KIOSK.rglob(pattern)
                     if path.name != "permissions.py")


def test_every_permission_is_asked_somewhere(app):
    """A row nobody asks is a rule with no home: dead, or asked under another name."""
    declared = {p for _rule, access in _routes(app) for p in (access.permission, access.post)}
    text = _kiosk_text("*.py") + _kiosk_text("*.html")
    unasked = [name for name, permission in permissions.TABLE.items()
               if permission not in declared and not re.search(rf"\b{name.upper()}\b", text)]
    assert unasked == []


def test_templates_ask_may_instead_of_naming_roles():
    """A role compared in a template is a second home for a rule; templates ask may(NAME)."""
    compared = re.compile(r"current_user\.role\s*(==|!=|in\b)|set\s+\w+\s*=\s*current_user\.role")
    found = [str(path.relative_to(KIOSK)) for path in KIOSK.rglob("*.html")
             if compared.search(path.read_text(encoding="utf-8"))]
    assert found == []


def test_staff_routes_refuse_anonymous_users(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    staff_rules = [rule for rule, access in _routes(app) if access.kind == "staff"]
    assert staff_rules, "the walk found no staff routes"
    for rule in staff_rules:
        response = client.open(_url(rule), method=_method(rule))
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302, rule.rule
            assert "/login" in response.headers["Location"], rule.rule


def _staff_walk(app):
    """(rule, method, roles the table lets in) for each staff route: its page's method, and a
    POST of its own where the route declares one."""
    walk = []
    for rule, access in _routes(app):
        if access.kind != "staff":
            continue
        method = _method(rule)
        walk.append((rule, method, access.permission_for(method).roles))
        if access.post is not None and method != "POST":
            walk.append((rule, "POST", access.permission_for("POST").roles))
    # Signing out ends the walk, so it comes last.
    walk.sort(key=lambda item: item[0].endpoint == "auth.logout")
    return walk


def test_staff_routes_refuse_every_wrong_role(app, kiosk_instance):
    app.config["WTF_CSRF_ENABLED"] = False
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        for role in ROLES:
            make_user(session, role, username=f"walk_{role}")
    walk = _staff_walk(app)
    assert any(method == "POST" and "GET" in rule.methods for rule, method, _ in walk), \
        "the walk found no route whose writes are narrower than its page"
    for role in ROLES:
        client = app.test_client()
        assert login(client, f"walk_{role}").status_code == 302
        for rule, method, allowed in walk:
            response = client.open(_url(rule), method=method)
            if role in allowed:
                assert response.status_code != 403, (role, method, rule.rule)
            else:
                assert response.status_code == 403, (role, method, rule.rule)


def test_station_routes_refuse_a_browser_without_a_station(app):
    client = app.test_client()
    for rule, access in _routes(app):
        if access.kind == "station":
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
IMPORT_ENDPOINTS = {"checkin.roster", "theory.bank", "results.entry", "results.unseal",
                    "materials.add"}


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
