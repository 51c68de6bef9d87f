"""The theory exam from 100 to 1,000 stations, and the sockets the server holds (issue 19).

    python bench/scaling.py [--sizes 100,250,500,1000] [--seconds 20] [--pace 2]
                            [--threads 16] [--servers 1] [--before-at 500]

For each size, on a fresh instance and a real `kiosk serve` on loopback:
1. every station signs in, then the exam starts and all fetch their paper at once (target: all
   within 3 s of the start);
2. for --seconds, each station's page does what the workstation's page does (the schedule below:
   the clock every 5 s, the task books when the clock's tag of them changes) and saves an
   answer every --pace seconds
   (target: p99 under 100 ms);
3. the server's sockets on its port (/proc/PID/fd and net/tcp) are sampled 5 times a second
   throughout: the peak, and the median ("typical") once the start is over; its RSS at the
   end.
Each station is a browser (loadlib.BrowserStation: Chromium's pool of up to 6 keep-alive
connections from the station's own address, the newest idle one reused, a request on a reused
connection closed under it resent once). --before-at N runs size N once more as before issue 19
(kept-alive connections idle until waitress's 30 s channel_timeout, the pages' three independent
timers), for comparison. Then the bare framework's ceiling in the same run
(exam_load.measure_ceiling: a constant JSON route and a one-row insert), beside which the table
prints the offered save rate; the sockets are printed beside select()'s 512 on Windows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import ACTOR, measure_ceiling, prepare, serve_instance
from loadlib import BrowserStation, SocketSampler, cpu_seconds, percentile, rss_mib, station_address

from kiosk import clock
from kiosk.stations import phases

WINDOWS_SELECT_LIMIT = 512
CLOCK = "/api/v1/clock"
MATERIALS = "/api/v1/materials"

# What a signed-in workstation's page asks of the server, and when (kiosk/static/js; the
# intervals are checked against the pages by tests/test_sockets.py). Each timer starts at a
# random moment: the pages were loaded at different times.
#   now (issue 19): station-screen.js polls the clock every POLL_MS (5 s) and shares each answer
#     (kiosk:clock); the hand-in box asks nothing of its own while those come, and the task
#     books are asked right after a clock answer whose materials_tag differs from the list
#     shown (station-materials.js): once at the first poll, then only when the list changes.
#   every second poll (--materials-every-second-poll): the task books asked after every second
#     clock answer, as before the tag.
#   before: the clock every 5 s (station-screen.js), the clock again every 15 s
#     (station-handin.js) and the task books every 10 s (station-materials.js), each its own
#     timer.
POLL_S = 5.0
MATERIALS_EVERY_POLLS = 2
BEFORE_TIMERS = ((CLOCK, 5.0), (CLOCK, 15.0), (MATERIALS, 10.0))
BEFORE_KEEPALIVE_IDLE = 30  # waitress's channel_timeout: what held an idle connection before


async def pause(seconds: float, stop: float) -> None:
    """Sleep `seconds`, but not past `stop`."""
    await asyncio.sleep(max(0.0, min(seconds, stop - time.perf_counter())))


class Figures:
    def __init__(self) -> None:
        self.saves: list[float] = []
        self.polls: list[float] = []
        self.failed = 0


async def page(station: BrowserStation, figures: Figures, stop: float, before: bool,
               rng: random.Random, every_second_poll: bool = False) -> None:
    """The workstation page's own requests (not the saves) until `stop`."""

    async def ask(path: str) -> str | None:
        """GET `path`; the clock answer's materials_tag, if any."""
        sent = time.perf_counter()
        try:
            status, reply = await station.request("GET", path)
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            status, reply = 0, None
        if status == 200:
            figures.polls.append(time.perf_counter() - sent)
        else:
            figures.failed += 1
        return reply.get("materials_tag") if isinstance(reply, dict) else None

    async def timer(path: str, every: float) -> None:
        await pause(rng.uniform(0, every), stop)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await ask(path)
            await pause(every - (time.perf_counter() - started), stop)

    if before:
        await asyncio.gather(*(timer(path, every) for path, every in BEFORE_TIMERS))
        return
    await pause(rng.uniform(0, POLL_S), stop)
    n, tag_shown = 0, None
    while time.perf_counter() < stop:
        started = time.perf_counter()
        tag = await ask(CLOCK)
        n += 1
        if every_second_poll:
            if n % MATERIALS_EVERY_POLLS == 0:
                await ask(MATERIALS)
        elif tag != tag_shown:
            await ask(MATERIALS)
            tag_shown = tag
        await pause(POLL_S - (time.perf_counter() - started), stop)


