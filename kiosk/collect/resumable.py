"""Resumable hand-ins: a file sent in pieces of at most 1984 KiB into one open age stream.

Waitress reads a whole request before the application sees it, so a large body would sit in
the server's memory or temp folder. In pieces, no request is larger than what stays in memory,
and an interrupted hand-in resumes where it stopped: the kiosk asks the server's offset and
sends from there. The pieces go, in order, into the same pipeline as the one-request upload
(`hand_ins.ArchiveStream`): the window and the size are checked when the upload opens
(`hand_ins.open_hand_in`), the row is committed when the last piece arrives
(`hand_ins.commit_hand_in`, which asks the window again at that time, with the same grace).

An upload lives in this server's memory only: its age stream cannot outlive the process. A
server restarted mid-upload has removed the `.partial` at start and answers 404 for the unknown
upload; the kiosk then starts again from zero.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.collect import hand_ins
from kiosk.collect.models import HandIn
from kiosk.collect.parts import DEFAULT_PART
from kiosk.errors import N_, Conflict, KioskError, NotFound

# 31 age chunks of 64 KiB: the largest piece that, with its headers, stays within waitress's
# inbuf_overflow (2 MiB, kiosk.serve), so it is kept in memory. Each piece is a request (session,
# routing, a turn for encryption): 1 MiB pieces cost 0.76 of sha256sum's speed, these 1.04
# (bench/upload_ingest.py).
PIECE_BYTES = 31 * 64 * 1024
# Without a piece for this long an upload is dropped (its thread, memory and partial file);
# a finished one is remembered as long, so a kiosk that lost the final answer still gets it.
IDLE_EXPIRY = timedelta(minutes=10)


class OffsetMismatch(Conflict):
    """A piece beyond what the server has: the answer carries the server's offset."""

    code = "offset_mismatch"


@dataclass
class OpenUpload:
    upload_id: str
    owner: str  # "station:<id>" for the kiosk, "desk:<id>" for the collection desk
    station_id: int
    station_code: str
    filename: str
    size: int
    via: str
    stream: hand_ins.ArchiveStream
    part: str = DEFAULT_PART  # decided when the upload opens: its window, its versions
    offset: int = 0
    hand_in: HandIn | None = None  # set when the last piece was committed
    form_token: str | None = None  # the desk form that opened it: sent again, the same upload
    touched: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class PieceResult:
    offset: int
    hand_in: HandIn | None  # the committed hand-in once the last piece is in


class Uploads:
    """The uploads this server process holds for one archive folder."""

    def __init__(self, idle: timedelta = IDLE_EXPIRY) -> None:
        self.idle = idle
        self._lock = threading.Lock()
        self._by_id: dict[str, OpenUpload] = {}

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for u in self._by_id.values() if u.hand_in is None)

    def add(self, upload: OpenUpload) -> OpenUpload:
        """One open upload per owner: a newer one abandons the older (its partial goes). The
        same desk form opened again keeps its upload: the new one is dropped. Returns the
        upload that stays."""
        with self._lock:
            same = self._with_form(upload.owner, upload.form_token)
            if same is None:
                replaced = [u for u in self._by_id.values()
                            if u.owner == upload.owner and u.hand_in is None]
                for old in replaced:
                    del self._by_id[old.upload_id]
                self._by_id[upload.upload_id] = upload
        if same is not None:
            upload.stream.abandon()
            return same
        for old in replaced:
            old.stream.abandon()
        self.prune()
        return upload

    def _with_form(self, owner: str, form_token: str | None) -> OpenUpload | None:
        if form_token is None:
            return None
        return next((u for u in self._by_id.values()
                     if u.owner == owner and u.form_token == form_token), None)

    def get(self, upload_id: str, owner: str) -> OpenUpload:
        """Another owner's upload is not found, exactly like one that never existed."""
        with self._lock:
            upload = self._by_id.get(upload_id)
        if upload is None or upload.owner != owner:
            raise NotFound(N_("No such upload on this server; send the file again from the "
                              "start."))
        if upload.hand_in is None and not upload.stream.alive:
            self.drop(upload)
            raise hand_ins.UploadExpired(N_("The upload waited too long for its next piece "
                                           "and was dropped; send the file again."))
        return upload

    def find_form(self, owner: str, form_token: str) -> OpenUpload | None:
        with self._lock:
            return self._with_form(owner, form_token)

    def drop(self, upload: OpenUpload) -> None:
        with self._lock:
            self._by_id.pop(upload.upload_id, None)
        if upload.hand_in is None:
            upload.stream.abandon()

    def prune(self) -> None:
        """Forget what expired (the worker of an idle stream has already removed its file)."""
        cutoff = time.monotonic() - self.idle.total_seconds()
        with self._lock:
            expired = [u for u in self._by_id.values()
                       if u.touched < cutoff or (u.hand_in is None and not u.stream.alive)]
            for upload in expired:
                del self._by_id[upload.upload_id]
        for upload in expired:
            if upload.hand_in is None:
                upload.stream.abandon()


