"""Request glue shared by the kiosk's and the desk's resumable hand-in routes."""

from __future__ import annotations

import re
import threading
from datetime import datetime

from flask import request
from sqlalchemy.orm import Session

from kiosk.collect import hand_ins as collect
from kiosk.collect import parts
from kiosk.collect.resumable import PIECE_BYTES, OpenUpload
from kiosk.config import Settings
from kiosk.errors import N_, Conflict, KioskError
from kiosk.i18n import DEFAULT_LOCALE, locale_gettext
from kiosk.stations.timetable import Part


def query_count(name: str) -> int:
    """A non-negative integer from the query string, written as digits only."""
    text = request.args.get(name, "")
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise KioskError(N_("Send ?%(name)s=<number of bytes>."), name=name)
    return int(text)


def read_piece() -> memoryview:
    """The piece in hand, the only plaintext the server holds for an upload: read once, with
    `readinto`, from waitress's buffer into its own."""
    if (request.content_length or 0) > PIECE_BYTES:
        raise collect.TooLarge(N_("A piece is at most %(n)s bytes."), n=PIECE_BYTES)
    # Never ask past the length given: under waitress the stream is capped at the route's
    # declared limit (exactly one piece), and a read beyond the cap is itself a 413.
    length = request.content_length
    buffer = _piece_buffer()[:length if length is not None else PIECE_BYTES]
    return buffer[:collect.read_into(request.stream, buffer)]


_buffers = threading.local()


def _piece_buffer() -> memoryview:
    """This worker thread's buffer for a piece, reused: a new 2 MiB bytearray per piece costs
    its zeroing and the page faults every time. A piece is fed (hashed, encrypted, written)
    before its request ends, so the next one on this thread may overwrite it; at most one
    piece per worker thread is held this way."""
    buffer = getattr(_buffers, "piece", None)
    if buffer is None:
        buffer = _buffers.piece = memoryview(bytearray(PIECE_BYTES))
    return buffer


def requested_part(session: Session, settings: Settings, now: datetime,
                   form_token: str | None = None) -> Part:
    """The part a hand-in is for: `?part=KEY`, or the part a desk form was drawn for, else the
    practical part under way (`parts.for_hand_in`)."""
    key = request.args.get("part", "").strip() or None
    drawn_for = collect.form_part(form_token)
    if key and drawn_for and key != drawn_for:
        raise Conflict(N_("This form is for %(form)s, not %(part)s; reload the page."),
                       form=drawn_for, part=key)
    return parts.for_hand_in(session, settings, key or drawn_for, now)


def slip_part_name(session: Session, key: str) -> str:
    """A part's name as the slips and the seal record print it (they are in Chinese)."""
    return locale_gettext(DEFAULT_LOCALE, parts.name_of(session, key))


def upload_body(upload: OpenUpload) -> dict:
    return {"upload_id": upload.upload_id, "offset": upload.offset, "size": upload.size,
            "piece_bytes": PIECE_BYTES, "part": upload.part}
