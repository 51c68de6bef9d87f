"""Hand-ins never take every worker thread (kiosk.http.KioskTaskDispatcher): requests with a
large body (pieces, one-request hand-ins) run in at most `bulk_lanes` threads at once and the
rest of them wait in their own queue without holding one, so an answer save beside fifty
hand-ins finds a free thread. The lane has threads of its own, at a lower priority (Linux)."""

import os
import sys
import threading
import time
from types import SimpleNamespace

from kiosk.collect.resumable import PIECE_BYTES
from kiosk.http import BULK_BODY, KioskTaskDispatcher, is_bulk


class Task:
    """What waitress queues (a channel): its next request, and service() that runs it."""

    def __init__(self, body: int, running: list, lock: threading.Lock,
                 release: threading.Event | None = None) -> None:
        self.requests = [SimpleNamespace(error=None, refused=None, content_length=body,
                                         chunked=False, body_rcv=None)]
        self.running, self.lock, self.release = running, lock, release
        self.done = threading.Event()
        self.most_at_once = 0

    def service(self) -> None:
        self.nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        with self.lock:
            self.running.append(self)
            self.most_at_once = len(self.running)
        if self.release is not None:
            self.release.wait(10)
        with self.lock:
            self.running.remove(self)
        self.done.set()

    def cancel(self) -> None:
        pass


def test_a_save_is_served_while_hand_in_pieces_fill_their_lanes():
    dispatcher = KioskTaskDispatcher(bulk_lanes=2)
    dispatcher.set_thread_count(4)
    release, lock, running = threading.Event(), threading.Lock(), []
    try:
        pieces = [Task(PIECE_BYTES, running, lock, release) for _ in range(6)]
        for piece in pieces:
            dispatcher.add_task(piece)
        save = Task(80, running, lock)
        dispatcher.add_task(save)
        # Six pieces and four threads: without the lanes every thread would hold a piece.
        assert save.done.wait(5), "the save waited behind the hand-ins"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(running) < 2:
            time.sleep(0.01)
        time.sleep(0.1)  # a third piece would have started by now
        with lock:
            assert len(running) == 2  # two pieces at a time, four waiting without a thread
        assert sum(piece.done.is_set() for piece in pieces) == 0
        release.set()
        assert all(piece.done.wait(5) for piece in pieces)  # every piece is served in turn
        assert max(piece.most_at_once for piece in pieces) <= 2
        if sys.platform.startswith("linux"):  # the kernel prefers the save's thread
            assert all(piece.nice > save.nice for piece in pieces)
    finally:
        release.set()
        dispatcher.shutdown()


def test_only_large_bodies_take_the_bulk_lane():
    def channel(**request):
        fields = {"error": None, "refused": None, "content_length": 0, "chunked": False,
                  "body_rcv": None, **request}
        return SimpleNamespace(requests=[SimpleNamespace(**fields)])

    assert is_bulk(channel(content_length=PIECE_BYTES))
    assert is_bulk(channel(content_length=BULK_BODY))
    assert not is_bulk(channel(content_length=200))  # an answer save
    assert not is_bulk(channel(content_length=PIECE_BYTES, refused="too_large"))  # not read
    assert not is_bulk(channel(content_length=PIECE_BYTES, error=ValueError()))
    assert is_bulk(channel(chunked=True, body_rcv=b"x" * BULK_BODY))
    assert not is_bulk(SimpleNamespace(requests=[]))
