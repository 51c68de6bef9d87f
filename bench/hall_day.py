"""The hall under load, and under faults: loopback only, bounded in count and time.

    python bench/hall_day.py [--stations 500] [--uploaders 50] [--upload-mb 200]
                             [--seconds 60] [--pace 2] [--kill-every 0] [--lan-mbit 0]

1. N stations sign in; the theory exam starts; all N fetch their paper in the same second.
2. For --seconds, every station saves an answer every --pace seconds, while --uploaders other
   stations each hand in --upload-mb of work (the practical phase runs beside the theory one),
   in resumable pieces as the workstation does (--one-request: one POST of the whole file).
3. With --kill-every S, the server is SIGKILLed at random moments (on average every S seconds)
   and restarted on the same port; clients retry as the workstation does (same seq for an
   answer, the whole file again for an upload).
4. Afterwards, with the server stopped: every acknowledged answer is in the database, every
   acknowledged upload's file is there with the hash in its row (three decrypted and compared
   with what was sent), no partial file is left, and the deadlines are what they were.
Prints throughput, p50/p99 and the server's peak memory next to the bare framework's ceiling
measured in the same run (bench/bare_server.py); the server's CPU by thread beside the load
generator's; and, from the server's own timers (bench/timed_serve.py; --no-timing for plain
`kiosk serve`), how long saves and pieces waited for a worker thread, for the SQLite writer lock
and for an ingest slot, how long they ran, and how late a 1 ms sleeper in the server wakes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import free_port, measure_ceiling, prepare, wait_for
from loadlib import Connection, percentile, rss_mib, stampede, summary
from upload_ingest import process_cpu, thread_cpu

from kiosk import clock
from kiosk.audit import Actor
from kiosk.judge_keys import add_judge_key
from kiosk.stations import phases
from kiosk.stations.models import PhaseRow

ACTOR = Actor("bench", "cli")
BLOCK = 1024 * 1024


class Server:
    def __init__(self, instance_path: Path, threads: int, stats: Path | None = None) -> None:
        self.path, self.threads, self.port = instance_path, threads, free_port()
        self.process: subprocess.Popen | None = None
        self.kills = 0
        self.peak_rss = 0.0
        self.stats = stats  # bench/timed_serve.py writes its timers there

    def start(self) -> None:
        launcher = ([str(Path(__file__).resolve().parent / "timed_serve.py"), str(self.stats)]
                    if self.stats else ["-m", "kiosk"])
        self.process = subprocess.Popen(
            [sys.executable, *launcher, "--instance", str(self.path), "serve", "--host",
             "127.0.0.1", "--port", str(self.port), "--threads", str(self.threads)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.port, self.process)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def sample(self) -> None:
        if self.process and self.process.poll() is None:
            self.peak_rss = max(self.peak_rss, rss_mib(self.process.pid))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


async def retrying(call, attempts: int = 200):
    """A dropped connection (the server was killed) is retried, as the kiosk's queue does."""
    for _ in range(attempts):
        try:
            return await call()
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            await asyncio.sleep(0.2)
    raise RuntimeError("the server never came back")


