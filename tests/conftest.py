"""The suite's set-up: the shared fixtures live in plugin modules (tests/plugins/), registered
once here — pytest reads `pytest_plugins` only in the root conftest — and no conftest imports
another. Tests import helpers, actors and constants (tests/factories.py, tests/actors.py,
tests/servers.py, a plugin's dataclass or constant), never a fixture. docs/testing.md has the
layout.
"""

import compileall
from pathlib import Path

import pytest
from hypothesis import settings

# Helpers with asserts of their own, outside the plugins (which pytest rewrites already): their
# failures read as the tests' do. Before anything imports them.
pytest.register_assert_rewrite("tests.factories", "tests.e2e.pages")

pytest_plugins = [
    "tests.plugins.instances",  # an instance on each database, its app, client, `chief`, `now`
    "tests.plugins.checkin",  # `event`: a roster, stations, judges' keys
    "tests.plugins.theory_exam",  # `exam_event`: a bank, badges, a spec
    "tests.plugins.collect",  # `hall`: the practical phase running, two stations signed in
    "tests.plugins.results",  # `day`: a day ready for scoring
    "tests.plugins.browsers",  # `browser`, `page`: Debian's Chromium through Playwright
    "tests.plugins.servers",  # `demo_server`: the demo event served for the whole run
]

# Hypothesis fails an example slower than 200 ms by default: a timed assertion, which a busy CI
# machine trips by luck. Speed is measured in bench/, never asserted in tests.
settings.register_profile("kiosk", deadline=None)
settings.load_profile("kiosk")


def pytest_sessionstart(session):
    """The suite starts `kiosk` as a new process hundreds of times (servers, commands): write
    kiosk's bytecode once, so that none of them compiles every module again where the
    environment says not to write bytecode (PYTHONDONTWRITEBYTECODE)."""
    if not hasattr(session.config, "workerinput"):  # once, in the controlling process
        compileall.compile_dir(Path(__file__).resolve().parents[1] / "kiosk", quiet=1)


# Modules that each run for long (real servers, browsers, kill -9): handed out first, so that the
# two test processes end together on short modules instead of one finishing a browser module
# alone (pyproject's --no-loadscope-reorder keeps this order; its default puts the modules with
# the most tests first, which are the quick ones).
LONG_MODULES = ("tests/e2e/", "tests/test_faults.py", "tests/test_multiserver.py",
                "tests/theory_exam/test_crash.py", "tests/test_sockets.py",
                "tests/test_rehearse", "tests/test_demo.py", "tests/test_serve.py")


def pytest_collection_modifyitems(config, items):
    def long_first(item):
        path = item.nodeid.split("::")[0]
        return 0 if path.startswith(LONG_MODULES) else 1

    items.sort(key=long_first)  # stable: each module's own order is kept