async def saves(station: BrowserStation, paper: dict, figures: Figures, stop: float,
                pace: float, offset: float, rng: random.Random) -> None:
    await asyncio.sleep(offset)
    seq = 0
    while time.perf_counter() < stop:
        question = rng.choice(paper["questions"])
        seq += 1
        sent = time.perf_counter()
        try:
            status, reply = await station.request(
                "PUT", f"/api/v1/exam/answers/{question['id']}",
                {"choice": rng.choice(question["options"])["key"], "seq": seq})
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            status, reply = 0, {}
        if status == 200 and reply.get("saved"):
            figures.saves.append(time.perf_counter() - sent)
        else:
            figures.failed += 1
        await pause(pace - (time.perf_counter() - sent), stop)


async def one_size(folder: Path, stations: int, args, before: bool) -> dict:
    instance, tokens = prepare(folder, stations)
    if before:
        os.environ["KIOSK_KEEPALIVE_IDLE_SECONDS"] = str(BEFORE_KEEPALIVE_IDLE)
    try:
        # --servers K: K `kiosk serve` processes on the one database, each with its own port;
        # station i's workstation opens server i mod K (half the hall's URLs name the second
        # port: docs/operations.md), so a station always talks to one server.
        servers = [serve_instance(instance, args.threads)]
        os.environ["KIOSK_BACKUP_INTERVAL_MINUTES"] = "0"  # the first server takes the backups
        servers += [serve_instance(instance, args.threads) for _ in range(args.servers - 1)]
    finally:
        os.environ.pop("KIOSK_KEEPALIVE_IDLE_SECONDS", None)
        os.environ.pop("KIOSK_BACKUP_INTERVAL_MINUTES", None)
    pids = [server.pid for _port, server in servers]
    row: dict = {"stations": stations, "before": before}
    try:
        browsers = [BrowserStation(servers[i % len(servers)][0], station_address(i))
                    for i in range(stations)]
        answers = await asyncio.gather(*(b.request("POST", "/api/v1/station/login", {"token": t})
                                         for b, t in zip(browsers, tokens, strict=True)))
        if any(status != 200 for status, _ in answers):
            raise RuntimeError("sign-in failed")
        await asyncio.sleep(args.settle)  # the sign-ins come before the start
        with instance.session() as session:
            phases.start(session, "theory", 60, actor=ACTOR, now=clock.now())

        start_samplers = [SocketSampler(server.pid, port).start() for port, server in servers]
        started = time.perf_counter()
        served_after: list[float] = []

        async def fetch(browser: BrowserStation) -> dict:
            status, body = await browser.request("GET", "/api/v1/exam/paper")
            if status != 200:
                raise RuntimeError(f"paper {status}")
            served_after.append(time.perf_counter() - started)
            return body

        papers = await asyncio.gather(*(fetch(b) for b in browsers))
        for sampler in start_samplers:
            sampler.stop()
        row["papers_last_s"] = max(served_after)
        row["papers_p50_s"] = percentile(served_after, 50)
        # Sockets per server process (Windows' select() limit is a process's).
        row["start_sockets_peak"] = max(sampler.peak for sampler in start_samplers)

        figures = Figures()
        rng = random.Random(stations)
        samplers = [SocketSampler(server.pid, port).start() for port, server in servers]
        server_cpu, client_cpu = sum(map(cpu_seconds, pids)), time.process_time()
        paced_started = time.perf_counter()
        stop = paced_started + args.seconds
        await asyncio.gather(
            *(page(b, figures, stop, before, rng, args.materials_every_second_poll)
              for b in browsers),
            *(saves(b, p, figures, stop, args.pace, args.pace * i / stations, rng)
              for i, (b, p) in enumerate(zip(browsers, papers, strict=True))))
        elapsed = time.perf_counter() - paced_started
        server_cpu = (sum(map(cpu_seconds, pids)) - server_cpu) / elapsed
        client_cpu = (time.process_time() - client_cpu) / elapsed
        typical, peak = [], []
        for sampler in samplers:
            sampler.stop()
            settle = int(min(3.0, args.seconds / 4) / sampler.every)  # the start's connections
            steady = SocketSampler(sampler.pid, sampler.port)
            steady.samples = sampler.samples[settle:]
            typical.append(steady.typical)
            peak.append(sampler.peak)
        row.update(
            saves_per_s=len(figures.saves) / elapsed, saves_n=len(figures.saves),
            p50_ms=percentile(figures.saves, 50) * 1000,
            p99_ms=percentile(figures.saves, 99) * 1000,
            polls_p99_ms=percentile(figures.polls, 99) * 1000, failed=figures.failed,
            sockets_typical=max(typical), sockets_peak=max(peak),
            rss_mib=sum(map(rss_mib, pids)), server_cpu=server_cpu, client_cpu=client_cpu,
            opened_per_s=sum(b.opened for b in browsers) / (elapsed + row["papers_last_s"]),
            resent=sum(b.resent for b in browsers))
        for browser in browsers:
            browser.close()
    finally:
        for _port, server in servers:
            server.terminate()
        for _port, server in servers:
            server.wait(timeout=10)
        instance.engine.dispose()
    print_row(row)
    return row


