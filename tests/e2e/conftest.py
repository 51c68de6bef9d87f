"""Real-browser tests: Debian's Chromium driven by Playwright against a real `kiosk serve`.

Never downloads a browser: Chromium comes from the system (apt install chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import Server, cli, free_port

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must run browser tests, but {CHROMIUM} is missing")
        pytest.skip("Chromium not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The demo event, served as a newcomer would start it."""
    path = tmp_path_factory.mktemp("e2e") / "demo"
    port = free_port()
    created = subprocess.run([sys.executable, "-m", "kiosk", "--instance", str(path), "demo",
                              "--no-serve", "--json"], capture_output=True, text=True, check=True)
    info = json.loads(created.stdout)
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "--instance", str(path), "serve",
                                "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/clock", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield {**info, "url": base, "path": path}
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


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


@contextmanager
def served_demo(path: Path, *, config: str = "", prepare=None) -> Iterator[dict]:
    """A fresh demo event in `path`, served by a real `kiosk serve`: `config` is appended to
    config.toml and `prepare(path)` may set the day up (and return more facts) before it
    starts. Yields the demo's logins and badges with `url` and `path`."""
    info = cli(path, "demo", "--no-serve")
    if config:
        settings = path / "config.toml"
        settings.write_text(settings.read_text("utf-8") + config, "utf-8")
    extra = prepare(path) if prepare else None
    server = Server(path).start()
    try:
        yield {**info, **(extra or {}), "url": server.url, "path": path}
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)
