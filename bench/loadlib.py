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

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0))

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        if self.writer is None:
            await self.open()
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
                f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
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
