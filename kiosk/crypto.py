"""Keys of the event: age for judges (draw records, archives) and Ed25519 for signed receipts.

Judges make their age identity on their own machines (`kiosk judge-key new`, or the standard
`age-keygen`) and register only the public recipient; the server can encrypt to them but can never
decrypt. The server's own Ed25519 key signs receipts and the export manifest, so that anyone with
the public key can check them offline.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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
