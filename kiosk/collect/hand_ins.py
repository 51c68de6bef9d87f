"""Hand-in: streamed uploads hashed and encrypted on arrival, and signed receipts.

The pipeline never holds a whole file and never writes plaintext to disk: the request body is
read in chunks through SHA-256 and age encryption (to the `archive` recipients) into a temp file
in archives/, which is fsynced and renamed; only then is the row committed with its audit event.
A crash before the commit leaves at most a `.partial` file, removed at the next start; a crash
after it leaves an acknowledged, durable hand-in.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from kiosk import audit, clock, scope
from kiosk.collect.models import HandIn
from kiosk.collect.parts import DEFAULT_PART
from kiosk.crypto import AgeEncryptor, parse_recipient
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, KioskError, Locked, NotFound
from kiosk.instance import fsync_dir
from kiosk.judge_keys import recipients_for
from kiosk.models import ExamSession
from kiosk.stations.models import Station, StationSession
from kiosk.stations.phases import display_name
from kiosk.stations.window import station_window

CHUNK = 1024 * 1024
# Hashing and encrypting a large hand-in keeps a thread (and the interpreter lock, between
# pyrage's calls) busy for seconds; with fifty at once every answer save in the hall would queue
# behind them (measured: p99 23 s). So a few at a time; the others wait, their bodies already on
# the server's disk (waitress has the whole request before the view runs).
INGEST_SLOTS = 2
_ingest_slots = threading.BoundedSemaphore(INGEST_SLOTS)
PARTIAL_SUFFIX = ".partial"
# A piece this large has its plaintext hashed beside its encryption, one thread per ingest slot.
_PARALLEL_HASH = 256 * 1024


def _lower_priority() -> None:
    """Hashing beside the answer saves: the kernel gives a save's thread the CPU first (Linux;
    as kiosk.http's bulk lane)."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


_plain_hasher = ThreadPoolExecutor(max_workers=INGEST_SLOTS, thread_name_prefix="sha256",
                                   initializer=_lower_priority)
# A one-request body is already on the server, so its stream never waits for a piece; this only
# bounds a stream whose feeder died without abandoning it.
STREAM_IDLE = timedelta(minutes=10)


class TooLarge(KioskError):
    code = "too_large"
    status = 413


class InsufficientStorage(KioskError):
    code = "insufficient_storage"
    status = 507


class IncompleteUpload(KioskError):
    code = "incomplete_upload"
    status = 400


class UploadExpired(NotFound):
    """A resumable upload this server no longer holds: the kiosk starts it again from zero."""

    code = "upload_expired"


def clean_filename(name: str) -> str:
    """The contestant's file name as they see it, minus anything that could act as a path."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:255] or "upload.bin"


class _HashingWriter:
    """What the age stream writes: the ciphertext, through SHA-256, into the partial file."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.hash = hashlib.sha256()

    def write(self, data) -> int:
        return self._write(data)

    def _write(self, data) -> int:
        self.hash.update(data)
        view, written = memoryview(data), 0
        while written < len(view):  # an unbuffered write may be partial; ENOSPC raises
            written += self.target.write(view[written:])
        return written


