"""The encrypted spool under waitress's request buffers (issue 14, item 7)."""

import io
import os
import random

from kiosk.http import EncryptedOverflowableBuffer, EncryptedSpoolFile


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
