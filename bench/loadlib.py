"""A small asyncio HTTP/1.1 client for loopback load runs: keep-alive, cookies, JSON.

Bounded by design: every run has a fixed number of clients and a fixed duration, and only talks
to 127.0.0.1. Each connection comes from a loopback source address of its own (127.0.1.1, …), as
each workstation has its own address on a LAN: the server caps connections per address.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time

_next_station = itertools.count()


def station_address(index: int) -> str:
    """Station `index`'s own loopback address: 127.0.1.1 … 127.0.1.250, 127.0.2.1 …"""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


class Connection:
    def __init__(self, port: int, source: str | None = None) -> None:
        self.port = port
        self.source = source or station_address(next(_next_station))
        self.cookie = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0  # sockets this connection has used (a new one after the server closed)
        self.resent = 0  # requests sent again because a kept-alive socket closed under them
        self._answer_began = False

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0))
        self.opened += 1

    def server_closed(self) -> bool:
        """The server has closed this kept-alive connection (its FIN has arrived)."""
        return self.writer is not None and (self.reader.at_eof() or self.writer.is_closing())

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """As a browser does: a kept-alive connection the server has closed is replaced by a new
        one, and a request that meets one closed under it (before any answer byte) is sent once
        more on a new one (the server closes idle connections: keepalive_idle_seconds)."""
        if self.server_closed():
            self.close()
        reused = self.writer is not None
        if not reused:
            await self.open()
        try:
            return await self._exchange(method, path, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused or self._answer_began:
                raise
            self.close()
            self.resent += 1
            await self.open()
            return await self._exchange(method, path, body)

    async def _exchange(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
                f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        self._answer_began = False
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("closed by the server before an answer")
        self._answer_began = True
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() == "set-cookie":
                self.cookie = value.strip().split(";", 1)[0]
        data = await self.reader.readexactly(length) if length else b""
        return status, json.loads(data) if data[:1] in (b"{", b"[") else {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def stampede(connections: list[Connection]) -> tuple[list[dict], list[float]]:
    """Every station fetches its paper at once: the papers, and when each was served (seconds
    after the start)."""
    start = time.perf_counter()
    papers: list[dict] = [{}] * len(connections)
    served_after: list[float] = []

    async def fetch(index: int) -> None:
        status, body = await connections[index].request("GET", "/api/v1/exam/paper")
        if status != 200:
            raise RuntimeError(f"paper {status}")
        papers[index] = body
        served_after.append(time.perf_counter() - start)

    await asyncio.gather(*(fetch(i) for i in range(len(connections))))
    return papers, served_after


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies_s: list[float], seconds: float) -> str:
    ms = [x * 1000 for x in latencies_s]
    return (f"{len(ms) / seconds:8.0f} req/s   p50 {percentile(ms, 50):6.1f} ms   "
            f"p99 {percentile(ms, 99):6.1f} ms   n={len(ms)}"
            + (f"   mean {statistics.fmean(ms):.1f} ms" if ms else ""))


async def closed_loop(port: int, path_for, method: str, body_for, concurrency: int,
                      seconds: float, connections: list[Connection] | None = None) -> tuple[
                          list[float], float]:
    """`concurrency` clients each sending as fast as answers come back, for `seconds`."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        connection = connections[index] if connections else Connection(port)
        n = 0
        while time.perf_counter() < stop:
            n += 1
            started = time.perf_counter()
            status, _ = await connection.request(method, path_for(index, n), body_for(index, n))
            if status >= 500:
                raise RuntimeError(f"server error {status}")
            latencies.append(time.perf_counter() - started)
        if not connections:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, time.perf_counter() - started


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class BrowserStation:
    """One workstation's browser as the server sees it (Chromium's HTTP/1.1 pool, issue 19):

    - up to 6 connections to the server, all from the station's own address, sharing one cookie;
    - a request takes the most recently used idle connection (Chromium reuses the newest used
      idle socket), else opens a new one;
    - an idle connection stays open until the server closes it (Chromium keeps a used one
      5 minutes, far past any run here); one the server has closed is dropped before use;
    - a request that meets a reused connection closed under it is resent once on a new one
      (Chromium resends when a reused keep-alive socket fails before any answer byte:
      Connection.request).
    `opened` counts the sockets made, `resent` the requests sent again."""

    MAX_CONNECTIONS = 6

    def __init__(self, port: int, source: str | None = None) -> None:
        self.port = port
        self.source = source or station_address(next(_next_station))
        self.cookie = ""
        self.idle: list[Connection] = []
        self.made: list[Connection] = []
        self._slots = asyncio.Semaphore(self.MAX_CONNECTIONS)

    @property
    def opened(self) -> int:
        return sum(c.opened for c in self.made)

    @property
    def resent(self) -> int:
        return sum(c.resent for c in self.made)

    def _take_idle(self) -> Connection | None:
        kept = []
        for connection in self.idle:  # drop what the server closed (its FIN has arrived)
            if connection.server_closed():
                connection.close()
            else:
                kept.append(connection)
        self.idle = kept
        return self.idle.pop() if self.idle else None

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        async with self._slots:
            connection = self._take_idle()
            if connection is None:
                connection = Connection(self.port, self.source)
                self.made.append(connection)
            connection.cookie = self.cookie
            try:
                status, reply = await connection.request(method, path, body)
            except BaseException:
                connection.close()
                raise
            self.cookie = connection.cookie
            self.idle.append(connection)
            return status, reply

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle = []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used (/proc/PID/stat)."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def sockets_held(pid: int, port: int) -> int:
    """How many sockets process `pid` holds on `port`: its listening socket and every connection
    to it (not its database connections), as select() on Windows would count them. From
    /proc/PID/fd (the sockets it has open) and /proc/PID/net/tcp (which port each is on)."""
    import contextlib
    import os

    inodes = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return -1
    for name in names:
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{name}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    held = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    held += 1
    return held


class SocketSampler:
    """Samples sockets_held(pid, port) every `every` seconds in a thread, from start() to
    stop(): peak and median ("typical") over the samples."""

    def __init__(self, pid: int, port: int, every: float = 0.2) -> None:
        import threading

        self.pid = pid
        self.port = port
        self.every = every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(sockets_held(self.pid, self.port))
            self._stop.wait(self.every)

    def start(self) -> SocketSampler:
        self._thread.start()
        return self

    def stop(self) -> SocketSampler:
        self._stop.set()
        self._thread.join()
        return self

    @property
    def peak(self) -> int:
        return max(self.samples, default=-1)

    @property
    def typical(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")
