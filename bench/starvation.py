"""One hostile host against the hall, on loopback, bounded in count and time (issue 14, item 2).

    python bench/starvation.py [--stations 300] [--flood 2500] [--outsiders 500] [--seconds 15]

A real `kiosk serve` answers N stations (each from its own loopback address, 127.0.1.x …) that
poll /api/v1/clock once a second, each poll on a new connection (a browser whose idle socket was
closed). First quietly; then, in the same run, while
- one allowed address (127.0.0.9) opens --flood connections and trickles a header byte a second
  on each of them, reopening any that the server closes, and
- one address outside the allowed networks (127.0.0.200; the bench allows 127.0.0.0/25 and
  127.0.1.0/24 … only) keeps --outsiders connections open or reopening.
Prints the stations' latency and failures (no answer within 5 s) for both runs, and what the
attackers held. To see the server without the guards, run the same bench with PYTHONPATH
pointing at an older kiosk.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadlib import percentile, station_address

from kiosk.instance import init_instance

TRICKLER = "127.0.0.9"
OUTSIDER = "127.0.0.200"
POLL_TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def poll_once(port: int, source: str) -> float | None:
    """Seconds until /api/v1/clock answered on a new connection, or None if it did not."""
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(POLL_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                           local_addr=(source, 0))
            writer.write(b"GET /api/v1/clock HTTP/1.1\r\nHost: kiosk\r\nConnection: close\r\n\r\n")
            reply = await reader.read()
        if not reply.startswith(b"HTTP/1.1 200"):
            return None
        return time.perf_counter() - started
    except (OSError, TimeoutError):
        return None
    finally:
        if writer is not None:
            writer.close()


async def hall(port: int, stations: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds

    async def station(index: int) -> None:
        nonlocal failures
        await asyncio.sleep(index / stations)  # spread over the first second, as a hall is
        while time.perf_counter() < stop:
            began = time.perf_counter()
            latency = await poll_once(port, station_address(index))
            if latency is None:
                failures += 1
            else:
                latencies.append(latency)
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - began)))

    await asyncio.gather(*(station(i) for i in range(stations)))
    return latencies, failures


class Attack:
    """Connections from one address, held open as long as the server lets them."""

    def __init__(self, port: int, source: str, count: int, trickle: bool) -> None:
        self.port, self.source, self.count, self.trickle = port, source, count, trickle
        self.open = 0
        self.peak_open = 0
        self.closed_by_server = 0
        self.stopping = False

    async def hold(self) -> None:
        while not self.stopping:
            writer = None
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", self.port, local_addr=(self.source, 0))
                self.open += 1
                self.peak_open = max(self.peak_open, self.open)
                try:
                    if self.trickle:
                        writer.write(b"GET /api/v1/clock HTTP/1.1\r\n")
                    while not self.stopping:
                        if self.trickle:
                            writer.write(b"X")
                            await writer.drain()
                        try:
                            async with asyncio.timeout(1.0):
                                if await reader.read(1) == b"":
                                    break  # the server closed it
                        except TimeoutError:
                            continue
                finally:
                    self.open -= 1
                if not self.stopping:
                    self.closed_by_server += 1
            except OSError:
                if not self.stopping:
                    self.closed_by_server += 1
            finally:
                if writer is not None:
                    writer.close()
            await asyncio.sleep(1.0)  # reopen a second later: pressure, not a busy loop

    async def run(self) -> None:
        await asyncio.gather(*(self.hold() for _ in range(self.count)))


def attack_process(port: int, flood: int, outsiders: int, seconds: float,
                   report: multiprocessing.Queue) -> None:
    async def attack() -> list[tuple[str, int, int, int]]:
        trickler = Attack(port, TRICKLER, flood, trickle=True)
        outsider = Attack(port, OUTSIDER, outsiders, trickle=False)
        running = asyncio.gather(trickler.run(), outsider.run())
        await asyncio.sleep(seconds)
        trickler.stopping = outsider.stopping = True
        await running
        return [(f"trickler {TRICKLER}", flood, trickler.peak_open, trickler.closed_by_server),
                (f"outsider {OUTSIDER}", outsiders, outsider.peak_open,
                 outsider.closed_by_server)]

    report.put(asyncio.run(attack()))


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def line(label: str, latencies: list[float], failures: int) -> str:
    ms = [x * 1000 for x in latencies]
    return (f"{label:<28} polls {len(ms) + failures:6d}   failed {failures:5d}   "
            f"p50 {percentile(ms, 50):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   "
            f"max {max(ms, default=float('nan')):7.1f} ms")


async def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = init_instance(Path(tmp) / "instance", event_name="压力测试")
        instance.engine.dispose()
        port = free_port()
        environ = {**os.environ, "KIOSK_ALLOWED_NETWORKS":
                   "127.0.0.0/25," + ",".join(f"127.0.{n}.0/24" for n in range(1, 9)),
                   "KIOSK_BACKUP_INTERVAL_MINUTES": "0"}
        server = subprocess.Popen([sys.executable, "-m", "kiosk", "--instance",
                                   str(instance.path), "serve", "--host", "127.0.0.1", "--port",
                                   str(port), "--threads", str(args.threads)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=environ)
        try:
            for _ in range(300):
                if await poll_once(port, "127.0.0.1") is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not start")
            print(f"{args.stations} stations poll /api/v1/clock once a second, each poll on a "
                  f"new connection, {args.seconds:.0f} s per run")
            quiet = await hall(port, args.stations, args.seconds)
            print(line("quiet hall", *quiet))

            # The attackers run in their own process, as on their own machine: their event loop
            # must not slow down the stations' clock.
            report: multiprocessing.Queue = multiprocessing.Queue()
            attackers = multiprocessing.Process(
                target=attack_process, args=(port, args.flood, args.outsiders,
                                             args.ramp + args.seconds, report))
            attackers.start()
            await asyncio.sleep(args.ramp)  # let the flood take what it can
            fds = open_fds(server.pid)
            attacked = await hall(port, args.stations, args.seconds)
            print(line("under attack", *attacked))
            for label, tries, peak, closed in report.get(timeout=60):
                print(f"{label}: {tries} connections kept up, at most {peak} open at once "
                      f"(client side), {closed} closed by the server")
            attackers.join(timeout=30)
            print(f"server file descriptors after the {args.ramp:.0f} s ramp: {fds}")
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--flood", type=int, default=2500)
    parser.add_argument("--outsiders", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--ramp", type=float, default=3)
    parser.add_argument("--threads", type=int, default=16)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