def _disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class ArchiveStream:
    """One open age stream into `archives/<random>.age.<owner>.partial`, fed in order through
    SHA-256; `finish` fsyncs and renames it. Plaintext exists only in the piece being fed:
    `feed` hashes it, encrypts it (kiosk.crypto.AgeEncryptor, 64 KiB chunks with the interpreter
    lock released) and writes the ciphertext before it returns, so a full disk is the answer to
    the piece that met it. Nothing is fsynced before `finish`: once per hand-in, not per piece.

    Both hand-in routes use it: the one-request upload feeds the body 1 MiB at a time, the
    resumable one feeds each piece as it arrives. A watchdog thread ends an abandoned stream:
    after `idle` without a piece it removes the partial file itself."""

    def __init__(self, archives: Path, recipients: list, idle: timedelta) -> None:
        archives.mkdir(parents=True, exist_ok=True)
        self.stored_name = secrets.token_hex(16) + ".age"
        self.archives = archives
        self.partial = archives / f"{self.stored_name}.{_OWNER}{PARTIAL_SUFFIX}"
        self.hash = hashlib.sha256()
        self.size = 0
        self.error: BaseException | None = None
        self.finished = False
        self.idle = idle.total_seconds()
        self._lock = threading.Lock()  # one feeder at a time; the watchdog never cuts one off
        self._done = threading.Event()
        self._fed = time.monotonic()
        try:
            self._handle = open(self.partial, "xb", buffering=0)  # noqa: SIM115 (closed at end)
        except OSError as exc:
            raise self._storage_error(exc) from exc
        self._writer = _HashingWriter(self._handle)
        try:
            self._age = AgeEncryptor(recipients, self._writer.write)
        except BaseException as exc:
            self._discard()
            raise self._storage_error(exc) from exc
        self._worker = threading.Thread(target=self._watch, name="age-stream-idle",
                                        daemon=True)
        self._worker.start()

    @property
    def cipher_sha256(self) -> str:
        return self._writer.hash.hexdigest()

    @property
    def alive(self) -> bool:
        return self.error is None

    def _watch(self) -> None:
        while not self._done.wait(max(0.05, self._fed + self.idle - time.monotonic())):
            if time.monotonic() - self._fed < self.idle or not self._lock.acquire(blocking=False):
                continue  # fed meanwhile, or a piece is going in right now
            try:
                if not self._done.is_set():
                    self._fail(UploadExpired(N_("The upload waited too long for its next "
                                                "piece and was dropped; send the file again.")))
            finally:
                self._lock.release()

    def _fail(self, error: BaseException) -> BaseException:
        """Under the lock: the stream ends with `error` and its partial file goes."""
        if self.error is None:
            self.error = error
        self._discard()
        self._done.set()
        return self.error

    def feed(self, data) -> None:
        """Into the stream, in order; returns once it is encrypted and written (not fsynced)."""
        if not data:
            return
        with self._lock:
            if self.error is not None:
                raise self.error
            try:
                if len(data) >= _PARALLEL_HASH:
                    # The plaintext's SHA-256 on another core while age encrypts it: both
                    # release the interpreter lock, and the piece is read-only meanwhile.
                    hashed = _plain_hasher.submit(self.hash.update, data)
                    try:
                        self._age.update(data)
                    finally:
                        hashed.result()
                else:
                    self.hash.update(data)
                    self._age.update(data)
            except BaseException as exc:
                error = self._fail(self._storage_error(exc))
                if error is exc:
                    raise
                raise error from exc
            self.size += len(data)
            self._fed = time.monotonic()

    def finish(self) -> None:
        """The end of the age stream, then fsync, rename and fsync of the folder: durable."""
        with self._lock:
            if self.error is not None:
                raise self.error
            try:
                self._age.finish()
                os.fsync(self._handle.fileno())
                self._handle.close()
                os.replace(self.partial, self.archives / self.stored_name)
                fsync_dir(self.archives)
            except BaseException as exc:
                (self.archives / self.stored_name).unlink(missing_ok=True)
                error = self._fail(self._storage_error(exc))
                if error is exc:
                    raise
                raise error from exc
            self.finished = True
            self._done.set()

    def abandon(self) -> None:
        """End the stream and remove the partial file now (waits for a piece going in)."""
        with self._lock:
            if not self.finished:
                self._fail(UploadExpired(N_("The upload was replaced by a newer one.")))
            self._done.set()
        self._worker.join(timeout=10)

    def _discard(self) -> None:
        # A full disk may refuse the last bytes on close: the file goes anyway.
        with suppress(OSError):
            self._handle.close()
        self.partial.unlink(missing_ok=True)

    @staticmethod
    def _storage_error(exc: BaseException) -> BaseException:
        if _disk_full(exc):
            return InsufficientStorage(N_("The server's disk is full; nothing was stored. Tell "
                                          "a judge now."))
        return exc


