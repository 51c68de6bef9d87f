"""Running a real `kiosk serve` for tests: a subprocess on a free loopback port; a JSON client
for it; a `kiosk` command with --json; the demo event served for the browser tests."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server closes this connection (EOF or reset) within `within` seconds,
    having sent nothing."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


class Server:
    def __init__(self, instance: Path, port: int | None = None) -> None:
        self.instance = instance
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--instance", str(self.instance), "serve",
             "--host", "127.0.0.1", "--port", str(self.port), "--threads", "8"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.url + "/api/v1/clock", timeout=1)
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                if time.monotonic() > deadline:
                    self.kill()
                    raise
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, nothing the server can do about it."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Client:
    """A workstation without a browser: a cookie jar and JSON."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body: dict | None = None,
             timeout: float = 10) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def cli(instance: Path, *args: str) -> dict:
    """Run a kiosk command with --json and return its answer."""
    env = {**os.environ}
    result = subprocess.run([sys.executable, "-m", "kiosk", "--instance", str(instance), *args,
                             "--json"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)
    return json.loads(result.stdout)


_demo_template: list[tuple[Path, dict]] = []


def demo_copy(path: Path) -> dict:
    """A demo event in `path`: made once per test process with `kiosk demo` (6 s), then copied
    (the same logins, badges and keys each time; every test's event is its own copy)."""
    if not _demo_template:
        import atexit
        import tempfile

        template = Path(tempfile.mkdtemp(prefix="kiosk-demo-")) / "demo"
        atexit.register(shutil.rmtree, template.parent, True)
        _demo_template.append((template, cli(template, "demo", "--no-serve")))
    template, info = _demo_template[0]
    shutil.copytree(template, path)
    # The demo's answer names its folder (the instance, the badges' PDF, DEMO.json): this copy's.
    relocated = json.dumps(info).replace(json.dumps(str(template))[1:-1],
                                         json.dumps(str(path))[1:-1])
    (path / "DEMO.json").write_text((path / "DEMO.json").read_text("utf-8").replace(
        str(template), str(path)), "utf-8")
    return json.loads(relocated)


@contextmanager
def served_demo(path: Path, *, config: str = "", prepare=None) -> Iterator[dict]:
    """A fresh demo event in `path`, served by a real `kiosk serve`: `config` is appended to
    config.toml and `prepare(path)` may set the day up (and return more facts) before it
    starts. Yields the demo's logins and badges with `url` and `path`."""
    info = demo_copy(path)
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
