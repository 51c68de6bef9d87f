"""Signed audit checkpoints: the head of the audit chain, signed with the instance's Ed25519 key.

The hash chain alone has no key, and its head lives in the database: whoever can write the
database can cut the tail and rewind the head, or change an event and recompute every later
hash, and the chain still verifies. A checkpoint printed on paper (every record kiosk prints
carries one) keeps the state of the log at that moment outside the database; the signature
proves the paper came from this server, so a rewritten log cannot be excused as a fake sheet.
The format is in docs/audit-checkpoints.md; deploy/verify_audit_checkpoint.py checks one offline.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.clock import iso, local_display
from kiosk.clock import now as clock_now
from kiosk.crypto import load_signing_key, load_verify_key
from kiosk.errors import N_, KioskError
from kiosk.models import AuditHead
from kiosk.pdf import build_document, hex_groups, para, signature_block

if TYPE_CHECKING:
    from kiosk.instance import Instance

VERSION = "KAC1"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
# Upper-case letters, digits and dots only: the QR code's alphanumeric mode (5.5 bits a
# character), which every scanner reads and a USB scanner types as it is.
TEXT_PATTERN = re.compile(
    r"KAC1\.(?P<seq>0|[1-9][0-9]{0,17})\.(?P<hash>[0-9A-F]{64})\.(?P<at>[0-9]{8}T[0-9]{6}Z)"
    r"\.(?P<signature>[A-Z2-7]{103})")


MISTYPED = N_("This audit checkpoint is incomplete or mistyped: "
              "KAC1.<event>.<64 hex digits>.<time>.<signature>.")


class CheckpointUnreadable(KioskError):
    code = "checkpoint_unreadable"
    status = 400


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str  # lower-case hex, as the log stores it
    at: datetime  # UTC, whole seconds: what the text can carry
    signature: bytes

    @property
    def signed_text(self) -> str:
        """What the key signs, as ASCII: the text up to (not including) its last dot."""
        return signed_text(self.seq, self.hash, self.at)

    @property
    def signature_text(self) -> str:
        return base64.b32encode(self.signature).decode("ascii").rstrip("=")

    @property
    def text(self) -> str:
        return f"{self.signed_text}.{self.signature_text}"

    def as_json(self) -> dict:
        return {"seq": self.seq, "hash": self.hash, "at": iso(self.at),
                "signature": self.signature_text, "text": self.text}


def signed_text(seq: int, hash_hex: str, at: datetime) -> str:
    return f"{VERSION}.{seq}.{hash_hex.upper()}.{at.astimezone(UTC).strftime(TIME_FORMAT)}"


def take_checkpoint(session: Session, key: Ed25519PrivateKey, now: datetime) -> Checkpoint:
    """Sign the chain's head as the database holds it now."""
    head = session.get(AuditHead, 1)
    seq, hash_hex = (head.last_seq, head.last_hash) if head else (0, audit.GENESIS_HASH)
    at = now.astimezone(UTC).replace(microsecond=0)
    return Checkpoint(seq, hash_hex, at, key.sign(signed_text(seq, hash_hex, at).encode("ascii")))


def checkpoint_for_print(instance: Instance) -> Checkpoint:
    """The checkpoint a paper record carries: the head as committed when it is printed."""
    with instance.session() as session:
        return take_checkpoint(session, load_signing_key(instance.keys_dir), clock_now())


def checkpoint_sheet_pdf(checkpoint: Checkpoint, *, event_name: str,
                         font_config: str = "") -> bytes:
    """审计检查点记录: a checkpoint on its own sheet, for the supervisor to sign and keep at a
    moment of their choosing (the end of a part, before a break), not only when a record is
    printed."""
    title = "审计检查点记录"

    def story(font, st):
        return [para(event_name, st.subtitle), para(title, st.title),
                para(f"审计日志最后一个事件：第 {checkpoint.seq} 号", st.body),
                para(f"该事件的哈希（SHA-256）：{hex_groups(checkpoint.hash)}", st.body),
                para(f"签发时间：{local_display(checkpoint.at)}（服务器签名，见页脚二维码）",
                     st.body),
                Spacer(1, 6 * mm),
                para("日后核对：在审计日志页面扫描页脚二维码，或运行 kiosk audit verify "
                     "--checkpoint <二维码文本>。审计日志必须仍含有此事件及此哈希，"
                     "且前后环环相扣。", st.small),
                Spacer(1, 8 * mm), signature_block(["监督人员签字", "裁判长签字"], font)]

    return build_document(story, title=title, checkpoint=checkpoint, font_config=font_config,
                          footer=f"{event_name} · {title} · 第 {checkpoint.seq} 号事件")


def parse_checkpoint(text: str) -> tuple[Checkpoint, str]:
    """The checkpoint in `text` (as typed or scanned: spaces, line ends and case forgiven) and
    the ASCII its signature covers. Raises CheckpointUnreadable; checks no signature."""
    cleaned = "".join(text.split()).upper()
    match = TEXT_PATTERN.fullmatch(cleaned)
    if match is None:
        if not cleaned.startswith(VERSION + "."):
            raise CheckpointUnreadable(N_("This is not an audit checkpoint (it should begin "
                                          "with KAC1.)."))
        raise CheckpointUnreadable(MISTYPED)
    signature = match["signature"]
    try:
        at = datetime.strptime(match["at"], TIME_FORMAT).replace(tzinfo=UTC)
        raw = base64.b32decode(signature + "=" * (-len(signature) % 8))
    except ValueError as exc:
        raise CheckpointUnreadable(MISTYPED) from exc
    checkpoint = Checkpoint(int(match["seq"]), match["hash"].lower(), at, raw)
    if checkpoint.signature_text != signature:
        # The last base32 character has spare bits: one text per signature, not eight.
        raise CheckpointUnreadable(MISTYPED)
    return checkpoint, cleaned.rsplit(".", 1)[0]


@dataclass(frozen=True)
class CheckpointReport:
    checkpoint: Checkpoint
    signature_ok: bool
    chain: audit.ChainReport | None  # None when the signature did not hold

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.chain is not None and self.chain.ok

    @property
    def reason(self) -> str:
        if not self.signature_ok:
            return N_("its signature does not match this server's key: the checkpoint was "
                      "forged, altered or mistyped")
        return self.chain.reason if self.chain else ""


def verify_checkpoint(session: Session, public_key: Ed25519PublicKey,
                      text: str) -> CheckpointReport:
    """Genuine for this instance, and the log still holds its event with its hash, unbroken
    from the first event through it to the head."""
    checkpoint, signed = parse_checkpoint(text)
    try:
        public_key.verify(checkpoint.signature, signed.encode("ascii"))
    except InvalidSignature:
        return CheckpointReport(checkpoint, False, None)
    chain = audit.verify_chain(session, anchor=(checkpoint.seq, checkpoint.hash))
    return CheckpointReport(checkpoint, True, chain)


def verify_for_instance(instance: Instance, text: str) -> CheckpointReport:
    with instance.session() as session:
        return verify_checkpoint(session, load_verify_key(instance.keys_dir), text)