def new_receipt_no(now: datetime) -> str:
    # Short enough to read aloud, unique across the day: date part + 6 random characters.
    return now.astimezone().strftime("%m%d") + "-" + secrets.token_hex(3).upper()


def _refusal(session: Session, part: str, station_id: int, now: datetime,
             grace: timedelta) -> str | None:
    """Why this station may not hand in for `part` now (`clock.refusal`'s reason), None while
    it may: the part's own clock and the station's extensions in that part. A pause refuses
    every hand-in, the desk's too: nobody works while the exam is paused."""
    refused = station_window(session, part, station_id).refusal(now, grace)
    if refused == "paused":
        raise Locked(N_("The exam is paused; hand in after it resumes."), state=refused,
                     part=part)
    return refused


def _closed(session: Session, part: str, refused: str, closed_message: str) -> Locked:
    """A workstation's hand-in for `part` refused for `refused` (not started, or over)."""
    if refused in ("not_started", "scheduled"):
        return Locked(N_("%(phase)s has not started."), phase=display_name(session, part),
                      state=refused, part=part)
    return Locked(closed_message, phase=display_name(session, part), state=refused, part=part)


@contextmanager
def ingest_slot() -> Iterator[None]:
    with _ingest_slots:
        yield


def ingest_arrived(session: Session, **arguments) -> HandIn:
    """`ingest` from a view: the whole body is already on the server (waitress reads it before
    the view runs), so it arrived now; waiting for a turn is not the contestant's time."""
    arrived = clock.now()
    with ingest_slot():
        return ingest(session, now_fn=lambda: arrived, **arguments)


def ingest(session: Session, *, archives: Path, station_id: int, station_code: str,
           body: BinaryIO, filename: str, content_length: int | None, limit: int,
           now_fn, grace: timedelta, via: str = "kiosk", collected_by: str | None = None,
           form_token: str | None = None, part: str = DEFAULT_PART,
           actor: audit.Actor) -> HandIn:
    """Stream one hand-in for `part` to disk, encrypted, then commit it. `now_fn` is called
    when the body has arrived: the receipt's time is when the server had the whole file."""
    recipients = open_hand_in(session, station_id=station_id, size=content_length, limit=limit,
                              now=now_fn(), grace=grace, via=via, part=part)
    stream = ArchiveStream(archives, recipients, idle=STREAM_IDLE)
    buffer = memoryview(bytearray(CHUNK))  # the body goes through this one buffer, no copies
    try:
        while True:
            want = CHUNK if content_length is None else min(CHUNK, content_length - stream.size)
            got = read_into(body, buffer[:want])
            if not got:
                if content_length is not None and stream.size < content_length:
                    raise IncompleteUpload(N_("The upload was interrupted; nothing was stored. "
                                              "Try again."))
                break
            if stream.size + got > limit:
                raise _too_large(limit)
            stream.feed(buffer[:got])
        if stream.size == 0:  # a body sent without a length (chunked) that turned out empty
            raise KioskError(N_("The file is empty; choose the file with your work."))
        stream.finish()
    except BaseException:
        stream.abandon()
        raise
    return commit_hand_in(session, stream, station_id=station_id, station_code=station_code,
                          filename=filename, received_at=now_fn(), grace=grace, via=via,
                          collected_by=collected_by, form_token=form_token, part=part,
                          actor=actor)


def read_into(body: BinaryIO, buffer: memoryview) -> int:
    """Fill `buffer` from the body; fewer bytes only at its end. Werkzeug's LimitedStream hands
    `readinto` straight to waitress's buffer: no bytes object per read, no join (a large
    `read` there costs four times as much: 3 ms per MiB against 0.75)."""
    filled = 0
    readinto = getattr(body, "readinto", None)
    while filled < len(buffer):
        if readinto is not None:
            count = readinto(buffer[filled:]) or 0
        else:
            data = body.read(len(buffer) - filled)
            count = len(data)
            buffer[filled:filled + count] = data
        if not count:
            break
        filled += count
    return filled


