"""Keys of the event: age for judges (draw records, archives) and Ed25519 for signed receipts.

Judges make their age identity on their own machines (`kiosk judge-key new`, or the standard
`age-keygen`) and register only the public recipient; the server can encrypt to them but can never
decrypt. The server's own Ed25519 key signs receipts and the export manifest, so that anyone with
the public key can check them offline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path

import pyrage
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.errors import N_, KioskError

SIGNING_KEY_FILE = "receipt_signing_key.pem"
SIGNING_PUB_FILE = "receipt_signing_key.pub"


def new_age_identity() -> tuple[str, str]:
    """(identity text as `age-keygen` writes it, public recipient `age1…`)."""
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    text = f"# public key: {recipient}\n{identity}\n"
    return text, recipient


def parse_recipient(text: str) -> pyrage.x25519.Recipient:
    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except Exception as exc:  # pyrage raises its own RecipientError or ValueError
        raise KioskError(N_("Not an age public key (age1…): %(text)s"),
                         text=text.strip()[:80]) from exc


def parse_identities(text: str, source: str = "") -> list[pyrage.x25519.Identity]:
    """The AGE-SECRET-KEY lines of an age identity file (comments and blank lines skipped)."""
    identities = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
            except pyrage.IdentityError as exc:
                raise KioskError(N_("%(path)s: an AGE-SECRET-KEY line is damaged"),
                                 path=source or "—") from exc
    if not identities:
        raise KioskError(N_("%(path)s: no AGE-SECRET-KEY identity found"), path=source or "—")
    return identities


def read_identity_file(path: Path) -> list[pyrage.x25519.Identity]:
    return parse_identities(path.read_text(encoding="utf-8"), str(path))


def write_private_file(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only; refuse to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def create_signing_key(keys_dir: Path) -> None:
    key = Ed25519PrivateKey.generate()
    write_private_file(keys_dir / SIGNING_KEY_FILE, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (keys_dir / SIGNING_PUB_FILE).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def load_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key((keys_dir / SIGNING_KEY_FILE).read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def load_verify_key(keys_dir: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key((keys_dir / SIGNING_PUB_FILE).read_bytes())
    assert isinstance(key, Ed25519PublicKey)
    return key


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ----------------------------------------------------------------------------- age, streamed

# The age v1 format (https://age-encryption.org/v1), written here for the hand-ins' stream:
# pyrage holds the interpreter lock for all of its encryption (it never releases it, and its
# encrypt_io calls back into Python every 8 KiB), so a hand-in being encrypted stalled every other
# thread of the server; cryptography's ChaCha20-Poly1305 releases it for each chunk. The output is
# plain age: `age -d`, rage and pyrage.decrypt read it (tests/collect/test_age_stream.py).
AGE_CHUNK = 64 * 1024
AGE_TAG = 16
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def bech32_decode(text: str, hrp: str) -> bytes:
    """The bytes of a Bech32 string (BIP 173) with this human-readable part, checksum checked."""
    lowered = text.strip().lower()
    found, sep, data = lowered.rpartition("1")
    if not sep or found != hrp or len(data) < 6 or any(c not in _BECH32 for c in data):
        raise ValueError("not a Bech32 string of " + hrp)
    values = [_BECH32.index(c) for c in data]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    if _bech32_polymod(expanded + values) != 1:
        raise ValueError("Bech32 checksum mismatch")
    acc, bits, out = 0, 0, bytearray()
    for value in values[:-6]:
        acc = (acc << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or acc & ((1 << bits) - 1):
        raise ValueError("Bech32 padding is not zero")
    return bytes(out)


def recipient_key(recipient) -> bytes:
    """The X25519 public key (32 bytes) of an age recipient, `age1…` or pyrage's."""
    key = bech32_decode(str(recipient), "age")
    if len(key) != 32:
        raise ValueError("an age X25519 recipient holds 32 bytes")
    return key


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def age_header(file_key: bytes, recipients: list) -> bytes:
    """The header of an age v1 file whose file key is wrapped for each X25519 recipient."""
    lines = [b"age-encryption.org/v1\n"]
    for recipient in recipients:
        public = recipient_key(recipient)
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
        if not any(shared):  # a low-order point: age refuses it too
            raise ValueError("an age recipient of low order")
        wrap = _hkdf(shared, share + public, b"age-encryption.org/v1/X25519")
        body = _b64(ChaCha20Poly1305(wrap).encrypt(bytes(12), file_key, None))
        lines.append(b"-> X25519 " + _b64(share) + b"\n")
        lines += [body[i:i + 64] + b"\n" for i in range(0, len(body), 64)]
        if len(body) % 64 == 0:
            lines.append(b"\n")  # the last line of a stanza is always shorter than 64
    header = b"".join(lines) + b"---"
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest()
    return header + b" " + _b64(mac) + b"\n"


class AgeEncryptor:
    """An age v1 stream to X25519 recipients, fed in any sizes, its ciphertext handed to `write`
    (a memoryview valid only during the call) 16 chunks (1 MiB) at a time.

    Each 64 KiB chunk is one ChaCha20-Poly1305 call, encrypted into a buffer reused for the whole
    stream (no new bytes per chunk), with the interpreter lock released. The last chunk is marked
    as the last, so up to one chunk is held back until more data or `finish` comes."""

    BATCH = 16

    def __init__(self, recipients: list, write: Callable[[memoryview], object]) -> None:
        if not recipients:
            raise ValueError("age needs at least one recipient")
        file_key = os.urandom(16)
        nonce = os.urandom(16)
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
        self._write = write
        self._counter = 0
        self._held = bytearray(AGE_CHUNK)  # plaintext not yet encrypted: at most one chunk
        self._held_len = 0
        self._out = bytearray(self.BATCH * (AGE_CHUNK + AGE_TAG))
        self._out_len = 0
        self.finished = False
        write(memoryview(age_header(file_key, recipients) + nonce))

    def _seal(self, chunk, last: bool) -> None:
        nonce = self._counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        self._counter += 1
        end = self._out_len + len(chunk) + AGE_TAG
        self._aead.encrypt_into(nonce, chunk, None, memoryview(self._out)[self._out_len:end])
        self._out_len = end
        if last or self._out_len + AGE_CHUNK + AGE_TAG > len(self._out):
            self._flush()

    def _flush(self) -> None:
        if self._out_len:
            self._write(memoryview(self._out)[:self._out_len])
            self._out_len = 0

    def update(self, data) -> None:
        view = memoryview(data).cast("B")
        held = memoryview(self._held)
        if self._held_len:
            take = min(AGE_CHUNK - self._held_len, len(view))
            held[self._held_len:self._held_len + take] = view[:take]
            self._held_len += take
            view = view[take:]
            if not view:
                return  # the held chunk may be the last: wait for more
            self._seal(held, last=False)  # full, and more follows
            self._held_len = 0
        while len(view) > AGE_CHUNK:  # strictly: the last full chunk may be the last one
            self._seal(view[:AGE_CHUNK], last=False)
            view = view[AGE_CHUNK:]
        held[:len(view)] = view
        self._held_len = len(view)
        self._flush()

    def finish(self) -> None:
        """The last chunk (empty only for an empty file), marked as the last."""
        self._seal(memoryview(self._held)[:self._held_len], last=True)
        self._held_len = 0
        self.finished = True
