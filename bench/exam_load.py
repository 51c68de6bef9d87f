"""The start of the theory exam under load, on loopback, bounded in count and time.

    python bench/exam_load.py [--stations 300] [--pace 2.0] [--seconds 20] [--concurrency 32]

1. N stations sign in, then the exam starts: all N fetch their paper in the same second
   (target: every paper within 3 s of the start).
2. Each station saves an answer every --pace seconds for --seconds (target: p99 < 100 ms).
3. Saturation: --concurrency stations save as fast as they can, next to the bare ceiling of the
   same framework on the same machine in the same run: a constant JSON route and a one-row insert
   (target: saves at or above the insert ceiling: they share commits, kiosk.group_commit).
Prints the figures and the server's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadlib import Connection, closed_loop, percentile, rss_mib, stampede, summary

from kiosk import clock
from kiosk.audit import Actor
from kiosk.demo import seed_file
from kiosk.instance import init_instance
from kiosk.stations import phases
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank

ACTOR = Actor("bench", "cli")


def serve_instance(instance, threads: int, log: Path | None = None
                   ) -> tuple[int, subprocess.Popen]:
    """A real `kiosk serve` of this instance on loopback, answering: (port, process). Its log
    goes to `log` if given."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "kiosk", "--instance", str(instance.path),
                               "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--threads", str(threads)],
                              stdout=subprocess.DEVNULL,
                              stderr=log.open("ab") if log else subprocess.DEVNULL)
    wait_for(port, server)
    return port, server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen) -> None:
    import urllib.request

    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/clock", timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("server exited") from None
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError("server did not start")


async def measure_ceiling(folder: Path, threads: int, concurrency: int, seconds: float) -> float:
    """The bare framework in the same run (bench/bare_server.py): print both routes, return
    the one-row inserts per second."""
    port = free_port()
    bare = subprocess.Popen([sys.executable, str(Path(__file__).parent / "bare_server.py"),
                             str(folder), str(port), str(threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, bare)
        ping, ping_s = await closed_loop(port, lambda i, n: "/ping", "GET", lambda i, n: None,
                                         concurrency, seconds)
        ins, ins_s = await closed_loop(port, lambda i, n: "/insert", "POST", lambda i, n: {},
                                       concurrency, seconds)
    finally:
        bare.terminate()
        bare.wait(timeout=10)
    print(f"ceiling: constant JSON route     {summary(ping, ping_s)}")
    print(f"ceiling: one-row insert (fsync)  {summary(ins, ins_s)}")
    return len(ins) / ins_s


def prepare(folder: Path, stations: int):
    instance = init_instance(folder / "instance", event_name="压力测试")
    with instance.session() as session:
        import_bank(session, seed_file("question_bank.csv"), "bank.csv", actor=ACTOR,
                    now=clock.now())
        created = add_stations(session, stations, prefix="A", first_ip=None, actor=ACTOR,
                               now=clock.now())
        badges = issue_badges(session, created, badge_key=instance.badge_key(), actor=ACTOR,
                              now=clock.now())
        set_spec(session, SpecInput(single=40, tf=20, single_points=Decimal(2),
                                    tf_points=Decimal(1)), actor=ACTOR, now=clock.now())
    return instance, [b.qr_token for b in badges]


async def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        instance, tokens = prepare(folder, args.stations)
        print(f"prepared {args.stations} stations and their papers in "
              f"{time.perf_counter() - started:.1f} s")
        log = folder / "server.log"
        port, server = serve_instance(instance, args.threads, log)
        try:
            saturated = await exam_run(args, instance, tokens, port, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
        print_batches(log)
        instance.engine.dispose()
        insert_ceiling = await measure_ceiling(folder, args.threads, args.concurrency,
                                               args.seconds)
        ratio = saturated / insert_ceiling
        print(f"saves at saturation / insert ceiling: {ratio:.2f}   (target >= 1.0)")


async def exam_run(args, instance, tokens, port, pid) -> float:
    """The exam's start and its saves; returns the saves per second at saturation."""
    connections = [Connection(port) for _ in tokens]
    await asyncio.gather(*(c.request("POST", "/api/v1/station/login", {"token": t})
                           for c, t in zip(connections, tokens, strict=True)))
    with instance.session() as session:
        phases.start(session, "theory", 20, actor=ACTOR, now=clock.now())
    papers, served_after = await stampede(connections)
    print(f"stampede: {len(connections)} papers, first after {min(served_after) * 1000:.0f} ms, "
          f"p50 {percentile(served_after, 50) * 1000:.0f} ms, last after "
          f"{max(served_after):.2f} s   (target: all within 3 s)   server RSS "
          f"{rss_mib(pid):.0f} MiB")

    seqs = [0] * len(connections)
    rng = random.Random(1)

    def answer_body(index: int, _n: int) -> dict:
        question = rng.choice(papers[index]["questions"])
        seqs[index] += 1
        answer_body.qid[index] = question["id"]
        return {"choice": rng.choice(question["options"])["key"], "seq": seqs[index]}

    answer_body.qid = [""] * len(connections)

    # Realistic pace: every station clicks every `pace` seconds, spread evenly.
    latencies: list[float] = []
    stop = time.perf_counter() + args.seconds

    async def paced(index: int) -> None:
        await asyncio.sleep(args.pace * index / len(connections))
        while time.perf_counter() < stop:
            body = answer_body(index, 0)
            sent = time.perf_counter()
            status, reply = await connections[index].request(
                "PUT", f"/api/v1/exam/answers/{answer_body.qid[index]}", body)
            if status != 200 or not reply.get("saved"):
                raise RuntimeError(f"save {status} {reply}")
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(max(0.0, args.pace - (time.perf_counter() - sent)))

    paced_started = time.perf_counter()
    await asyncio.gather(*(paced(i) for i in range(len(connections))))
    print(f"saves at pace (1 per {args.pace:g} s per station): "
          f"{summary(latencies, time.perf_counter() - paced_started)}   (target p99 < 100 ms)"
          f"   server RSS {rss_mib(pid):.0f} MiB")

    def path_for(index: int, n: int) -> str:
        return f"/api/v1/exam/answers/{answer_body.qid[index]}"

    def body_for(index: int, n: int) -> dict:
        return answer_body(index, n)

    # Saturation: answer_body must run before the path is built, so wrap the pair.
    pending: dict[int, dict] = {}

    def body_first(index: int, n: int) -> dict:
        return pending.pop(index)

    def path_first(index: int, n: int) -> str:
        pending[index] = body_for(index, n)
        return path_for(index, n)

    saturated, seconds = await closed_loop(port, path_first, "PUT", body_first,
                                           args.concurrency, args.seconds,
                                           connections=connections[:args.concurrency])
    print(f"saves at saturation ({args.concurrency} stations, no pause): "
          f"{summary(saturated, seconds)}   server RSS {rss_mib(pid):.0f} MiB")
    for connection in connections:
        connection.close()
    return len(saturated) / seconds


def print_batches(log: Path) -> None:
    """How the server batched the saves (kiosk.group_commit logs it every 10 s)."""
    for line in log.read_text("utf-8", "replace").splitlines():
        if "kiosk.group_commit" in line:
            print("  server: " + line.split("kiosk.group_commit: ", 1)[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--pace", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    args.concurrency = min(args.concurrency, args.stations)  # saturation uses real stations
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
