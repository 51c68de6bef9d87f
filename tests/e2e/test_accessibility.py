"""axe-core on every page of the day, as every role and as a workstation: no critical or serious
violation anywhere.

axe-core comes inside axe-playwright-python (nothing is fetched at run time). One server and one
browser context per role: each role signs in once and walks every page its navigation offers,
and the pages those pages link to (a station's detail, a score entry, the differences, …), once
per kind of page. The kiosk is checked at its sign-in, in the theory exam (with the hand-in
confirmation open), and in the practical exam; the hall clock, the sign-in page and an error
page as well.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from kiosk.models import ROLES
from tests.e2e.pages import badge_sign_in, sign_in
from tests.servers import cli, served_demo

pytestmark = pytest.mark.e2e

BLOCKING = ("critical", "serious")
# Pages that are downloads or actions, not pages a person reads.
NOT_PAGES = re.compile(r"\.(pdf|xlsx|csv|json|zip)$|^/api/|^/static/|^/logout")

_axe = Axe()


def page_key(url: str) -> str:
    """A kind of page: /field/A05 and /field/A06 are one kind, /field/*."""
    path = urlsplit(url).path.rstrip("/") or "/"
    return "/".join("*" if re.search(r"\d", part) and i > 1 else part
                    for i, part in enumerate(path.split("/")))


def blocking_violations(page) -> list[str]:
    results = _axe.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
            for v in results.response["violations"] if v["impact"] in BLOCKING]


class Walk:
    """Collects every page's blocking violations."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}
        self.seen: list[str] = []

    def check(self, page, kind: str, who: str = "") -> None:
        name = f"{kind} as {who}" if who else kind
        self.seen.append(name)
        left = blocking_violations(page)
        if left:
            self.found[name] = left

    def report(self) -> str:
        return "\n".join(f"{name}:\n  " + "\n  ".join(violations)
                         for name, violations in self.found.items())


def _same_site_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.href)")
    return [h.split("#")[0] for h in hrefs
            if h.startswith(base) and not urlsplit(h).query
            and not NOT_PAGES.search(urlsplit(h).path)]


def _walk_role(browser, demo: dict, role: str, walk: Walk, checked: set[str]) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, demo, role=role)
        nav = page.eval_on_selector_all("header nav a", "links => links.map(a => a.href)")
        assert nav, f"{role} has no navigation"
        # Every entry of the role's navigation, as that role; then, once per kind of page, the
        # pages they link to.
        further: list[str] = []
        for url in nav:
            page.goto(url)
            walk.check(page, page_key(url), role)
            checked.add(page_key(url))
            further += _same_site_links(page, demo["url"])
        for url in dict.fromkeys(further):
            if page_key(url) in checked:
                continue
            checked.add(page_key(url))
            page.goto(url)
            walk.check(page, page_key(url), role)
        if role == "chief":
            control = page.goto(demo["url"] + "/control")
            assert control and control.ok
            hall_url = page.locator("a[href*='/hall/']").first.get_attribute("href")
            page.goto(hall_url)
            walk.check(page, "/hall/*")
        page.goto(demo["url"] + "/no-such-page")
        walk.check(page, "error page", role)
    finally:
        context.close()


def test_no_page_of_any_role_or_of_the_kiosk_has_a_serious_violation(browser, tmp_path):
    def start_theory(path):
        cli(path, "phase", "start", "theory", "--minutes", "60")

    walk = Walk()
    with served_demo(tmp_path / "axe", prepare=start_theory) as demo:
        # A workstation first, so that the staff pages then show a day under way: the badge
        # sign-in, the theory exam, the hand-in confirmation, handed in, the practical exam.
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = context.new_page()
        page.goto(demo["url"] + "/kiosk")
        walk.check(page, "/kiosk (sign-in)")
        badge_sign_in(page, demo["url"], demo["stations"][0]["code"])
        expect(page.locator("[data-view=exam]")).to_be_visible()
        page.locator(".option").first.click()
        walk.check(page, "/kiosk (theory exam)")
        page.locator("[data-submit]").click()
        expect(page.locator("[data-confirm]")).to_be_visible()
        walk.check(page, "/kiosk (hand-in confirmation)")
        page.locator("[data-confirm-yes]").click()
        expect(page.locator("[data-view=done]")).to_be_visible()
        walk.check(page, "/kiosk (handed in)")
        cli(demo["path"], "phase", "end", "theory")
        cli(demo["path"], "phase", "start", "practical", "--minutes", "60")
        page.reload()
        expect(page.locator("[data-view=practical]")).to_be_visible()
        walk.check(page, "/kiosk (practical exam)")

        page.context.clear_cookies()
        page.goto(demo["url"] + "/login")
        walk.check(page, "/login")
        context.close()
        checked: set[str] = set()
        # The chief judge first: most entries, so the others' pages are mostly known kinds.
        for role in sorted(ROLES, key=lambda r: r != "chief"):
            _walk_role(browser, demo, role, walk, checked)

    assert len(walk.seen) > 40, walk.seen  # the walk really went through the day's pages
    assert not walk.found, "critical or serious axe violations:\n" + walk.report()