async def upload(port: int, cookie: str, station: int, megabytes: int,
                 rate_mib: float = 0.0, source: str = "127.0.0.1") -> tuple[int, dict, str]:
    """Stream `megabytes` of this station's own bytes, at most `rate_mib` MiB/s (0: as fast as
    loopback goes), from the station's own address; returns status, reply, sha256 sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    seed = hashlib.sha256(f"station {station}".encode()).digest()
    block = (seed * (BLOCK // len(seed) + 1))[:BLOCK]
    digest = hashlib.sha256()
    size = megabytes * BLOCK
    try:
        writer.write((f"POST /api/v1/collect/upload?filename=work-{station}.zip HTTP/1.1\r\n"
                      f"Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: {size}\r\nCookie: {cookie}\r\n"
                      "Connection: close\r\n\r\n").encode())
        began = time.perf_counter()
        for index in range(megabytes):
            chunk = index.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            writer.write(chunk)
            await writer.drain()
            if rate_mib:
                await asyncio.sleep(max(0.0, began + (index + 1) / rate_mib
                                        - time.perf_counter()))
        status = int((await reader.readline()).split()[1])
        body = (await reader.read()).split(b"\r\n\r\n", 1)[-1]
        return status, json.loads(body) if body[:1] == b"{" else {}, digest.hexdigest()
    finally:
        writer.close()


async def _answer(reader) -> tuple[int, dict]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, json.loads(body) if body[:1] == b"{" else {}


async def upload_in_pieces(port: int, cookie: str, station: int, megabytes: int,
                           rate_mib: float = 0.0, source: str = "127.0.0.1",
                           piece_mib: float = 0.0) -> tuple[int, dict, str]:
    """The workstation's way (kiosk/static/js/pieces.js): open, then one PUT per piece on a
    keep-alive connection, at most `rate_mib` MiB/s. A connection the server closed (idle
    between two paced pieces past keepalive_idle_seconds, or the server killed) is opened again
    and the upload resumes at the server's offset (GET); an upload the server no longer has (404)
    starts again. Returns the last status, its reply and the sha256 sent; an OSError when the
    server cannot be reached at all (the caller retries)."""
    seed = hashlib.sha256(f"station {station}".encode()).digest()
    block = (seed * (BLOCK // len(seed) + 1))[:BLOCK]
    size = megabytes * BLOCK

    def content(start: int, end: int) -> bytes:
        out = bytearray()
        while start < end:
            index, within = divmod(start, BLOCK)
            chunk = index.to_bytes(8, "big") + block[8:]
            take = min(end - start, BLOCK - within)
            out += chunk[within:within + take]
            start += take
        return bytes(out)

    digest = hashlib.sha256()
    for index in range(megabytes):
        digest.update(index.to_bytes(8, "big") + block[8:])
    head = (f"Host: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: keep-alive\r\n")
    connection: list = []  # [reader, writer] while one is open

    async def call(request: bytes) -> tuple[int, dict]:
        if not connection:
            connection[:] = await asyncio.open_connection("127.0.0.1", port,
                                                          local_addr=(source, 0))
        reader, writer = connection
        try:
            writer.write(request)
            await writer.drain()
            return await _answer(reader)
        except BaseException:
            writer.close()
            connection.clear()
            raise

    try:
        status, opened = await call(
            (f"POST /api/v1/collect/uploads?filename=work-{station}.zip&size={size} "
             f"HTTP/1.1\r\n{head}Content-Length: 0\r\n\r\n").encode())
        if status != 201:
            return status, opened, digest.hexdigest()
        upload_id = opened["upload_id"]
        piece = int(piece_mib * BLOCK) if piece_mib else opened["piece_bytes"]
        piece = min(piece, opened["piece_bytes"])
        offset, began, dropped = 0, time.perf_counter(), 0
        while True:
            end = min(size, offset + piece)
            data = content(offset, end)
            try:
                status, reply = await call(
                    (f"PUT /api/v1/collect/uploads/{upload_id}?offset={offset} HTTP/1.1\r\n"
                     f"{head}Content-Type: application/octet-stream\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n").encode() + data)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                # The connection was closed under the piece: ask how far the server got.
                dropped += 1
                if dropped > 20:
                    raise
                await asyncio.sleep(0.1 * min(dropped, 5))
                status, reply = await call((f"GET /api/v1/collect/uploads/{upload_id} HTTP/1.1"
                                            f"\r\n{head}\r\n").encode())
                if status == 200 and reply.get("receipt"):
                    return 201, reply["receipt"], digest.hexdigest()
                if status != 200:
                    return status, reply, digest.hexdigest()  # 404: the caller starts again
                offset = reply["offset"]
                continue
            dropped = 0
            if status == 201 or status not in (200, 409):
                return status, reply, digest.hexdigest()
            offset = reply.get("offset", end)
            if rate_mib:
                await asyncio.sleep(max(0.0, began + offset / BLOCK / rate_mib
                                        - time.perf_counter()))
    finally:
        if connection:
            connection[1].close()


async def run(args) -> None:
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp, \
            tempfile.TemporaryDirectory(prefix="hall-archives-", dir=args.archives) as elsewhere:
        folder = Path(tmp)
        started = time.perf_counter()
        total = args.stations + args.uploaders
        instance, tokens = prepare(folder, total)
        if args.archives:
            # The hand-ins' files elsewhere (a tmpfs: no disk writes beside the database's
            # fsyncs), to tell the disk's part from the CPU's.
            shutil.rmtree(instance.archives_dir, ignore_errors=True)
            instance.archives_dir.symlink_to(elsewhere, target_is_directory=True)
        import pyrage

        identity = pyrage.x25519.Identity.generate()
        with instance.session() as session:
            add_judge_key(session, "bench archive", str(identity.to_public()), "archive",
                          actor=ACTOR, now=clock.now())
        print(f"prepared {total} stations in {time.perf_counter() - started:.1f} s")
        server = Server(instance.path, args.threads,
                        None if args.no_timing else folder / "server-timing.json")
        server.start()
        examinees = [Connection(server.port) for _ in range(args.stations)]
        uploaders = [Connection(server.port) for _ in range(args.uploaders)]
        everyone = examinees + uploaders
        await asyncio.gather(*(c.request("POST", "/api/v1/station/login", {"token": t})
                               for c, t in zip(everyone, tokens, strict=True)))
        with instance.session() as session:
            theory = phases.start(session, "theory", 60, actor=ACTOR, now=clock.now())
            practical = _beside(session, "practical", 120)
            deadlines = (theory.ends_at, practical.ends_at)

        # 1. The stampede.
        papers, served = await stampede(examinees)
        server.sample()
        print(f"stampede: {len(served)} papers, p50 {percentile(served, 50) * 1000:.0f} ms, "
              f"last after {max(served):.2f} s (target 3 s)")

        # 2. Saves at pace, uploads beside them, kills at random.
        rng = random.Random(5)
        acknowledged: dict[int, dict[str, str]] = {i: {} for i in range(len(examinees))}
        latencies: list[float] = []
        retries = [0]
        began_load = time.perf_counter()
        quiet_until = began_load + args.quiet_seconds
        stop = quiet_until + args.seconds
        quiet_latencies: list[float] = []
        seqs = [0] * len(examinees)

        async def paced(index: int) -> None:
            await asyncio.sleep(args.pace * index / len(examinees))
            while time.perf_counter() < stop:
                question = rng.choice(papers[index]["questions"])
                key = rng.choice(question["options"])["key"]
                seqs[index] += 1
                body, path = {"choice": key, "seq": seqs[index]}, \
                    f"/api/v1/exam/answers/{question['id']}"
                sent = time.perf_counter()

                async def save(path=path, body=body):
                    try:
                        return await examinees[index].request("PUT", path, body)
                    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                        examinees[index].close()
                        examinees[index].writer = None
                        retries[0] += 1
                        raise

                status, reply = await retrying(save)
                if status == 200 and reply.get("saved"):
                    acknowledged[index][question["id"]] = key
                    (quiet_latencies if sent < quiet_until else latencies).append(
                        time.perf_counter() - sent)
                elif status >= 500 or status in (401, 409):
                    raise RuntimeError(f"save {status} {reply}")
                await asyncio.sleep(max(0.0, args.pace - (time.perf_counter() - sent)))

        receipts: list[tuple[str, str, int]] = []
        upload_seconds: list[float] = []

        async def hand_in(index: int) -> None:
            cookie = uploaders[index].cookie
            await asyncio.sleep(max(0.0, quiet_until - time.perf_counter()))
            while True:
                began = time.perf_counter()
                if began > stop + 120:  # fail the run instead of hanging on
                    raise RuntimeError(f"upload {index} never finished")
                rate = args.lan_mbit / 8 / len(uploaders) if args.lan_mbit else 0.0
                try:
                    if args.one_request:
                        status, reply, sha = await upload(
                            server.port, cookie, index, args.upload_mb, rate,
                            source=uploaders[index].source)
                    else:
                        status, reply, sha = await upload_in_pieces(
                            server.port, cookie, index, args.upload_mb, rate,
                            source=uploaders[index].source, piece_mib=args.piece_mb)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    retries[0] += 1
                    await asyncio.sleep(0.5)
                    continue
                if status == 201:
                    receipts.append((reply["receipt_no"], sha, args.upload_mb * BLOCK))
                    upload_seconds.append(time.perf_counter() - began)
                    return
                if (status >= 500 and status != 507) or status == 404:
                    # 404: a restarted server no longer has the upload; send it again.
                    await asyncio.sleep(0.5)
                    continue
                raise RuntimeError(f"upload {status} {reply}")

        async def killer() -> None:
            # The first kill comes within the first half of the run, so there is always one.
            wait = rng.uniform(0.1, 0.5) * args.seconds
            while args.kill_every and time.perf_counter() < stop:
                await asyncio.sleep(wait)
                wait = rng.expovariate(1 / args.kill_every)
                if time.perf_counter() >= stop:
                    return
                server.kill()
                await asyncio.to_thread(server.start)

        async def sampler() -> None:
            while time.perf_counter() < stop + 5:
                server.sample()
                await asyncio.sleep(0.5)

        load_started, load_wall = time.perf_counter(), time.time()
        cpu_pid = server.process.pid

        async def sample_cpu_after_quiet() -> None:
            await asyncio.sleep(args.quiet_seconds)
            cpu_before.update(thread_cpu(cpu_pid))
            client_before[0] = process_cpu()

        cpu_before: dict = {}
        client_before = [process_cpu()]
        await asyncio.gather(*(paced(i) for i in range(len(examinees))),
                             *(hand_in(i) for i in range(len(uploaders))), killer(), sampler(),
                             sample_cpu_after_quiet())
        elapsed = time.perf_counter() - load_started - args.quiet_seconds
        cpu_after, client_after = (thread_cpu(cpu_pid) if server.process.pid == cpu_pid
                                   else {}), process_cpu()
        uploaded = sum(size for _, _, size in receipts) / BLOCK
        if args.quiet_seconds:
            print(f"saves at pace, quiet hall (the first {args.quiet_seconds:g} s):"
                  f"{summary(quiet_latencies, args.quiet_seconds)}")
        print(f"saves at pace (1 per {args.pace:g} s, {len(examinees)} stations) beside the "
              f"hand-ins: {summary(latencies, elapsed)}   (target p99 < 100 ms)")
        print(f"uploads: {len(receipts)} × {args.upload_mb} MB = {uploaded:.0f} MiB in "
              f"{elapsed:.1f} s, {uploaded / elapsed:.0f} MiB/s, per upload p50 "
              f"{percentile(upload_seconds, 50):.1f} s, slowest {max(upload_seconds):.1f} s")
        print(f"server peak RSS {server.peak_rss:.0f} MiB; kills {server.kills}; client retries "
              f"{retries[0]}")
        for connection in everyone:
            connection.close()
        server.stop()
        if cpu_after:
            print_cpu(cpu_pid, cpu_before, cpu_after, client_after - client_before[0], elapsed)
        if server.stats and server.stats.exists():
            stats = json.loads(server.stats.read_text())
            if args.quiet_seconds:
                print_timing(stats, load_wall, load_wall + args.quiet_seconds, "quiet hall")
            print_timing(stats, load_wall + args.quiet_seconds, float("inf"),
                         "beside the hand-ins")

        # 4. What was acknowledged is there.
        verify(instance, identity, acknowledged, receipts, deadlines, args.upload_mb)
        instance.engine.dispose()
        if args.no_ceiling:
            return

        insert_ceiling = await measure_ceiling(folder, args.threads, 32, 10)
        print(f"offered save rate {len(examinees) / args.pace:.0f}/s = "
              f"{len(examinees) / args.pace / insert_ceiling:.2f} of the insert ceiling")


def print_cpu(pid: int, before: dict, after: dict, client: float, elapsed: float) -> None:
    """The server's CPU during the load, by thread, beside the load generator's own."""
    spent: dict[str, float] = {}
    for (tid, name), seconds in after.items():
        role = ("event loop (main thread)" if tid == pid else
                "bulk lane (hand-ins)" if name.startswith("waitress-bulk") else
                "waitress workers" if name.startswith("waitress-") else
                "sha256 helpers" if name.startswith("sha256") else
                "bench probe" if name.startswith("kiosk-") else f"other ({name})")
        spent[role] = spent.get(role, 0.0) + seconds - before.get((tid, name), 0.0)
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{role} {seconds:.1f} s ({seconds / elapsed:.0%})"
                      for role, seconds in sorted(spent.items(), key=lambda kv: -kv[1])
                      if seconds >= 0.05)
    total = sum(spent.values())
    print(f"CPU over the {elapsed:.0f} s of load, of {cores} cores (100% = one core): server "
          f"{total:.1f} s ({total / elapsed:.0%}): {parts}; the load generator (this process) "
          f"{client:.1f} s ({client / elapsed:.0%}); machine load average "
          f"{os.getloadavg()[0]:.1f}")


def print_timing(stats: dict, since: float, until: float, label: str) -> None:
    """Where a request's time went on the server (bench/timed_serve.py), for the requests that
    ended between `since` and `until` (the load, not the sign-in and the stampede)."""
    def ms(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1000:6.1f}"

    print(f"server side, {label}, by request kind (ms, p50/p99): waited for a worker thread; "
          "waited for the SQLite writer lock, then held it; waited for an ingest slot, then "
          "held it; in group commit (waiting for its batch, then its commit); ran in the worker "
          "in all (the waits included); CPU of its worker thread")
    for kind in ("save", "piece", "hand-in", "other"):
        table = stats["samples"].get(kind)
        if not table:
            continue
        keep = [i for i, at in enumerate(table["at"]) if since <= at < until]
        if not keep:
            continue
        column = {name: [values[i] for i in keep] for name, values in table.items()}
        column.setdefault("batch", [0.0] * len(keep))
        cells = "  ".join(f"{label} {ms(column[name], 50)}/{ms(column[name], 99)}"
                          for label, name in (("worker", "queued"),
                                              ("writer wait", "writer_wait"),
                                              ("held", "writer_held"),
                                              ("slot wait", "slot_wait"),
                                              ("held", "slot_held"),
                                              ("group commit", "batch"), ("ran", "ran"),
                                              ("cpu", "cpu")))
        print(f"  {kind:6s} n={len(keep):5d}  {cells}  CPU in all {sum(column['cpu']):.1f} s")
    batches = [(n, took) for at, n, took in stats.get("batches") or [] if since <= at < until]
    if batches:
        print(f"  group commit: {len(batches)} batches, writes per batch p50 "
              f"{percentile([n for n, _ in batches], 50):.0f} max {max(n for n, _ in batches)}; "
              f"a batch's transaction with its fsync p50 "
              f"{percentile([t for _, t in batches], 50) * 1000:.1f} ms p99 "
              f"{percentile([t for _, t in batches], 99) * 1000:.1f} ms")
    probe = [late for at, late in stats.get("probe_ms") or [] if since <= at < until]
    if probe:
        print(f"  a server thread sleeping 5 ms wakes late by (the interpreter lock and the CPU): "
              f"p50 {percentile(probe, 50):.2f} ms  p99 {percentile(probe, 99):.2f} ms  max "
              f"{max(probe):.1f} ms  (n={len(probe)})")


def verify(instance, identity, acknowledged, receipts, deadlines, upload_mb) -> None:
    import pyrage
    from sqlalchemy import select

    from kiosk.collect.models import HandIn
    from kiosk.stations.models import Station
    from kiosk.theory_exam.models import CurrentAnswer, Paper

    lost = 0
    with instance.session() as session:
        # Stations were created, and their tokens handed out, in code order.
        ids = [station_id for _, station_id in sorted(
            session.execute(select(Station.code, Station.id)).all())]
        key_maps = dict(session.execute(select(Paper.station_id, Paper.key_map)).all())
        stored: dict[int, dict[str, str]] = {}
        for station_id, qid, choice in session.execute(
                select(CurrentAnswer.station_id, CurrentAnswer.question_id,
                       CurrentAnswer.choice)):
            stored.setdefault(station_id, {})[str(qid)] = choice
        for index, answers in acknowledged.items():
            station_id = ids[index]
            letters = {qid: key_maps[station_id][qid]["keys"][key]
                       for qid, key in answers.items()}
            have = stored.get(station_id, {})
            lost += sum(1 for qid, letter in letters.items() if have.get(qid) != letter)
        rows = {h.receipt_no: h for h in session.scalars(select(HandIn))}
        missing = [no for no, _, _ in receipts if no not in rows]
        bad_hash = []
        for no, _, _ in receipts:
            row = rows.get(no)
            path = instance.archives_dir / row.stored_name if row else None
            if row is None or not path.exists() or \
                    hashlib.sha256(path.read_bytes()).hexdigest() != row.cipher_sha256:
                bad_hash.append(no)
        for no, sha, _ in random.Random(1).sample(receipts, min(3, len(receipts))):
            plain = pyrage.decrypt((instance.archives_dir / rows[no].stored_name).read_bytes(),
                                   [identity])
            if hashlib.sha256(plain).hexdigest() != sha or rows[no].sha256 != sha:
                bad_hash.append(no)
        theory = phases.get_phase(session, "theory")
        practical = phases.get_phase(session, "practical")
    partials = list(instance.archives_dir.glob("*.partial"))
    print(f"after the run: {sum(len(a) for a in acknowledged.values())} acknowledged answers, "
          f"{lost} lost; {len(receipts)} acknowledged uploads, {len(missing)} missing, "
          f"{len(bad_hash)} with a wrong hash; {len(partials)} partial files left (removed at "
          f"the next start); deadlines "
          f"{'unchanged' if (theory.ends_at, practical.ends_at) == deadlines else 'CHANGED'}")
    if lost or missing or bad_hash or (theory.ends_at, practical.ends_at) != deadlines:
        raise SystemExit("DATA LOSS")


def _beside(session, name: str, minutes: float) -> PhaseRow:
    """A second part's clock running beside the first. The day runs one part at a time
    (kiosk.stations.phases refuses an overlap); this bench loads the server with the worst mix
    on purpose, answer saves beside hand-ins, so it writes the second clock itself."""
    now = clock.now()
    row = PhaseRow(name=name, minutes=minutes, starts_at=now,
                   ends_at=now + timedelta(minutes=minutes), updated_at=now)
    session.add(row)
    session.commit()
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--uploaders", type=int, default=50)
    parser.add_argument("--upload-mb", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pace", type=float, default=2.0)
    parser.add_argument("--kill-every", type=float, default=0.0)
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip measuring the bare framework (for the CI fault test)")
    parser.add_argument("--lan-mbit", type=float, default=0.0, help="share this much bandwidth "
                        "among the uploaders, as a real LAN would (0: loopback's speed)")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--one-request", action="store_true", help="hand in with one POST "
                        "of the whole file instead of the workstation's resumable pieces")
    parser.add_argument("--piece-mb", type=float, default=0.0, help="pieces of this size "
                        "(0: the server's piece_bytes)")
    parser.add_argument("--quiet-seconds", type=float, default=0.0, help="saves alone for "
                        "this long first, then --seconds with the hand-ins (both printed)")
    parser.add_argument("--no-timing", action="store_true", help="serve with plain `kiosk "
                        "serve` instead of bench/timed_serve.py's timers")
    parser.add_argument("--archives", default=None, help="keep the hand-ins' files in a new "
                        "folder here (e.g. /dev/shm) instead of the instance's, to tell the "
                        "disk's part in the saves' latency from the CPU's")
    parser.add_argument("--tmp", default=None, help="where the instance lives (needs "
                        "uploaders × upload-mb of free space)")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
