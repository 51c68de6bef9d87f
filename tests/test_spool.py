"""The encrypted spool under waitress's request buffers (issue 14, item 7)."""

import io
import os
import random

from kiosk.http import (
    BODY_MEMORY_BUDGET,
    BodyMemoryBudget,
    EncryptedOverflowableBuffer,
    EncryptedSpoolFile,
)


def test_the_spool_reads_back_what_was_written_at_every_offset():
    rng = random.Random(7)
    plain = bytearray()
    with EncryptedSpoolFile() as spool:
        for _ in range(200):
            chunk = rng.randbytes(rng.randint(1, 5000))
            spool.seek(0, io.SEEK_END)
            spool.write(chunk)
            plain += chunk
        for _ in range(200):
            start = rng.randint(0, len(plain))
            size = rng.randint(0, 9000)
            spool.seek(start)
            assert spool.read(size) == plain[start:start + size]
            assert spool.tell() == min(len(plain), start + size)


def test_the_spool_file_holds_ciphertext_only():
    marker = b"plaintext marker " * 1000
    with EncryptedSpoolFile() as spool:
        spool.write(marker)
        raw = os.pread(spool._file.fileno(), len(marker), 0)
        assert len(raw) == len(marker) and b"plaintext marker" not in raw


def test_a_body_overflows_from_memory_into_the_encrypted_spool():
    buffer = EncryptedOverflowableBuffer(64 * 1024)
    body = os.urandom(300 * 1024)
    for start in range(0, len(body), 10_000):
        buffer.append(body[start:start + 10_000])
    assert buffer.overflowed
    stream = buffer.getfile()
    assert isinstance(stream, EncryptedSpoolFile)
    assert stream.read() == body
    buffer.close()
    assert stream.closed


class _Limits:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def for_request(self, method: str, path: str) -> int:
        return self.limit


def _parse(limit: int, body: bytes, memory: BodyMemoryBudget | None = None):
    from waitress.adjustments import Adjustments

    from kiosk.http import KioskRequestParser
    from kiosk.serve import INBUF_OVERFLOW

    parser = KioskRequestParser(Adjustments(inbuf_overflow=INBUF_OVERFLOW), _Limits(limit),
                                memory or BodyMemoryBudget(BODY_MEMORY_BUDGET))
    data = (b"PUT /piece HTTP/1.1\r\nHost: kiosk\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body)
    while data and not parser.completed:
        data = data[parser.received(data[:256 * 1024]):]
    return parser


def test_a_resumable_piece_stays_in_memory_and_a_hand_in_spools_encrypted():
    from kiosk.web import PIECE_BODY_LIMIT, MiB

    piece = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT))
    assert piece.completed and piece.refused is None
    assert not piece.body_rcv.getbuf().overflowed  # never on disk at all
    hand_in = _parse(2048 * MiB, os.urandom(3 * MiB))
    assert hand_in.body_rcv.getbuf().overflowed
    assert isinstance(hand_in.get_body_stream(), EncryptedSpoolFile)
    over = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT + 1))
    assert over.refused == "kiosk.body_refused" and over.body_rcv is None
    for parser in (piece, hand_in, over):
        parser.close()


def test_bodies_in_memory_stay_within_one_budget_for_all_connections():
    from kiosk.web import PIECE_BODY_LIMIT

    memory = BodyMemoryBudget(int(1.5 * PIECE_BODY_LIMIT))
    first = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT), memory)
    second = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT), memory)
    assert not first.body_rcv.getbuf().overflowed
    assert second.body_rcv.getbuf().overflowed  # over the budget: spooled, encrypted
    assert isinstance(second.get_body_stream(), EncryptedSpoolFile)
    first.close()
    second.close()
    assert memory.reserved == 0
    third = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT), memory)
    assert not third.body_rcv.getbuf().overflowed
    third.close()
    refused = _parse(PIECE_BODY_LIMIT, os.urandom(PIECE_BODY_LIMIT + 1), memory)
    assert refused.refused and memory.reserved == 0
