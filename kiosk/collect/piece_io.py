"""Request glue shared by the kiosk's and the desk's resumable hand-in routes."""

from __future__ import annotations

import re

from flask import request

from kiosk.collect import hand_ins as collect
from kiosk.collect.resumable import PIECE_BYTES, OpenUpload
from kiosk.errors import N_, KioskError


def query_count(name: str) -> int:
    """A non-negative integer from the query string, written as digits only."""
    text = request.args.get(name, "")
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise KioskError(N_("Send ?%(name)s=<number of bytes>."), name=name)
    return int(text)


def read_piece() -> bytes:
    """The piece in hand, the only plaintext the server holds for an upload."""
    if (request.content_length or 0) > PIECE_BYTES:
        raise collect.TooLarge(N_("A piece is at most %(n)s bytes."), n=PIECE_BYTES)
    # Never ask past the length given: under waitress the stream is capped at the route's
    # declared limit (exactly one piece), and a read beyond the cap is itself a 413.
    length = request.content_length
    piece = collect.read_up_to(request.stream, length if length is not None else PIECE_BYTES)
    if len(piece) > PIECE_BYTES:
        raise collect.TooLarge(N_("A piece is at most %(n)s bytes."), n=PIECE_BYTES)
    return piece


def upload_body(upload: OpenUpload) -> dict:
    return {"upload_id": upload.upload_id, "offset": upload.offset, "size": upload.size,
            "piece_bytes": PIECE_BYTES}