def read_up_to(body: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes, fewer only at the end."""
    buffer = memoryview(bytearray(n))
    return bytes(buffer[:read_into(body, buffer)])


def _too_large(limit: int) -> TooLarge:
    return TooLarge(N_("The file is larger than the limit of %(mb)s MB."),
                    mb=limit // (1024 * 1024))


def open_hand_in(session: Session, *, station_id: int, size: int | None, limit: int,
                 now: datetime, grace: timedelta, via: str, part: str = DEFAULT_PART) -> list:
    """Everything that can refuse a hand-in before its first byte is stored: its size, the
    station's window in `part`, an archive key. Returns the age recipients. Both routes ask
    here."""
    if size is not None and size > limit:
        raise _too_large(limit)
    if size == 0:
        # An empty file is a wrong pick in the file dialog, never anyone's work: say so now,
        # while the contestant can still choose the right one.
        raise KioskError(N_("The file is empty; choose the file with your work."))
    refused = _refusal(session, part, station_id, now, grace)
    if refused is not None and via == "kiosk":
        raise _closed(session, part, refused,
                      N_("The hand-in for %(phase)s has closed for this station."))
    recipients = [parse_recipient(r) for r in recipients_for(session, "archive")]
    if not recipients:
        raise Conflict(N_("No archive key is registered: kiosk judge-key add NAME age1… --role "
                          "archive"))
    session.commit()  # no transaction stays open while the body streams in
    return recipients


def commit_hand_in(session: Session, stream: ArchiveStream, *, station_id: int,
                   station_code: str, filename: str, received_at: datetime, grace: timedelta,
                   via: str, collected_by: str | None, actor: audit.Actor,
                   form_token: str | None = None, part: str = DEFAULT_PART) -> HandIn:
    """The row and its audit event for a finished (fsynced, renamed) stream, or nothing: the
    window in `part` is asked again at `received_at`, when the server had the last byte; the
    version is the next of this station in this part. A desk form
    that already made a hand-in (`form_token`) gets that one back and this copy is dropped:
    two submissions of one form racing each other are one hand-in."""
    archives_file = stream.archives / stream.stored_name
    try:
        with write_transaction(session):
            earlier = hand_in_for_form(session, form_token, station_id, part)
            if earlier is not None:
                archives_file.unlink(missing_ok=True)
                return earlier
            refused = _refusal(session, part, station_id, received_at, grace)
            late = refused is not None
            if late and via == "kiosk":
                raise _closed(session, part, refused,
                              N_("The hand-in for %(phase)s closed while the file was "
                                 "arriving."))
            version = (session.scalar(select(func.max(HandIn.version)).where(
                HandIn.station_id == station_id, HandIn.part == part)) or 0) + 1
            hand_in = HandIn(station_id=station_id, part=part, version=version,
                             receipt_no=new_receipt_no(received_at),
                             filename=clean_filename(filename), size=stream.size,
                             sha256=stream.hash.hexdigest(),
                             cipher_sha256=stream.cipher_sha256, stored_name=stream.stored_name,
                             received_at=received_at, via=via, collected_by=collected_by,
                             late=late, form_token=form_token)
            session.add(hand_in)
            session.flush()
            details = {"receipt_no": hand_in.receipt_no, "part": part, "version": version,
                       "size": stream.size, "sha256": hand_in.sha256, "via": via, "late": late}
            if via == "desk" and not _drawn(session, station_id):
                details["undrawn"] = True  # the judge confirmed the desk's warning
            audit.record(session, actor, "collect.received", at=received_at,
                         subject=station_code, details=details)
    except IntegrityError:
        # PostgreSQL: the same form committed by another request in the meantime (the unique
        # form token); SQLite's BEGIN IMMEDIATE already serialised the check above.
        archives_file.unlink(missing_ok=True)
        earlier = hand_in_for_form(session, form_token, station_id, part)
        if earlier is None:
            raise
        return earlier
    except BaseException:
        archives_file.unlink(missing_ok=True)
        raise
    return hand_in


# ----------------------------------------------------------------------------- the desk

# The desk page's form token: random, then the part the form files under (`.KEY`): the page
# is drawn for one part, and its script sends the token with every call of the hand-in.
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}(?:\.(?P<part>[A-Za-z0-9_-]{1,16}))?")
FORM_TOKEN_MAX = 64  # hand_in.form_token


class StationNotDrawn(Conflict):
    """The desk asked to take a hand-in for a station nobody drew: the judge confirms first."""

    code = "station_not_drawn"


def form_token(text: str | None) -> str | None:
    """The desk form's idempotency token from a request: absent, or 16–64 URL-safe letters."""
    if not text:
        return None
    if len(text) > FORM_TOKEN_MAX or not FORM_TOKEN.fullmatch(text):
        raise KioskError(N_("The form's token is not valid; reload the page."))
    return text


def new_form_token(part: str) -> str:
    """A desk form's token for a hand-in under `part`."""
    return f"{secrets.token_urlsafe(24)}.{part}"


def form_part(token: str | None) -> str | None:
    """The part a desk form was drawn for (None for a token without one: a tool's)."""
    found = FORM_TOKEN.fullmatch(token) if token else None
    return found["part"] if found else None


def hand_in_for_form(session: Session, token: str | None, station_id: int,
                     part: str | None = None) -> HandIn | None:
    """The hand-in this desk form already made, if any. One form is one hand-in for one
    station and one part: the same form sent for another station or part is refused."""
    if token is None:
        return None
    earlier = session.scalar(select(HandIn).where(HandIn.form_token == token))
    if earlier is not None and earlier.station_id != station_id:
        raise Conflict(N_("This form was already used for another station's hand-in "
                          "(receipt %(no)s); reload the page for a new hand-in."),
                       no=earlier.receipt_no)
    if earlier is not None and part is not None and earlier.part != part:
        raise Conflict(N_("This form was already used for a hand-in for %(phase)s (receipt "
                          "%(no)s); reload the page for a new hand-in."),
                       phase=display_name(session, earlier.part), no=earlier.receipt_no)
    return earlier


def _drawn(session: Session, station_id: int) -> bool:
    return bool(session.scalar(select(Station.occupied).where(Station.id == station_id)))


def require_expected(session: Session, station, *, confirmed: bool) -> None:
    """The desk takes a hand-in for a station nobody drew only once the judge has seen why
    and confirmed: a wrong pick in the list must not file someone's work under an empty seat
    (a contestant moved to a spare seat is the reason to confirm)."""
    if station.occupied or confirmed:
        return
    if session.get(StationSession, station.id) is not None:
        raise StationNotDrawn(N_("Nobody drew station %(station)s in the station draw, though "
                                 "a workstation is signed in on it (a contestant moved to a "
                                 "spare seat?). Take this hand-in for %(station)s anyway?"),
                              station=station.code)
    raise StationNotDrawn(N_("Nobody drew station %(station)s and no workstation is signed in "
                             "on it: it is not in use. Take this hand-in for %(station)s "
                             "anyway?"), station=station.code)


# A partial file names the server process writing it: several servers may share one archive
# folder (issue 8), and one starting up must not remove another's upload in progress.
_OWNER = f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"
ORPHAN_AFTER = timedelta(days=1)


def _process_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # no cheap check here; the age rule below applies instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_partials(archives: Path) -> int:
    """At start: what a crashed upload left was never acknowledged; remove it. A partial of a
    live process on this host, or of another host within a day, is an upload in progress."""
    removed = 0
    if not archives.is_dir():
        return removed
    host = _OWNER.rsplit("-", 1)[0]
    now = datetime.now(UTC).timestamp()
    for leftover in archives.glob("*" + PARTIAL_SUFFIX):
        owner = leftover.name[:-len(PARTIAL_SUFFIX)].rsplit(".", 1)[-1]
        owner_host, _, pid = owner.rpartition("-")
        old = now - leftover.stat().st_mtime > ORPHAN_AFTER.total_seconds()
        if not pid.isdigit():
            orphan = True  # not named by any server process
        elif owner_host == host:
            orphan = int(pid) != os.getpid() and (not _process_alive(int(pid)) or old)
        else:
            orphan = old
        if orphan:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


# ----------------------------------------------------------------------------- receipts

# KR3 names the session (场次) after the part, in an event of several sessions: a station's
# code is the hall's seat, the same in every session, so a receipt of one session says which.
# KR2 (one session) names the part after the receipt number; KR1 (before parts) was always the
# practical.
RECEIPT_MAGIC = b"KR2"
RECEIPT_MAGIC_V3 = b"KR3"
RECEIPT_MAGIC_V1 = b"KR1"


@dataclass(frozen=True)
class Receipt:
    receipt_no: str
    station: str
    received_at: datetime
    size: int
    sha256: str
    part: str = DEFAULT_PART
    session: str = ""  # the session's code; "" in an event of one session


def session_of(hand_in: HandIn) -> ExamSession | None:
    """The session (场次) a hand-in belongs to: its station's (None for a row not in a
    database session)."""
    database = object_session(hand_in)
    if database is None:
        return None
    with scope.event_wide(database):
        station = database.get(Station, hand_in.station_id)
        return database.get(ExamSession, station.exam_session_id) if station else None


def receipt_payload(hand_in: HandIn, station_code: str, key: Ed25519PrivateKey,
                    session_code: str | None = None) -> str:
    """Base32 of a binary record and its Ed25519 signature: upper-case letters and digits only,
    so it fits a QR code in alphanumeric mode that any scanner reads. `session_code`: the
    hand-in's session, by default its station's ("" in an event of one session: KR2)."""
    if session_code is None:
        found = session_of(hand_in)
        session_code = found.code if found is not None else ""
    station = station_code.encode("ascii")
    number = hand_in.receipt_no.encode("ascii")
    part = (hand_in.part or DEFAULT_PART).encode("ascii")  # a key: letters, digits, - and _
    millis = int(hand_in.received_at.timestamp() * 1000)
    named = bytes([len(part)]) + part
    magic = RECEIPT_MAGIC
    if session_code:
        code = session_code.encode("ascii")  # a session's code: letters, digits, - and _
        named += bytes([len(code)]) + code
        magic = RECEIPT_MAGIC_V3
    record = (magic + bytes([len(station)]) + station + bytes([len(number)]) + number
              + named + struct.pack(">QQ", millis, hand_in.size) + bytes.fromhex(hand_in.sha256))
    return base64.b32encode(record + key.sign(record)).decode("ascii").rstrip("=")


def verify_receipt(payload: str, public_key: Ed25519PublicKey) -> Receipt:
    text = "".join(payload.split()).upper()
    try:
        blob = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError) as exc:
        raise KioskError(N_("This is not a receipt code.")) from exc
    record, signature = blob[:-64], blob[-64:]
    if len(blob) < 64 + 3 + 2 + 16 + 32 or \
            record[:3] not in (RECEIPT_MAGIC, RECEIPT_MAGIC_V1, RECEIPT_MAGIC_V3):
        raise KioskError(N_("This is not a receipt code."))
    try:
        public_key.verify(signature, record)
    except InvalidSignature as exc:
        raise KioskError(N_("The receipt is NOT genuine: its signature does not match this "
                            "server's key.")) from exc
    at = 3
    station_len = record[at]
    station = record[at + 1:at + 1 + station_len].decode("ascii")
    at += 1 + station_len
    number_len = record[at]
    number = record[at + 1:at + 1 + number_len].decode("ascii")
    at += 1 + number_len
    part, session_code = DEFAULT_PART, ""
    if record[:3] in (RECEIPT_MAGIC, RECEIPT_MAGIC_V3):
        part_len = record[at]
        part = record[at + 1:at + 1 + part_len].decode("ascii")
        at += 1 + part_len
    if record[:3] == RECEIPT_MAGIC_V3:
        code_len = record[at]
        session_code = record[at + 1:at + 1 + code_len].decode("ascii")
        at += 1 + code_len
    millis, size = struct.unpack(">QQ", record[at:at + 16])
    sha = record[at + 16:at + 48].hex()
    return Receipt(number, station, datetime.fromtimestamp(millis / 1000, UTC), size, sha, part,
                   session_code)


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()[:32].upper()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def hand_ins_for(session: Session, station_id: int, part: str | None = None) -> list[HandIn]:
    """A station's hand-ins, in one part or in all, by part and version (oldest first)."""
    query = select(HandIn).where(HandIn.station_id == station_id)
    if part is not None:
        query = query.where(HandIn.part == part)
    return list(session.scalars(query.order_by(HandIn.part, HandIn.version)))


