"""Factories for models: the smallest valid object, with overrides; and a staff sign-in through
the login form, as a browser does it (`csrf_from` reads a form's token)."""

from __future__ import annotations

import itertools
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import clock, staff
from kiosk.checkin.idcard import make_valid
from kiosk.checkpoints import take_checkpoint
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges
from tests.actors import FACTORY

_ids = itertools.count(1)
PASSWORD = "correct-horse-42"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_user(session, role: str, username: str | None = None, password: str = PASSWORD):
    return staff.add_user(session, username or f"{role}{next(_ids)}", role, password,
                          actor=FACTORY, now=clock.now())


def make_stations(session, count: int = 3, prefix: str = "A", first_ip: str | None = None):
    return add_stations(session, count, prefix=prefix, first_ip=first_ip,
                        actor=FACTORY, now=clock.now())


def issue_badge(session, station, badge_key: bytes):
    """Print a badge (in memory) and return its secrets: what a contestant would scan."""
    return issue_badges(session, [station], badge_key=badge_key,
                        actor=FACTORY, now=clock.now())[0]


def id_number(serial: int, birth: str = "19900101", region: str = "420102") -> str:
    return make_valid(f"{region}{birth}{serial % 1000:03d}")


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.text)})


def make_checkpoint(session):
    """A checkpoint of the log's head, signed with a throwaway key: for building a paper record
    directly, without an instance's keys folder."""
    return take_checkpoint(session, Ed25519PrivateKey.generate(), clock.now())


def follow_job(client, started, *, polls: int = 600) -> str:
    """The page a job's POST sent `client` back to (`?job=`), once the job has ended: polled
    the way the page's script polls it (bounded, never timed)."""
    import time

    assert started.status_code == 302, started.status_code
    job_id = started.location.split("job=")[1]
    for _ in range(polls):
        state = client.get(f"/jobs/{job_id}").get_json()
        if state["finished"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"job {job_id} did not end: {state}")
    return started.location


def in_a_terminal(*args: str) -> tuple[int, str, str]:
    """`kiosk ARGS` with its standard error on a pseudo-terminal, as on the server's console:
    (exit code, standard output, what the terminal showed)."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kiosk", *args], stdout=subprocess.PIPE,
                               stderr=slave, env={**os.environ, "KIOSK_LANG": "zh_CN"})
    os.close(slave)
    shown = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command has ended and closed the terminal
            break
        if not data:
            break
        shown.append(data)
    out, _ = process.communicate(timeout=120)
    os.close(master)
    return process.returncode, out.decode(), b"".join(shown).decode(errors="replace")


_CSRF_TOKENS = re.compile(r'((?:name="csrf-token" content|name="csrf_token" value)=")[^"]*"')


def without_csrf_tokens(html: str) -> str:
    """A page without its random CSRF tokens, for a test that looks for what a page names
    (a token may spell "A38" by chance)."""
    return _CSRF_TOKENS.sub(r'\1"', html)
