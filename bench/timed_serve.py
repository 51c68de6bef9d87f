"""`kiosk serve`, with timers for the benches: where each request's time went on the server.

    python bench/timed_serve.py STATS.json --instance PATH serve --host 127.0.0.1 --port N ...

The arguments after STATS.json are kiosk's own. Nothing of kiosk is changed on disk: this process
wraps, before serving, the points a request can wait at, and writes what it measured to
STATS.json every 2 s and when it is terminated:

- the wait for a worker thread (a request parsed by the event loop until a waitress worker takes
  it: all 16 busy means it queues);
- the wait for the SQLite writer lock (kiosk.db's in-process lock around BEGIN IMMEDIATE) and for
  an ingest slot (kiosk.collect.hand_ins.INGEST_SLOTS);
- a save's time in group commit (kiosk.group_commit: waiting for its batch, then its commit),
  and each batch: how many writes, how long its transaction and fsync took;
- the time the request ran in the worker, in total, and the CPU its worker thread used;
- how late a thread sleeping 5 ms wakes up, all along (the interpreter lock and the CPU);
- by request kind: answer saves, hand-in pieces, one-request hand-ins, the rest.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

STATS_PATH = sys.argv.pop(1)
_local = threading.local()
_lock = threading.Lock()
_samples: dict[str, dict[str, list[float]]] = {}
_probe: list[tuple[float, float]] = []
_batches: list[tuple[float, int, float]] = []  # group commit: (when, writes, seconds)


def kind_of(method: str, path: str) -> str:
    if method == "PUT" and path.startswith("/api/v1/exam/answers/"):
        return "save"
    if method == "PUT" and path.startswith("/api/v1/collect/uploads/"):
        return "piece"
    if method == "POST" and path == "/api/v1/collect/upload":
        return "hand-in"
    return "other"


def note(kind: str, **values: float) -> None:
    with _lock:
        table = _samples.setdefault(kind, {})
        for name, value in values.items():
            table.setdefault(name, []).append(value)


class TimedLock:
    """A lock whose acquisitions add their wait, and how long it was then held, to the request
    being served."""

    def __init__(self, lock, field: str) -> None:
        self.lock, self.field = lock, field
        self.depth = threading.local()

    def acquire(self, *args, **kwargs):
        started = time.perf_counter()
        got = self.lock.acquire(*args, **kwargs)
        now = time.perf_counter()
        setattr(_local, self.field, getattr(_local, self.field, 0.0) + now - started)
        if got:
            depth = getattr(self.depth, "n", 0)
            if depth == 0:
                self.depth.since = now
            self.depth.n = depth + 1
        return got

    def release(self) -> None:
        self.depth.n -= 1
        if self.depth.n == 0:
            held = self.field.replace("wait", "held")
            setattr(_local, held, getattr(_local, held, 0.0) + time.perf_counter()
                    - self.depth.since)
        self.lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def install() -> None:
    from waitress.task import ThreadedTaskDispatcher

    from kiosk import db, http
    from kiosk.collect import hand_ins

    # Both of kiosk's queues (the small requests' and the bulk lane's, kiosk.http) start here.
    dispatcher = getattr(http, "KioskTaskDispatcher", ThreadedTaskDispatcher)
    original_add = dispatcher.add_task

    def add_task(self, channel) -> None:
        channel.kiosk_queued_at = time.perf_counter()
        original_add(self, channel)

    dispatcher.add_task = add_task

    original_service = http.KioskTask.service

    def service(self) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        queued = started - getattr(self.channel, "kiosk_queued_at", started)
        self.channel.kiosk_queued_at = started  # a pipelined next request queues anew
        _local.writer_wait = _local.slot_wait = _local.writer_held = _local.slot_held = 0.0
        _local.batch = 0.0
        try:
            original_service(self)
        finally:
            note(kind_of(self.request.command, self.request.path), queued=queued,
                 writer_wait=_local.writer_wait, writer_held=_local.writer_held,
                 slot_wait=_local.slot_wait, slot_held=_local.slot_held, batch=_local.batch,
                 ran=time.perf_counter() - started, cpu=time.thread_time() - cpu,
                 at=time.time())

    http.KioskTask.service = service

    if hasattr(db, "_writer_lock"):
        original_writer_lock = db._writer_lock
        wrapped: dict[int, TimedLock] = {}

        def writer_lock(session):
            lock = original_writer_lock(session)
            if lock is None:
                return None
            if id(lock) not in wrapped:
                wrapped[id(lock)] = TimedLock(lock, "writer_wait")
            return wrapped[id(lock)]

        db._writer_lock = writer_lock
    hand_ins._ingest_slots = TimedLock(hand_ins._ingest_slots, "slot_wait")

    try:
        from kiosk.group_commit import GroupCommit
    except ImportError:  # before group commit
        return
    original_run, original_commit = GroupCommit.run, GroupCommit._commit

    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original_run(self, *args, **kwargs)
        finally:
            _local.batch = getattr(_local, "batch", 0.0) + time.perf_counter() - started

    def commit(self, batch):
        started = time.perf_counter()
        try:
            return original_commit(self, batch)
        finally:
            with _lock:
                _batches.append((round(time.time(), 3), len(batch),
                                 time.perf_counter() - started))

    GroupCommit.run, GroupCommit._commit = run, commit


def probe() -> None:
    from kiosk.http import name_os_thread

    name_os_thread("kiosk-probe")
    while True:
        asked = time.perf_counter()
        time.sleep(0.005)  # 200 wakes a second: the probe itself costs little
        late = (time.perf_counter() - asked - 0.005) * 1000
        with _lock:
            _probe.append((round(time.time(), 3), round(late, 3)))


def dump() -> None:
    with _lock:
        data = {"samples": {k: {n: list(v) for n, v in t.items()} for k, t in _samples.items()},
                "probe_ms": list(_probe), "batches": list(_batches)}
    partial = STATS_PATH + ".partial"
    with open(partial, "w") as handle:
        json.dump(data, handle)
    os.replace(partial, STATS_PATH)


def dumper() -> None:
    from kiosk.http import name_os_thread

    name_os_thread("kiosk-stats")
    while True:
        time.sleep(2)
        dump()


def on_term(_signum, _frame) -> None:
    dump()
    os._exit(0)


if __name__ == "__main__":
    if os.environ.get("KIOSK_BENCH_SWITCH_INTERVAL"):  # an experiment: kiosk.serve's interval
        from kiosk import serve as kiosk_serve

        kiosk_serve.SWITCH_INTERVAL_S = float(os.environ["KIOSK_BENCH_SWITCH_INTERVAL"])
    if os.environ.get("KIOSK_BENCH_BULK_LANES"):  # an experiment: kiosk.http.BULK_LANES
        from kiosk import http as kiosk_http

        kiosk_http.BULK_LANES = int(os.environ["KIOSK_BENCH_BULK_LANES"])
    install()
    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=probe, daemon=True).start()
    threading.Thread(target=dumper, daemon=True).start()
    from kiosk.cli import main as kiosk_main

    kiosk_main()