def judged(hand_ins: Sequence[HandIn]) -> HandIn | None:
    """The version judged among a station's hand-ins in one part (oldest first): the last one
    received before its deadline in that part; a late one (taken at the desk after it) is kept
    but never judged."""
    return next((h for h in reversed(hand_ins) if not h.late), None)


def judged_by_part(hand_ins: Sequence[HandIn]) -> dict[str, HandIn]:
    """The version judged in each part among a station's hand-ins: each part its own."""
    by_part: dict[str, list[HandIn]] = {}
    for hand_in in sorted(hand_ins, key=lambda h: (h.part, h.version)):
        by_part.setdefault(hand_in.part, []).append(hand_in)
    return {part: found for part, rows in by_part.items()
            if (found := judged(rows)) is not None}


def hand_in_counts(session: Session, part_key: str) -> dict[int, tuple[int, datetime]]:
    """For one part, by station id: how many hand-ins and when the last arrived (a station
    with none is absent). For the field dashboard's "no hand-in yet" of that part."""
    # Through the station: its session's hand-ins only (HandIn itself carries no session).
    rows = session.execute(select(HandIn.station_id, func.count(), func.max(HandIn.received_at))
                           .join(Station, Station.id == HandIn.station_id)
                           .where(HandIn.part == part_key).group_by(HandIn.station_id))
    return {station_id: (count, last) for station_id, count, last in rows}


