"""Answer saves while one workstation floods wrong badge codes, on loopback, bounded.

    python bench/guess_flood.py [--stations 200] [--pace 2.0] [--seconds 15] [--rounds 3]
                                [--flood-connections 8] [--flood-rate 0]

A real `kiosk serve` on 127.0.0.1. N stations sign in and save an answer every --pace seconds:
--seconds of a quiet hall and --seconds while one address (127.0.0.77, a separate process,
in alternating rounds) sends wrong badge codes on --flood-connections keep-alive connections,
as fast as the server answers (or --flood-rate guesses per second in all). Prints the saves'
p50/p99 in both halves side by side (target: under the flood within 2x of quiet), what the
flood got, and, after the server stopped (SIGTERM), what the audit log holds about it: one
event per minute whose counts add up to every guess answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import ACTOR, prepare, serve_instance
from loadlib import Connection, percentile, rss_mib, summary

from kiosk import clock
from kiosk.stations import phases

FLOOD_ADDRESS = "127.0.0.77"


def flood_process(port: int, connections: int, rate: float, seconds: float, out) -> None:
    """Its own process and event loop, and as little work per guess as a client can do (one
    prepared request, the status line and the length read back): the bench shares its cores
    with the server, and what it measures is the server."""
    body = json.dumps({"token": "WRONGGUESS"}).encode()
    request = (b"POST /api/v1/station/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (len(body), body))
    counts: dict[int, int] = {}
    latencies: list[float] = []

    async def worker(stop: float, gap: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                       local_addr=(FLOOD_ADDRESS, 0))
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            status = int(head.split(b" ", 2)[1])
            counts[status] = counts.get(status, 0) + 1
            if gap:
                await asyncio.sleep(max(0.0, gap - (time.perf_counter() - sent)))
        writer.close()

    async def flood() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(worker(stop, connections / rate if rate else 0.0)
                               for _ in range(connections)))

    started = time.process_time()
    asyncio.run(flood())
    out.send({"counts": counts, "latencies": latencies,
              "cpu": time.process_time() - started})


def cpu_seconds(pid: int) -> float:
    """User and system time of a process so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def paced_saves(connections: list[Connection], papers: list[dict], pace: float,
                      seconds: float, rng: random.Random, seqs: list[int]) -> list[float]:
    """Every station saves an answer every `pace` seconds, spread evenly; the latencies."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def station(index: int) -> None:
        await asyncio.sleep(pace * index / len(connections))
        while time.perf_counter() < stop:
            question = rng.choice(papers[index]["questions"])
            seqs[index] += 1
            body = {"choice": rng.choice(question["options"])["key"], "seq": seqs[index]}
            sent = time.perf_counter()
            status, reply = await connections[index].request(
                "PUT", f"/api/v1/exam/answers/{question['id']}", body)
            if status != 200 or not reply.get("saved"):
                raise RuntimeError(f"save {status} {reply}")
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(max(0.0, pace - (time.perf_counter() - sent)))

    await asyncio.gather(*(station(i) for i in range(len(connections))))
    return latencies


def line(label: str, latencies: list[float], seconds: float) -> str:
    return f"{label:<34}{summary(latencies, seconds)}"


async def hall(args, instance, tokens, port: int, pid: int) -> dict:
    connections = [Connection(port) for _ in tokens]
    await asyncio.gather(*(c.request("POST", "/api/v1/station/login", {"token": t})
                           for c, t in zip(connections, tokens, strict=True)))
    with instance.session() as session:
        phases.start(session, "theory", 30, actor=ACTOR, now=clock.now())
    papers = [body for _status, body in await asyncio.gather(
        *(c.request("GET", "/api/v1/exam/paper") for c in connections))]
    rng, seqs = random.Random(1), [0] * len(connections)

    # Quiet and flooded halves alternate in --rounds, so that whatever else the machine does
    # weighs on both alike; a first pace period warms the server up and is not counted.
    await paced_saves(connections, papers, args.pace, args.pace, rng, seqs)
    quiet: list[float] = []
    flooded: list[float] = []
    flood: dict = {"counts": {}, "latencies": [], "cpu": 0.0}
    server_cpu = {"quiet": 0.0, "flood": 0.0}
    part = args.seconds / args.rounds
    # fork: the flood starts at once (spawn would first spend a second importing kiosk).
    context = multiprocessing.get_context("fork")
    for _round in range(args.rounds):
        before = cpu_seconds(pid)
        quiet += await paced_saves(connections, papers, args.pace, part, rng, seqs)
        server_cpu["quiet"] += cpu_seconds(pid) - before
        before = cpu_seconds(pid)
        receiver, sender = context.Pipe(duplex=False)
        flooder = context.Process(target=flood_process, args=(
            port, args.flood_connections, args.flood_rate, part, sender))
        flooder.start()
        flooded += await paced_saves(connections, papers, args.pace, part, rng, seqs)
        got = await asyncio.get_running_loop().run_in_executor(None, receiver.recv)
        flooder.join(timeout=30)
        server_cpu["flood"] += cpu_seconds(pid) - before
        flood["latencies"] += got["latencies"]
        flood["cpu"] += got["cpu"]
        for status, n in got["counts"].items():
            flood["counts"][status] = flood["counts"].get(status, 0) + n
    for connection in connections:
        connection.close()

    print(f"{len(connections)} stations, 1 save per {args.pace:g} s each, {args.seconds:g} s "
          f"per half in {args.rounds} rounds; flood from {FLOOD_ADDRESS} on "
          f"{args.flood_connections} connections"
          + (f" at {args.flood_rate:g}/s" if args.flood_rate else ", as fast as answered"))
    print(line("saves, quiet hall:", quiet, args.seconds) +
          f"   server CPU {server_cpu['quiet'] / args.seconds:.0%}")
    print(line("saves, during the flood:", flooded, args.seconds) +
          f"   server CPU {server_cpu['flood'] / args.seconds:.0%}   RSS {rss_mib(pid):.0f} MiB")
    p50 = percentile(flooded, 50) / percentile(quiet, 50)
    p99 = percentile(flooded, 99) / percentile(quiet, 99)
    print(f"flood / quiet: p50 x{p50:.2f}   p99 x{p99:.2f}   (target: within x2)")
    counts = flood["counts"]
    print(line("wrong badge codes answered:", flood["latencies"], args.seconds) +
          "   " + "  ".join(f"{status}: {n}" for status, n in sorted(counts.items())) +
          f"   flood client CPU {flood['cpu'] / args.seconds:.0%}")
    return counts


def audit_of_the_flood(database: Path) -> tuple[int, int, int]:
    """Events about the flooding address, and the guesses they count (checked, in all)."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT details FROM audit_event "
                          "WHERE action = 'station.login_failed'").fetchall()
        attempts = db.execute("SELECT count(*) FROM login_attempt").fetchone()[0]
    details = [json.loads(d) for (d,) in rows]
    ours = [d for d in details if d.get("address") == FLOOD_ADDRESS]
    total = sum(d.get("count", 1) for d in ours)
    return len(ours), total, attempts


async def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance, tokens = prepare(Path(tmp), args.stations)
        port, server = serve_instance(instance, args.threads)
        try:
            counts = await hall(args, instance, tokens, port, server.pid)
        finally:
            server.terminate()  # SIGTERM: the server writes the minute it is in, then exits
            server.wait(timeout=30)
        instance.engine.dispose()
        events, counted, attempts = audit_of_the_flood(instance.path / "kiosk.sqlite3")
        print(f"audit: {events} station.login_failed events for {FLOOD_ADDRESS} (one per "
              f"minute), counting {counted} of {sum(counts.values())} guesses answered; "
              f"login_attempt rows: {attempts}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--pace", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--flood-connections", type=int, default=8)
    parser.add_argument("--flood-rate", type=float, default=0,
                        help="guesses per second in all; 0: as fast as the server answers")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
