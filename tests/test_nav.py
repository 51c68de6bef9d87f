"""The staff navigation: every entry names a real page, and each role sees exactly its entries.

A navigation entry naming an endpoint that does not exist used to vanish without a word (the
"最终成绩" entry named `results.final`, the route is `results.final_page`). Now the app refuses
to start with such an entry, and this walk shows each role its own entries, each one opening.
"""

import re

import pytest

from kiosk import web
from kiosk.models import ROLES
from tests.factories import login, make_user


def _nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert nav, "the staff page has no navigation"
    return re.findall(r'href="([^"]+)"', nav.group(1))


def test_every_navigation_entry_names_a_real_endpoint_its_roles_may_open(app):
    for item in web.NAV:
        view = app.view_functions.get(item.endpoint)
        assert view is not None, f"navigation entry {item.endpoint} names no route"
        kind, allowed = view.access
        assert kind == "staff" and item.roles <= allowed, item.endpoint


def test_an_entry_naming_no_route_stops_the_app_at_start(kiosk_instance, monkeypatch):
    monkeypatch.setattr(web, "NAV", [*web.NAV, web.NavItem("results.final", str,
                                                          frozenset({"chief"}), 62)])
    with pytest.raises(web.NavigationError, match=r"results\.final"):
        kiosk_instance.app()


def test_an_entry_for_a_role_its_page_refuses_stops_the_app_at_start(kiosk_instance,
                                                                       monkeypatch):
    monkeypatch.setattr(web, "NAV", [*web.NAV, web.NavItem("results.final_page", str,
                                                          frozenset({"scorer"}), 62)])
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
                                 if role in item.roles) for role in ROLES}
    for role in ROLES:
        client = app.test_client()
        assert login(client, f"nav_{role}").status_code == 302
        links = _nav_links(client.get("/staff").text)
        assert links == [url for _order, url in expected[role]], role
        for url in links:
            assert client.get(url).status_code == 200, (role, url)


def test_the_chief_judge_and_the_supervisor_find_the_final_results():
    final = [item for item in web.NAV if item.label() == "Final results"]
    assert final and final[0].endpoint == "results.final_page"
    assert {"chief", "supervisor"} <= final[0].roles