def get_for_station(session: Session, receipt_no: str, station_id: int) -> HandIn:
    """A station sees its own receipts only; anything else is simply not found."""
    hand_in = session.scalar(select(HandIn).where(HandIn.receipt_no == receipt_no,
                                                  HandIn.station_id == station_id))
    if hand_in is None:
        raise NotFound(N_("No such receipt for this station."))
    return hand_in


def _in_use():
    """A station from which a hand-in is expected: drawn (occupied), or signed in on a
    workstation (a contestant moved to a spare seat)."""
    return Station.occupied.is_(True) | Station.id.in_(select(StationSession.station_id))


def stations_in_use(session: Session) -> list[str]:
    return list(session.scalars(select(Station.code).where(_in_use()).order_by(Station.code)))


def stations_without_hand_in(session: Session, part: str | None = None) -> list[str]:
    """Stations in use that have handed in nothing (in `part`, or at all), live and at the
    end."""
    handed_in = select(HandIn.station_id)
    if part is not None:
        handed_in = handed_in.where(HandIn.part == part)
    return list(session.scalars(select(Station.code).where(
        Station.id.not_in(handed_in), _in_use()).order_by(Station.code)))


def size_text(size: int) -> str:
    """A file's size as the kiosk shows it (static/js/handin.js and exam.js): MB with one
    decimal from 1 MiB, else whole KB rounded up, so the desk and the workstation agree."""
    if size >= 1048576:
        return f"{size / 1048576:.1f} MB"
    return f"{-(-size // 1024)} KB"


def hand_in_by_receipt(session: Session, receipt_no: str) -> tuple[HandIn, str] | None:
    return session.execute(select(HandIn, Station.code).join(
        Station, Station.id == HandIn.station_id).where(HandIn.receipt_no == receipt_no)).first()


def recent_hand_ins(session: Session, limit: int = 50) -> list[tuple[HandIn, str]]:
    return list(session.execute(select(HandIn, Station.code).join(
        Station, Station.id == HandIn.station_id).order_by(HandIn.id.desc()).limit(limit)))
