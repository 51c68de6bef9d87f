"""The hand-ins' own age encryption (kiosk.crypto.AgeEncryptor): plain age v1 that `age -d`,
rage and pyrage open, fed in any sizes, with the last chunk marked wherever the file ends."""

import os
import shutil
import subprocess

import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.crypto import AGE_CHUNK, AgeEncryptor, bech32_decode, recipient_key

SIZES = [0, 1, AGE_CHUNK - 1, AGE_CHUNK, AGE_CHUNK + 1, 2 * AGE_CHUNK, 16 * AGE_CHUNK,
         16 * AGE_CHUNK + 1, 33 * AGE_CHUNK + 17]


def encrypted(data: bytes, recipients, feeds=None) -> bytes:
    out = bytearray()
    age = AgeEncryptor(recipients, out.extend)
    position = 0
    for size in feeds or []:
        age.update(data[position:position + size])
        position += size
    age.update(data[position:])
    age.finish()
    return bytes(out)


@pytest.mark.parametrize("size", SIZES)
def test_pyrage_decrypts_the_stream_whatever_the_pieces(size):
    identity = pyrage.x25519.Identity.generate()
    data = os.urandom(size)
    for feeds in ([], [1, AGE_CHUNK - 1, 7], [AGE_CHUNK] * 40, [3 * AGE_CHUNK + 5] * 3):
        stored = encrypted(data, [identity.to_public()], feeds)
        assert pyrage.decrypt(stored, [identity]) == data


def test_every_recipient_decrypts_and_a_stranger_cannot():
    first, second = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    stored = encrypted(b"work" * 5000, [first.to_public(), str(second.to_public())])
    assert pyrage.decrypt(stored, [first]) == pyrage.decrypt(stored, [second]) == b"work" * 5000
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(stored, [pyrage.x25519.Identity.generate()])


def test_a_cut_or_altered_stream_does_not_decrypt():
    identity = pyrage.x25519.Identity.generate()
    stored = encrypted(os.urandom(3 * AGE_CHUNK), [identity.to_public()])
    with pytest.raises(pyrage.DecryptError):  # the last chunk is gone: truncation is detected
        pyrage.decrypt(stored[:-(AGE_CHUNK + 16)], [identity])
    altered = bytearray(stored)
    altered[-100] ^= 1
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(bytes(altered), [identity])


@pytest.mark.skipif(shutil.which("age") is None, reason="the age command is not installed")
def test_the_age_command_decrypts_it(tmp_path):
    identity = pyrage.x25519.Identity.generate()
    data = os.urandom(2 * AGE_CHUNK + 3)
    (tmp_path / "key.txt").write_text(f"{identity}\n")
    (tmp_path / "work.age").write_bytes(encrypted(data, [identity.to_public()]))
    opened = subprocess.run(["age", "-d", "-i", str(tmp_path / "key.txt"),
                             str(tmp_path / "work.age")], capture_output=True, check=True)
    assert opened.stdout == data


def test_a_recipient_is_read_from_its_bech32_text():
    identity = pyrage.x25519.Identity.generate()
    secret = bech32_decode(str(identity), "age-secret-key-")
    public = X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()
    assert recipient_key(identity.to_public()) == public
    text = str(identity.to_public())
    damaged = text[:-1] + ("q" if text[-1] != "q" else "p")
    with pytest.raises(ValueError):
        recipient_key(damaged)
    with pytest.raises(ValueError):
        AgeEncryptor([], lambda view: None)
