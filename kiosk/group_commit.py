"""Group commit: writes that arrive together share one transaction and one fsync.

An answer save is tiny, and what it costs is the commit: SQLite with `synchronous=FULL` syncs
the WAL to disk on every commit, and the bare ceiling of "one insert per request" is one fsync
per request. Saves that arrive while another is committing therefore wait in a queue; the
first of them, once the commit in progress is done, leads the next batch: it runs every waiting
write in one transaction, in a fixed order, commits once, and only then tells each writer its
outcome. No write is acknowledged before the fsync that made it durable, and a save that comes
alone is committed at once, as before (nothing waits for a batch to fill).

Rules for a write run here (`GroupCommit.run`):
- it refuses (raises one of `refusals`, kiosk's `KioskError`) before it writes anything: the
  refusal goes to its own caller and the batch goes on;
- any other exception (a database error) aborts the batch: it is rolled back and each of its
  writes is then run alone, in a transaction of its own, so one bad write fails only itself.

Writes run in the order of their `order` key. On PostgreSQL, where several server processes
each run their own batches, that makes every batch take its row locks in the same order, so two
batches cannot deadlock. On SQLite the batch takes the process's writer lock like any other
write transaction (`db.write_transaction`); other processes meet `busy_timeout` as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kiosk.db import write_transaction
from kiosk.errors import KioskError

# More than the server's worker threads ever hold at once (each waiting write holds one).
MAX_BATCH = 256
# How often the server's log says how the writes were batched, while there are any.
REPORT_EVERY_SECONDS = 10.0

log = logging.getLogger("kiosk.group_commit")


@dataclass(eq=False)
class _Write:
    work: Callable[[Session], Any]
    order: tuple
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    result: Any = None
    error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


@dataclass
class Stats:
    """What the batches were: for the bench, and for a test that batching happens."""

    batches: int = 0
    writes: int = 0
    largest: int = 0
    rerun_alone: int = 0


class GroupCommit:
    """One queue of writes to one database; one per process and kind of write."""

    def __init__(self, sessions: sessionmaker[Session], *, name: str = "writes",
                 refusals: tuple[type[BaseException], ...] = (KioskError,),
                 max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._name = name
        self._refusals = refusals
        self._max_batch = max_batch
        self._guard = threading.Lock()
        self._waiting: list[_Write] = []
        self._leading = False
        self.stats = Stats()
        self._reported = Stats()
        self._reported_at = time.monotonic()

    def run(self, work: Callable[[Session], Any], *, order: tuple = ()) -> Any:
        """Run `work(session)` in a write transaction shared with the writes waiting beside it;
        return its result (or raise its exception) once that transaction is committed."""
        write = _Write(work, order)
        with self._guard:
            self._waiting.append(write)
            if not self._leading:
                self._leading = write.leads = True
        if not write.leads:
            write.done.wait()
            if not write.leads:
                return write.outcome()
        self._lead()
        return write.outcome()

    def waiting(self) -> int:
        with self._guard:
            return len(self._waiting)

    def _lead(self) -> None:
        with self._guard:
            batch = self._waiting[:self._max_batch]
            del self._waiting[:self._max_batch]
        try:
            self._commit(batch)
        finally:
            with self._guard:
                # Whoever waits first leads the next batch; otherwise nobody leads until a new
                # write arrives.
                if self._waiting:
                    self._waiting[0].leads = True
                    self._waiting[0].done.set()
                else:
                    self._leading = False
            for write in batch:
                write.leads = False
                write.done.set()

    def _commit(self, batch: list[_Write]) -> None:
        try:
            with self._sessions() as session, write_transaction(session):
                for write in sorted(batch, key=lambda w: w.order):
                    try:
                        write.result = write.work(session)
                    except self._refusals as refused:
                        write.error = refused
        except BaseException:
            # Nothing of the batch is committed: run each write alone, so that only the write
            # at fault fails (and a refusal is refused again, on its own).
            self.stats.rerun_alone += len(batch)
            for write in batch:
                write.result = write.error = None
                try:
                    with self._sessions() as session, write_transaction(session):
                        write.result = write.work(session)
                except BaseException as error:  # handed to its own caller
                    write.error = error
        self.stats.batches += 1
        self.stats.writes += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        if time.monotonic() >= self._reported_at + REPORT_EVERY_SECONDS:
            self._report()

    def _report(self) -> None:
        done, before = self.stats, self._reported
        now = time.monotonic()
        log.info("%s: %d in %d commits in the last %.0f s (largest batch so far %d, run again "
                 "alone %d)", self._name, done.writes - before.writes,
                 done.batches - before.batches, now - self._reported_at, done.largest,
                 done.rerun_alone - before.rerun_alone)
        self._reported = Stats(**vars(done))
        self._reported_at = now
