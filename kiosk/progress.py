"""How far long work has got: the export of a bundle, a backup, a restore, a large import.

Long work takes a `Progress` and says, stage by stage, how much there is and how much is done
(`stage`, `advance`). It never asks who listens: the command line draws a bar on a terminal
(`TerminalProgress`), a page polls a `Job` that the work runs in, and everything else passes
`NO_PROGRESS`, which does nothing.

Stage names are catalog messages (English, marked with `N_`): whoever shows them translates.
A stage's total is a count of bytes or of items, or None when it cannot be known beforehand
(SQLite's `VACUUM INTO` says nothing until it is done).
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from kiosk.errors import N_, KioskError

BYTES = "bytes"
ITEMS = "items"
log = logging.getLogger(__name__)


class Progress:
    """The listener's side. This base class is the silent one (`NO_PROGRESS`)."""

    def stage(self, name: str, total: int | None = None, unit: str = ITEMS) -> None:
        """A new stage begins: `total` units of `unit` to do (None: unknown)."""

    def advance(self, amount: int = 1) -> None:
        """`amount` more units of the current stage are done."""

    def finish(self) -> None:
        """The work is over (done or failed)."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.finish()


NO_PROGRESS = Progress()
# An import's last stage: the rows go into the database in one transaction (no total to tell).
STAGE_SAVING = N_("Checking and saving the rows")


def size_text(count: float) -> str:
    """Bytes as people read them on a bar: 512 B, 3.4 MiB, 12.0 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover - the loop always returns


def amount_text(count: int, unit: str) -> str:
    return size_text(count) if unit == BYTES else f"{count:,}"


class TerminalProgress(Progress):
    """A bar on the terminal (standard error, so that standard output stays the command's
    answer): redrawn in place at most ten times a second, one finished line per stage."""

    WIDTH = 28

    def __init__(self, stream: IO[str], translate: Callable[[str], str] = str,
                 *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.translate = translate
        self.monotonic = monotonic
        self.name = ""
        self.total: int | None = None
        self.unit = ITEMS
        self.done = 0
        self.drawn_at = float("-inf")
        self.open = False

    def stage(self, name: str, total: int | None = None, unit: str = ITEMS) -> None:
        self._end_line()
        self.name, self.total, self.unit, self.done = self.translate(name), total, unit, 0
        self._draw(force=True)

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        self._draw()

    def finish(self) -> None:
        self._end_line()

    def line(self) -> str:
        """The bar as drawn now."""
        if self.total is None:
            done = amount_text(self.done, self.unit) if self.done else "…"
            return f"{self.name}  {done}"
        share = min(1.0, self.done / self.total) if self.total else 1.0
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return (f"{self.name} [{bar}] {share * 100:3.0f}%  "
                f"{amount_text(self.done, self.unit)} / {amount_text(self.total, self.unit)}")

    def _draw(self, force: bool = False) -> None:
        now = self.monotonic()
        if not force and now - self.drawn_at < 0.1:
            return
        self.drawn_at = now
        # \r and a clear to the end of the line: the bar is redrawn where it stands.
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()
        self.open = True

    def _end_line(self) -> None:
        if self.open:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def for_terminal(as_json: bool, translate: Callable[[str], str] = str,
                 stream: IO[str] | None = None) -> Progress:
    """The command line's progress: a bar when standard error is a terminal and the answer
    is not JSON (a script reading --json, or a log file, gets no bar)."""
    stream = stream if stream is not None else sys.stderr
    if as_json or not stream.isatty():
        return NO_PROGRESS
    return TerminalProgress(stream, translate)


# ----------------------------------------------------------------------------- jobs for pages

@dataclass
class Job:
    """Long work started from a page, run in a thread of its own, so that no request waits for
    it; the page polls it. It lives in the server process that runs it (see `Jobs`)."""

    id: str
    kind: str
    owner: int  # the staff user who started it: only they may poll it
    subject: str = ""  # what it works on (an export's folder): the page leaves it out meanwhile
    stage: str = ""
    total: int | None = None
    unit: str = ITEMS
    done: int = 0
    stages: int = 0
    finished: bool = False
    result: Any = None
    error: Exception | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict:
        with self.lock:
            return {"id": self.id, "kind": self.kind, "stage": self.stage, "total": self.total,
                    "unit": self.unit, "done": self.done, "stages": self.stages,
                    "finished": self.finished, "failed": self.error is not None}


class JobProgress(Progress):
    def __init__(self, job: Job) -> None:
        self.job = job

    def stage(self, name: str, total: int | None = None, unit: str = ITEMS) -> None:
        with self.job.lock:
            self.job.stage, self.job.total, self.job.unit, self.job.done = name, total, unit, 0
            self.job.stages += 1

    def advance(self, amount: int = 1) -> None:
        with self.job.lock:
            self.job.done += amount


class Jobs:
    """The jobs of one server process. A job is kept after it ends, so that the page that
    polls it can show how it ended, the newest KEEP of them; one kind runs once at a time
    (two exports at once would only halve each other's speed)."""

    KEEP = 20

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def running(self, kind: str) -> Job | None:
        with self.lock:
            return next((job for job in self.jobs.values()
                         if job.kind == kind and not job.finished), None)

    def start(self, kind: str, owner: int, work: Callable[[Progress], Any],
              subject: str = "") -> Job:
        """Run `work(progress)` in a new thread; the running job of `kind` if there is one."""
        with self.lock:
            for job in self.jobs.values():
                if job.kind == kind and not job.finished:
                    return job
            job = Job(id=secrets.token_urlsafe(12), kind=kind, owner=owner, subject=subject)
            self.jobs[job.id] = job
            ended = [key for key, old in self.jobs.items() if old.finished]
            for key in ended[:max(0, len(self.jobs) - self.KEEP)]:
                del self.jobs[key]
        thread = threading.Thread(target=self._run, args=(job, work), daemon=True,
                                  name=f"kiosk-job-{kind}")
        thread.start()
        return job

    def get(self, job_id: str, owner: int) -> Job | None:
        with self.lock:
            job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    @staticmethod
    def _run(job: Job, work: Callable[[Progress], Any]) -> None:
        try:
            result = work(JobProgress(job))
        except Exception as exc:  # shown on the page that polls the job
            if not isinstance(exc, KioskError):
                log.exception("job %s (%s) failed", job.id, job.kind)
            with job.lock:
                job.error, job.finished = exc, True
            return
        with job.lock:
            job.result, job.finished = result, True


class Reading:
    """A binary file object that tells a Progress of each read: for work that reads through
    a library (tarfile, shutil) rather than in a loop of its own."""

    def __init__(self, handle: IO[bytes], progress: Progress) -> None:
        self.handle = handle
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress.advance(len(data))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)
