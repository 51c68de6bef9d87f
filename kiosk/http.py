"""The HTTP layer under Flask: waitress's server, channel and request parser, hardened.

Waitress reads a whole request before the application runs, and it does so for anyone who
connects. What a hostile workstation could do with that is stopped here, before Flask:

- a body over its route's declared limit (kiosk.web.body_limit) is not read: the parser stops as
  soon as the headers (or a chunked body) pass the limit, and Flask answers 413;
- an address outside the allowed networks is closed at accept, without an answer or a slot;
- one address holds at most `connections_per_address` connections;
- headers that do not complete within `header_timeout_seconds` close the connection, however
  slowly the client keeps trickling (channel_timeout only measures silence);
- a body spooled to the temp folder is encrypted there under a key held only in memory, and a
  full temp folder is answered 507 instead of dropping the connection.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import Counter, deque

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask
from waitress.adjustments import Adjustments
from waitress.buffers import FileBasedBuffer, OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask
from werkzeug.exceptions import HTTPException

from kiosk import web
from kiosk.network import address_allowed
from kiosk.stations.guessing import BADGE_GUARD

log = logging.getLogger("kiosk")

STORAGE_FULL = (errno.ENOSPC, errno.EDQUOT)
# How much of a body larger than inbuf_overflow is kept in memory before it spools (waitress's
# own default inbuf_overflow).
SPOOL_AFTER = 512 * 1024
# All bodies kept in memory at once, together (BodyMemoryBudget): a hall's worth of pieces
# in flight, far below what 2000 connections could otherwise hold.
BODY_MEMORY_BUDGET = 256 * 1024 * 1024
# How often KioskServer looks for kept-alive connections idle past their time (at most).
IDLE_SWEEP_EVERY = 0.25
# With this share of connection_limit open, idle kept-alive connections close without waiting.
CROWDED = 0.9
CROWDED_SWEEP_EVERY = 0.02


# ----------------------------------------------------------------------------- body limits

class RouteBodyLimits:
    """The declared body limit of whatever view a method and path reach, asked as soon as the
    headers are parsed: the same URL map and the same declarations Flask uses."""

    def __init__(self, app: Flask) -> None:
        self.by_endpoint = web.body_limits_by_endpoint(app)
        self.adapter = app.url_map.bind("kiosk")

    def for_request(self, method: str, path: str) -> int:
        # As waitress builds PATH_INFO (leading slashes merged) and Werkzeug decodes it.
        if path.startswith("/"):
            path = "/" + path.lstrip("/")
        path = path.encode("latin-1").decode("utf-8", "replace")
        try:
            endpoint, _ = self.adapter.match(path, method.upper())
        except HTTPException:  # not found, wrong method, a redirect: no view takes a body
            return web.DEFAULT_BODY_LIMIT
        return self.by_endpoint.get(endpoint, web.DEFAULT_BODY_LIMIT)


# ----------------------------------------------------------------------------- the spool

class EncryptedSpoolFile(io.RawIOBase):
    """A temporary file that holds only AES-256-CTR ciphertext, under a random key that lives in
    this object and nowhere else: what a body leaves in the temp folder (or on a disk after a
    crash) is noise. CTR keeps every byte at its offset, so seek and tell work as waitress's
    buffers need them."""

    def __init__(self) -> None:
        super().__init__()
        # Closed by close(), which waitress calls when the request is done.
        self._file = tempfile.TemporaryFile("w+b", buffering=0)  # noqa: SIM115
        self._key = os.urandom(32)
        self._nonce = int.from_bytes(os.urandom(16), "big")
        self._position = 0
        self._size = 0
        # Waitress appends in order and the view reads in order: the keystream of each goes on
        # from where the last call ended instead of being set up again for every call.
        self._writer: tuple[int, object] | None = None
        self._reader: tuple[int, object] | None = None

    def _keystream_at(self, offset: int):
        block, skip = divmod(offset, 16)
        counter = ((self._nonce + block) % (1 << 128)).to_bytes(16, "big")
        cipher = Cipher(algorithms.AES(self._key), modes.CTR(counter)).encryptor()
        if skip:
            cipher.update(bytes(skip))
        return cipher

    def _keystream(self, cached: tuple[int, object] | None, offset: int):
        if cached is not None and cached[0] == offset:
            return cached[1]
        return self._keystream_at(offset)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += self._size
        if offset < 0:
            raise ValueError("negative seek position")
        self._position = offset
        return offset

    def write(self, data) -> int:
        keystream = self._keystream(self._writer, self._position)
        ciphertext = memoryview(keystream.update(data))
        self._writer = None  # a failed write leaves the keystream out of step: set up again
        self._file.seek(self._position)
        written = 0
        while written < len(ciphertext):  # an unbuffered write may be partial; ENOSPC raises
            written += self._file.write(ciphertext[written:])
        self._position += written
        self._size = max(self._size, self._position)
        self._writer = (self._position, keystream)
        return written

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        self._file.seek(self._position)  # no pread/pwrite: the server also runs on Windows
        count = self._file.readinto(view) or 0
        if count:
            keystream = self._keystream(self._reader, self._position)
            self._reader = None
            # Not in place: cryptography 51 refuses update_into over the same buffer.
            view[:count] = keystream.update(view[:count])
            self._position += count
            self._reader = (self._position, keystream)
        return count

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._key = b""
            self._writer = self._reader = None
        super().close()


class EncryptedSpoolBuffer(FileBasedBuffer):
    """Waitress's file buffer, over an encrypted spool file."""

    def __init__(self, from_buffer=None) -> None:
        spool = EncryptedSpoolFile()
        try:
            super().__init__(spool, from_buffer)
        except BaseException:
            spool.close()  # a full disk while copying the first part in: give the space back
            raise

    def newfile(self) -> EncryptedSpoolFile:
        return EncryptedSpoolFile()


