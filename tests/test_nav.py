"""The staff navigation: every entry names a real page, and each role sees exactly its entries.

A navigation entry naming an endpoint that does not exist used to vanish without a word (the
"最终成绩" entry named `results.final`, the route is `results.final_page`). Now the app refuses
to start with such an entry, an entry takes its roles from the permission of the page it opens
(kiosk/permissions.py), and this walk shows each role its own entries, each one opening.
"""

import inspect
import re

import pytest

from kiosk import permissions, web
from kiosk.models import ROLES
from tests.factories import login, make_user


def _nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert nav, "the staff page has no navigation"
    return re.findall(r'href="([^"]+)"', nav.group(1))


def _page_permission(app, endpoint: str) -> permissions.Permission:
    """What the page declares for GET, read from the route itself (not from the navigation)."""
    access = app.view_functions[endpoint].access
    assert access.kind == "staff", endpoint
    return access.permission


def _shown_to(app, item: web.NavItem) -> frozenset[str]:
    return (item.shown_to or _page_permission(app, item.endpoint)).roles


def test_every_navigation_entry_names_a_real_endpoint_its_roles_may_open(app):
    for item in web.NAV:
        view = app.view_functions.get(item.endpoint)
        assert view is not None, f"navigation entry {item.endpoint} names no route"
        access = view.access
        assert access.kind == "staff" and _shown_to(app, item) <= access.permission.roles, \
            item.endpoint


def test_an_entry_names_no_roles_of_its_own():
    """The roles come from the page: nav_item takes none, so none can be copied by hand."""
    parameters = inspect.signature(web.nav_item).parameters
    assert list(parameters)[:2] == ["endpoint", "label"]
    assert all(p.kind is not p.VAR_POSITIONAL for p in parameters.values())


def test_an_entry_is_shown_to_the_roles_of_the_page_it_opens(app):
    with app.app_context():
        for item in web.NAV:
            permission = item.shown_to or _page_permission(app, item.endpoint)
            assert web.nav_permission(app, item) is permission, item.endpoint
            for role in ROLES:
                assert (item in web.nav_for(role)) == permission.granted_to(role), \
                    (role, item.endpoint)


def test_an_entry_naming_no_route_stops_the_app_at_start(kiosk_instance, monkeypatch):
    monkeypatch.setattr(web, "NAV", [*web.NAV, web.NavItem("results.final", str, 62)])
    with pytest.raises(web.NavigationError, match=r"results\.final"):
        kiosk_instance.app()


def test_an_entry_for_a_page_that_is_not_a_staff_page_stops_the_app_at_start(
        kiosk_instance, monkeypatch):
    monkeypatch.setattr(web, "NAV", [*web.NAV, web.NavItem("kiosk.kiosk_page", str, 62)])
    with pytest.raises(web.NavigationError, match=r"kiosk\.kiosk_page"):
        kiosk_instance.app()


def test_an_entry_for_a_role_its_page_refuses_stops_the_app_at_start(kiosk_instance,
                                                                       monkeypatch):
    monkeypatch.setattr(web, "NAV", [*web.NAV, web.NavItem("results.final_page", str, 62,
                                                          shown_to=permissions.KEEP_SCORES)])
    with pytest.raises(web.NavigationError, match="scorer"):
        kiosk_instance.app()


def test_each_role_sees_its_entries_and_each_opens(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        for role in ROLES:
            make_user(session, role, username=f"nav_{role}")
    with app.test_request_context():
        from flask import url_for

        expected = {role: sorted((item.order, url_for(item.endpoint)) for item in web.NAV
                                 if role in _shown_to(app, item)) for role in ROLES}
    for role in ROLES:
        client = app.test_client()
        assert login(client, f"nav_{role}").status_code == 302
        links = _nav_links(client.get("/staff").text)
        assert links == [url for _order, url in expected[role]], role
        for url in links:
            assert client.get(url).status_code == 200, (role, url)


def test_every_role_has_its_entries(app):
    """Each role finds its home and at least one page of its own work in the menu."""
    with app.app_context():
        for role in ROLES:
            endpoints = [item.endpoint for item in web.nav_for(role)]
            assert endpoints[0] == "auth.home" and len(endpoints) >= 2, role


def test_the_chief_judge_and_the_supervisor_find_the_final_results(app):
    final = [item for item in web.NAV if item.label() == "Final results"]
    assert final and final[0].endpoint == "results.final_page"
    assert {"chief", "supervisor"} <= _shown_to(app, final[0])