HEADER = (f"{'stations':>8}  {'papers p50/last':>15}  {'saves/s':>7}  {'p50 ms':>6}  "
          f"{'p99 ms':>6}  {'polls p99':>9}  {'failed':>6}  {'RSS MiB':>7}  "
          f"{'sockets typ/peak':>16}  {'at start':>8}  {'conn/s':>6}  {'resent':>6}  "
          f"{'CPU server/client':>17}")


def print_row(row: dict) -> None:
    label = f"{row['stations']}{' before' if row['before'] else ''}"
    print(f"{label:>8}  {row['papers_p50_s']:6.2f}/{row['papers_last_s']:5.2f} s  "
          f"{row['saves_per_s']:7.0f}  {row['p50_ms']:6.1f}  {row['p99_ms']:6.1f}  "
          f"{row['polls_p99_ms']:6.1f} ms  {row['failed']:6d}  {row['rss_mib']:7.0f}  "
          f"{row['sockets_typical']:8.0f}/{row['sockets_peak']:<7d}  "
          f"{row['start_sockets_peak']:8d}  {row['opened_per_s']:6.0f}  {row['resent']:6d}  "
          f"{row['server_cpu']:7.0%} /{row['client_cpu']:5.0%}",
          flush=True)


async def run(args) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [(n, False) for n in sizes] + ([(args.before_at, True)] if args.before_at else [])
    print(f"theory exam at scale: saves every {args.pace:g} s per station for {args.seconds:g} s "
          f"per size; each page polls as kiosk/static/js does; {args.servers} server "
          f"process(es) of {args.threads} threads (RSS and CPU: their sum; sockets: the most "
          f"one holds); "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, before in runs:
            folder = Path(tmp) / f"{n}{'-before' if before else ''}"
            folder.mkdir()
            rows.append(await one_size(folder, n, args, before))
        ceiling_folder = Path(tmp) / "ceiling"
        ceiling_folder.mkdir()
        insert_ceiling = await measure_ceiling(ceiling_folder, args.threads, args.concurrency,
                                               args.ceiling_seconds)
    print(f"beside the ceilings of this run (load average now {os.getloadavg()[0]:.1f}):")
    for row in rows:
        label = f"{row['stations']}{' before' if row['before'] else ''}"
        print(f"  {label:>10}: papers within {row['papers_last_s']:.2f} s (target 3 s); saves "
              f"at pace {row['saves_per_s']:.0f}/s = {row['saves_per_s'] / insert_ceiling:.2f} "
              f"of the insert ceiling, p99 {row['p99_ms']:.1f} ms (target 100 ms); sockets "
              f"{row['sockets_typical']:.0f} typical, {row['sockets_peak']} peak at pace, "
              f"{row['start_sockets_peak']} at the start = "
              f"{row['sockets_peak'] / WINDOWS_SELECT_LIMIT:.2f} / "
              f"{row['start_sockets_peak'] / WINDOWS_SELECT_LIMIT:.2f} of Windows' select() "
              f"{WINDOWS_SELECT_LIMIT}; RSS {row['rss_mib']:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,250,500,1000")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--pace", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--servers", type=int, default=1,
                        help="server processes on the one database, the stations split "
                             "between them")
    parser.add_argument("--before-at", type=int, default=500,
                        help="also run this size as before issue 19 (0: not)")
    parser.add_argument("--materials-every-second-poll", action="store_true",
                        help="ask the task books after every second clock answer (before the "
                             "clock's materials_tag)")
    parser.add_argument("--concurrency", type=int, default=32, help="of the ceiling's clients")
    parser.add_argument("--ceiling-seconds", type=float, default=5)
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds between the sign-ins and the start")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
