"""A real `kiosk serve` of the demo event, shared by the browser tests of a whole run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.servers import demo_copy, free_port


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The demo event, served as a newcomer would start it."""
    path = tmp_path_factory.mktemp("e2e") / "demo"
    port = free_port()
    info = demo_copy(path)
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