class EncryptedOverflowableBuffer(OverflowableBuffer):
    """In memory up to `inbuf_overflow`, then in an encrypted spool file (never in plaintext)."""

    def _set_large_buffer(self) -> None:
        small = self.buf
        self.buf = EncryptedSpoolBuffer(small)
        if small is not None:
            small.close()
        self.overflowed = True


class BodyMemoryBudget:
    """How many bytes of request bodies all connections together may hold in memory. A body
    that would pass it spools (encrypted) after its first 512 KiB instead: 2000 connections
    each sending a 2 MiB piece must not take 4 GiB of the server's memory."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.reserved = 0
        self._lock = threading.Lock()  # reserved in the event loop, released by worker threads

    def reserve(self, size: int) -> bool:
        with self._lock:
            if self.reserved + size > self.total:
                return False
            self.reserved += size
            return True

    def release(self, size: int) -> None:
        with self._lock:
            self.reserved -= size


# ----------------------------------------------------------------------------- parser and task

class KioskRequestParser(HTTPRequestParser):
    """Waitress's parser, stopping at the route's body limit and answering a full spool."""

    refused: str | None = None  # web.BODY_REFUSED or web.SPOOL_FULL: the body was not kept
    body_limit = web.DEFAULT_BODY_LIMIT

    reserved = 0  # bytes of the memory budget this body holds

    def __init__(self, adj: Adjustments, limits: RouteBodyLimits,
                 memory: BodyMemoryBudget) -> None:
        super().__init__(adj)
        self.limits = limits
        self.memory = memory

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        self.body_limit = self.limits.for_request(self.command, self.path)
        if self.body_rcv is not None:  # nothing received into it yet: swap the buffer
            # A route whose bodies fit in inbuf_overflow (a resumable piece, any JSON call)
            # keeps them in memory while the budget allows; a hand-in spools early, as
            # waitress would, so fifty hand-ins arriving at once do not hold 2 MiB each.
            in_memory = SPOOL_AFTER
            if self.body_limit <= self.adj.inbuf_overflow:
                wanted = self.body_limit if self.chunked else min(self.content_length,
                                                                  self.body_limit)
                if self.memory.reserve(wanted):
                    self.reserved = wanted
                    in_memory = self.adj.inbuf_overflow
            self.body_rcv.buf = EncryptedOverflowableBuffer(in_memory)

    def close(self) -> None:
        self._release_memory()
        super().close()

    def _release_memory(self) -> None:
        reserved, self.reserved = self.reserved, 0
        if reserved:
            self.memory.release(reserved)

    def received(self, data: bytes) -> int:
        try:
            consumed = super().received(data)
        except OSError as exc:
            if exc.errno not in STORAGE_FULL:
                raise
            log.error("temp folder full: a %s body to %s was refused (507)", self.command,
                      self.path)
            self._refuse(web.SPOOL_FULL)
            return len(data)
        if self.headers_finished and self.error is None and self.refused is None \
                and self.body_rcv is not None and self._body_size() > self.body_limit:
            self._refuse(web.BODY_REFUSED)
            # Everything this read brought is swallowed: the rest of a refused body must never
            # be parsed as a next request, and the connection closes after the answer.
            return len(data)
        return consumed

    def _body_size(self) -> int:
        # Content-Length says it before a byte arrives; a chunked body counts as it comes.
        return len(self.body_rcv) if self.chunked else self.content_length

    def _refuse(self, reason: str) -> None:
        if self.body_rcv is not None:
            self.body_rcv.getbuf().close()  # frees the memory or the spool file at once
            self.body_rcv = None
        self._release_memory()
        self.refused = reason
        self.completed = True
        self.expect_continue = False  # never invite the body we will not read
        self.headers["CONNECTION"] = "close"  # what waitress reads to close after the answer


class KioskTask(WSGITask):
    def get_environment(self) -> dict:
        environ = super().get_environment()
        refused = getattr(self.request, "refused", None)
        if refused:
            environ[refused] = True
        return environ


# ----------------------------------------------------------------------------- channel and server

class KioskChannel(HTTPChannel):
    task_class = KioskTask
    counted_address: str | None = None
    # When the headers now awaited began to be awaited: the connection's opening for its first
    # request, the first byte of any later one; None while none are awaited.
    headers_awaited_since: float | None = None

    def __init__(self, server: KioskServer, sock, addr, adj, map=None) -> None:
        super().__init__(server, sock, addr, adj, map=map)
        self.headers_awaited_since = self.creation_time
        self.counted_address = addr[0]
        server.connections_by_address[addr[0]] += 1

    def readable(self) -> bool:
        # An address held back (it kept guessing badge codes past its limit) is not read from
        # until its time is up: its requests wait in the kernel, costing the hall nothing.
        # Asked of every channel on every turn of the event loop: nothing more than a test of
        # an empty dict while nobody is held back (all day, but for a guessing workstation).
        held_back = self.server.held_back
        if held_back:
            until = held_back.get(self.addr[0])
            if until is not None and until > time.monotonic():
                return False
        return super().readable()

    def parser_class(self, adj: Adjustments) -> KioskRequestParser:
        # Waitress calls `self.parser_class(adj)` for each request: this hands the parser the
        # server's body limits.
        return KioskRequestParser(adj, self.server.body_limits, self.server.body_memory)

    def handle_close(self) -> None:
        # Waitress leaves a half-received request to the garbage collector: give back its
        # memory budget and its spool file now.
        if self.request is not None:
            self.request.close()
        super().handle_close()

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        request = self.request
        if request is None or request.headers_finished:
            self.headers_awaited_since = None
        elif request is not before and before is not None:
            self.headers_awaited_since = time.time()  # a pipelined request began in this read
        elif self.headers_awaited_since is None:
            self.headers_awaited_since = time.time()
        return result

    def del_channel(self, map=None) -> None:
        super().del_channel(map)
        address, self.counted_address = self.counted_address, None
        if address is not None:
            counts = self.server.connections_by_address
            counts[address] -= 1
            if counts[address] <= 0:
                del counts[address]


class KioskServer(TcpWSGIServer):
    channel_class = KioskChannel

    def __init__(self, application, *, app: Flask, header_timeout: float,
                 connections_per_address: int, exempt_address: str | None = None,
                 keepalive_idle: float | None = None, **kw) -> None:
        settings = app.config["KIOSK_SETTINGS"]
        self.allowed_networks = app.config["KIOSK_ALLOWED_NETWORKS"]
        self.body_limits = RouteBodyLimits(app)
        self.body_memory = BodyMemoryBudget(BODY_MEMORY_BUDGET)
        self.header_timeout = header_timeout
        self.connections_per_address = connections_per_address
        self.keepalive_idle = keepalive_idle  # close_idle_keepalive; None: channel_timeout only
        self._next_idle_sweep = 0.0
        # The local TLS terminator (behind_proxy) carries every workstation's connections.
        self.exempt_address = exempt_address if settings.behind_proxy else None
        self.connections_by_address: Counter[str] = Counter()
        guard = app.extensions.get(BADGE_GUARD)
        self.held_back: dict[str, float] = guard.held_back if guard is not None else {}
        self._last_refusal_logged: dict[tuple[str, str], float] = {}
        super().__init__(application, **kw)

    def admits(self, address: str) -> str | None:
        """None if a new connection from this address may be served, else why not."""
        if address == self.exempt_address:
            return None
        if not address_allowed(address, self.allowed_networks):
            return "outside the allowed networks"
        if self.connections_by_address[address] >= self.connections_per_address:
            return f"already holds {self.connections_per_address} connections"
        return None

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is None:
            return
        conn, addr = accepted
        refusal = self.admits(addr[0])
        if refusal is not None:
            self._refuse(conn, addr[0], refusal)
            return
        try:
            self.set_socket_options(conn)
        except OSError:  # the peer left before we got to it
            conn.close()
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)

    def _refuse(self, conn: socket.socket, address: str, reason: str) -> None:
        # A reset, not a goodbye: no answer, no TIME_WAIT left on this side for a flood.
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        now = time.monotonic()
        key = (address, reason)
        if now - self._last_refusal_logged.get(key, -60.0) >= 60:  # one line a minute, not a flood
            if len(self._last_refusal_logged) > 1000:
                self._last_refusal_logged.clear()
            self._last_refusal_logged[key] = now
            log.warning("connection from %s refused: %s", address, reason)

    def readable(self) -> bool:
        # Asked on every pass of the event loop (at least once a second): look for idle
        # kept-alive connections a few times a second, finer than waitress's whole-second
        # cleanup_interval.
        if self.keepalive_idle is not None:
            now = time.time()
            crowded = len(self._map) >= CROWDED * self.adj.connection_limit
            if now >= self._next_idle_sweep:
                self._next_idle_sweep = now + (CROWDED_SWEEP_EVERY if crowded else
                                               min(IDLE_SWEEP_EVERY, self.keepalive_idle / 2))
                # Near the connection limit (all of a Windows hall fetching its papers at once)
                # an answered connection goes at once: the next station's waits for its slot.
                close_idle_keepalive(self.active_channels.values(),
                                     now if crowded else now - self.keepalive_idle)
        return super().readable()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = now - self.header_timeout
        for channel in self.active_channels.values():
            since = getattr(channel, "headers_awaited_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True


def close_idle_keepalive(channels, cutoff: float) -> int:
    """Close every kept-alive connection that has sat idle between requests since before
    `cutoff` (issue 19): it has been answered, no request is in progress or waiting, nothing is
    left to send and no byte of a next request has arrived. (One that has not yet sent its first
    request is header_timeout's.) A workstation polling every few seconds then holds a socket
    only around each request, not all day: what keeps a Windows server's select() under its 512
    sockets. A browser resends a request that meets a kept-alive connection just closed (a
    reused socket), and a poll that finds its connection closed opens another. Returns how
    many."""
    closing = 0
    for channel in channels:
        if (channel.headers_awaited_since is not None or channel.requests
                or channel.request is not None or channel.total_outbufs_len
                or channel.will_close or channel.last_activity >= cutoff
                or _bytes_waiting(channel.socket)):
            continue
        channel.will_close = True
        closing += 1
    return closing


def _bytes_waiting(sock) -> bool:
    """A next request has begun to arrive (so the connection is not idle, whatever its clock
    says: the event loop has not read it yet). A peer that closed its side counts as idle."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:  # BlockingIOError: nothing there
        return False


def name_os_thread(name: str) -> None:
    """Give the calling thread its name in the operating system too (Linux: what `top -H`,
    /proc/PID/task/TID/comm and the benches' CPU per thread show); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


# A request whose body is at least this large (a hand-in piece, a one-request hand-in, a staff
# import) is bulk: it runs in one of BULK_LANES threads of its own (KioskTaskDispatcher).
BULK_BODY = 256 * 1024
# As many as kiosk.collect.hand_ins.INGEST_SLOTS: more could only wait there, holding a thread.
BULK_LANES = 2


def is_bulk(channel) -> bool:
    """The channel's next request carries a large body (Content-Length, or a chunked body
    that grew past BULK_BODY) and was not refused before its body was read."""
    requests = getattr(channel, "requests", None)
    if not requests:
        return False
    request = requests[0]
    if request.error is not None or getattr(request, "refused", None):
        return False
    body = request.content_length
    if request.chunked and request.body_rcv is not None:
        body = len(request.body_rcv)
    return (body or 0) >= BULK_BODY


# How much lower the bulk lane's threads run (Linux nice): the kernel gives a save's thread the
# CPU first when it wakes, while hashing and encryption (which leave the interpreter lock free)
# take every cycle the saves leave.
BULK_NICE = 10


def lower_thread_priority(nice: int = BULK_NICE) -> None:
    """The calling thread (not the process) runs at a lower priority (Linux; elsewhere
    nothing)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