_registries: dict[Path, Uploads] = {}
_registries_lock = threading.Lock()


def uploads_for(archives: Path) -> Uploads:
    """This process's uploads into `archives` (one registry per instance folder)."""
    found = _registries.get(archives)  # asked for every piece: the folder as given, first
    if found is not None:
        return found
    with _registries_lock:
        found = _registries.setdefault(archives.resolve(), Uploads())
        _registries[archives] = found
        return found


def open_upload(session: Session, uploads: Uploads, *, archives: Path, owner: str,
                station_id: int, station_code: str, filename: str, size: int, limit: int,
                now: datetime, grace: timedelta, via: str = "kiosk",
                form_token: str | None = None, part: str = DEFAULT_PART) -> OpenUpload:
    """Refused now if the hand-in for `part` would be refused (size, window, key); else the
    stream opens and a previous open upload of the same owner is abandoned. A desk form opened
    again (`form_token`) gets its upload back, with the offset the server has."""
    if form_token is not None:
        same = uploads.find_form(owner, form_token)
        if same is not None:
            if same.part != part:
                raise Conflict(N_("This form is already sending a hand-in for another part; "
                                  "reload the page for a new hand-in."))
            return same
    recipients = hand_ins.open_hand_in(session, station_id=station_id, size=size, limit=limit,
                                      now=now, grace=grace, via=via, part=part)
    stream = hand_ins.ArchiveStream(archives, recipients, idle=uploads.idle)
    upload = OpenUpload(upload_id=secrets.token_urlsafe(18), owner=owner, station_id=station_id,
                        station_code=station_code, filename=filename, size=size, via=via,
                        stream=stream, part=part, form_token=form_token)
    return uploads.add(upload)


def feed_piece(session: Session, uploads: Uploads, upload_id: str, *, owner: str, offset: int,
               piece: bytes, now: datetime, grace: timedelta, collected_by: str | None = None,
               actor: audit.Actor) -> PieceResult:
    """One piece at `offset`. Bytes the server already has are acknowledged, never applied
    twice; a gap is refused with the server's offset. The piece that completes the file
    finishes the stream and commits the hand-in; `now` is when that piece arrived, the
    receipt's time. Any failure but a gap drops the upload and its partial file."""
    upload = uploads.get(upload_id, owner)
    if len(piece) > PIECE_BYTES:
        raise hand_ins.TooLarge(N_("A piece is at most %(n)s bytes."), n=PIECE_BYTES)
    if not piece:
        raise KioskError(N_("A piece must hold at least one byte."))
    with upload.lock:
        if upload.hand_in is not None:
            if offset + len(piece) > upload.size:
                raise KioskError(N_("The piece goes past the size declared for the upload."))
            return PieceResult(upload.size, upload.hand_in)  # the final answer, again
        if offset > upload.offset:
            raise OffsetMismatch(N_("The server has the file up to byte %(offset)s; send "
                                    "from there."), offset=upload.offset)
        if offset + len(piece) > upload.size:
            raise KioskError(N_("The piece goes past the size declared for the upload."))
        new = piece[upload.offset - offset:]
        if not new:
            return PieceResult(upload.offset, None)
        try:
            with hand_ins.ingest_slot():
                upload.stream.feed(new)
            upload.offset += len(new)
            upload.touched = time.monotonic()
            if upload.offset < upload.size:
                return PieceResult(upload.offset, None)
            upload.stream.finish()
            upload.hand_in = hand_ins.commit_hand_in(
                session, upload.stream, station_id=upload.station_id,
                station_code=upload.station_code, filename=upload.filename, received_at=now,
                grace=grace, via=upload.via, collected_by=collected_by, actor=actor,
                form_token=upload.form_token, part=upload.part)
        except BaseException:
            uploads.drop(upload)
            raise
        return PieceResult(upload.offset, upload.hand_in)


def upload_state(uploads: Uploads, upload_id: str, *, owner: str) -> OpenUpload:
    return uploads.get(upload_id, owner)


def abandon_upload(uploads: Uploads, upload_id: str, *, owner: str) -> None:
    uploads.drop(uploads.get(upload_id, owner))
