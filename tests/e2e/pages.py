"""What a person does on a page in the browser tests: sign in as staff, sign a workstation in
with a badge, take a screenshot for docs/screenshots/, check the page with axe-core."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Chromium cannot capture a page while it navigates: take it once the page has loaded.
    page.wait_for_load_state("load")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page, demo: dict, *, username: str | None = None, role: str | None = None):
    """A staff member of the demo signs in on this page, as a person would."""
    user = next(u for u in demo["users"]
                if (username and u["username"] == username) or (role and u["role"] == role))
    page.goto(demo["url"] + "/login")
    page.fill("input[name=username]", user["username"])
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit].primary")
    page.wait_for_url("**/staff")
    return page


def badge_sign_in(page, url: str, code: str):
    """A workstation opens the kiosk page and signs in with a badge code typed in."""
    page.goto(url + "/kiosk")
    page.fill("input[name=token]", code)
    page.press("input[name=token]", "Enter")
    return page


def assert_accessible(page) -> None:
    """No critical or serious axe-core violation on what the page shows now."""
    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
               for v in violations if v["impact"] in ("critical", "serious")]
    assert serious == [], serious
