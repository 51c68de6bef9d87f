"""Long work tells how far it is: a bar on a terminal, a job a page follows (kiosk.progress)."""

import io
import threading

from kiosk.errors import KioskError
from kiosk.progress import (
    BYTES,
    NO_PROGRESS,
    Jobs,
    TerminalProgress,
    for_terminal,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_only_and_never_with_json():
    assert for_terminal(False, stream=io.StringIO()) is NO_PROGRESS  # a log file, a pipe
    assert for_terminal(True, stream=Terminal()) is NO_PROGRESS
    assert isinstance(for_terminal(False, stream=Terminal()), TerminalProgress)


def test_the_bar_shows_the_stage_the_share_and_the_amount_and_ends_each_stage_on_a_line():
    ticks = iter(x / 100 for x in range(10_000))  # 10 ms between reads of the clock
    screen = Terminal()
    bar = TerminalProgress(screen, {"Hashing the files": "计算文件哈希"}.get,
                           monotonic=lambda: next(ticks))
    bar.stage("Hashing the files", 4 * 1024 ** 3, BYTES)
    for _ in range(40):
        bar.advance(1024 ** 3 // 10)
    assert bar.line().startswith("计算文件哈希 [####################") and "100%" in bar.line()
    assert "4.0 GiB / 4.0 GiB" in bar.line()
    bar.finish()
    drawn = screen.getvalue()
    # Redrawn at most ten times a second: 40 advances in 0.4 s are a handful of redraws.
    assert drawn.count("\r") < 10 and drawn.endswith("\n")


def test_a_job_runs_beside_the_caller_and_only_its_owner_sees_it():
    jobs, go = Jobs(), threading.Event()

    def work(progress):
        progress.stage("Copying the archives", 10, BYTES)
        progress.advance(4)
        go.wait(10)
        return "done"

    job = jobs.start("export", owner=7, work=work)
    assert jobs.start("export", owner=8, work=work) is job  # one export at a time
    assert jobs.get(job.id, 8) is None and jobs.get(job.id, 7) is job
    for _ in range(1000):
        if job.snapshot()["done"] == 4:
            break
        threading.Event().wait(0.01)
    assert job.snapshot() | {"id": ""} == {
        "id": "", "kind": "export", "stage": "Copying the archives", "total": 10,
        "unit": BYTES, "done": 4, "stages": 1, "finished": False, "failed": False}
    go.set()
    for _ in range(1000):
        if job.finished:
            break
        threading.Event().wait(0.01)
    assert job.result == "done" and jobs.running("export") is None


def test_a_failed_job_keeps_its_error_for_the_page_and_old_jobs_are_let_go():
    jobs = Jobs()

    def fail(_progress):
        raise KioskError("the stick is full")

    failed = jobs.start("export", owner=1, work=fail)
    for _ in range(1000):
        if failed.finished:
            break
        threading.Event().wait(0.01)
    assert failed.snapshot()["failed"] and str(failed.error) == "the stick is full"
    finished = []
    for _ in range(Jobs.KEEP + 5):
        job = jobs.start("check", owner=1, work=lambda _p: None)
        for _ in range(1000):
            if job.finished:
                break
            threading.Event().wait(0.01)
        finished.append(job)
    assert len(jobs.jobs) <= Jobs.KEEP + 1
    assert jobs.get(finished[-1].id, 1) is finished[-1]