class KioskTaskDispatcher(ThreadedTaskDispatcher):
    """Waitress's worker threads (named `waitress-N` in the operating system as well), and a
    lane of `bulk_lanes` threads of their own (`waitress-bulk-N`, at a lower priority) for the
    requests with a large body (is_bulk: hand-in pieces, one-request hand-ins, imports). Bulk
    requests wait in their own queue without holding a thread, so the answer saves and every
    small request always find all of the worker threads. Waitress has read the whole body
    before a request is queued, so one waiting here costs no socket reads.

    Fifty hand-ins arriving at once used to take every worker thread (each piece then waited
    for one of the two ingest slots inside the application) while the saves queued behind."""

    def __init__(self, bulk_lanes: int | None = None) -> None:
        super().__init__()
        self.bulk_lanes = max(1, BULK_LANES if bulk_lanes is None else bulk_lanes)
        self.bulk_queue: deque = deque()
        self.bulk_cv = threading.Condition(self.lock)
        self.bulk_threads: list[threading.Thread] = []
        self.bulk_stopping = False

    def handler_thread(self, thread_no: int) -> None:
        name_os_thread(f"waitress-{thread_no}")
        super().handler_thread(thread_no)

    def set_thread_count(self, count: int) -> None:
        super().set_thread_count(count)
        with self.lock:
            if count > 0 and not self.bulk_threads and not self.bulk_stopping:
                for lane in range(self.bulk_lanes):
                    thread = threading.Thread(target=self.bulk_thread, args=(lane,),
                                              name=f"waitress-bulk-{lane}", daemon=True)
                    self.bulk_threads.append(thread)
                    thread.start()

    def bulk_thread(self, lane: int) -> None:
        name_os_thread(f"waitress-bulk-{lane}")
        lower_thread_priority()
        while True:
            with self.lock:
                while not self.bulk_queue and not self.bulk_stopping:
                    self.bulk_cv.wait()
                if self.bulk_stopping:
                    return
                task = self.bulk_queue.popleft()
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)

    def add_task(self, task) -> None:
        if not is_bulk(task):
            super().add_task(task)
            return
        with self.lock:
            self.bulk_queue.append(task)
            self.bulk_cv.notify()

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        with self.lock:
            self.bulk_stopping = True
            self.bulk_cv.notify_all()
            while cancel_pending and self.bulk_queue:
                self.bulk_queue.popleft().cancel()
        for thread in self.bulk_threads:
            thread.join(timeout)
        return super().shutdown(cancel_pending, timeout)


def create_kiosk_server(wsgi_app, app: Flask, *, header_timeout: float,
                        connections_per_address: int, keepalive_idle: float | None = None,
                        bulk_lanes: int | None = None, **options):
    """Like waitress.create_server, with KioskServer on every listening address and
    `bulk_lanes` threads of their own (default BULK_LANES) for large bodies
    (KioskTaskDispatcher)."""
    adj = Adjustments(**options)
    dispatcher = KioskTaskDispatcher(bulk_lanes)
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict = {}
    servers = [KioskServer(wsgi_app, app=app, header_timeout=header_timeout,
                           connections_per_address=connections_per_address,
                           exempt_address=adj.trusted_proxy, keepalive_idle=keepalive_idle,
                           map=socket_map,
                           dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)
               for sockinfo in adj.listen]
    if len(servers) == 1:
        return servers[0]
    return MultiSocketServer(socket_map, adj, [(s.effective_host, s.effective_port)
                                               for s in servers], dispatcher,
                             servers[-1].log_info)
