#!/usr/bin/env python3
"""Check a kiosk audit checkpoint on your own laptop, without kiosk.

    python verify_audit_checkpoint.py receipt_signing_key.pub audit.jsonl "KAC1.…"

receipt_signing_key.pub: the server's public key (instance keys/ folder, or the export bundle's
signing-key.pub). audit.jsonl: `kiosk audit export --out audit.jsonl`. The checkpoint: the line
under the QR code of a paper record, or what a scanner types. Needs Python 3.10+ and the
`cryptography` package only. Exit 0: the checkpoint is genuine and the exported log holds its
event with its hash, unbroken from the first event to the last; 1: it does not; 2: bad input.
The format is described in docs/audit-checkpoints.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GENESIS_HASH = "0" * 64
CHECKPOINT = re.compile(r"(KAC1\.(0|[1-9][0-9]*)\.([0-9A-F]{64})\.([0-9]{8}T[0-9]{6}Z))"
                        r"\.([A-Z2-7]{103})")


def event_hash(prev_hash: str, event: dict) -> str:
    """SHA-256 over the previous hash and the event's fields as a compact JSON array."""
    content = json.dumps([event["seq"], event["at"], event["actor"], event["role"],
                          event["action"], event["subject"], event["details"]],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def check(public_key_pem: bytes, events_jsonl: str, checkpoint_text: str) -> tuple[bool, str]:
    match = CHECKPOINT.fullmatch("".join(checkpoint_text.split()).upper())
    if match is None:
        raise ValueError("not a KAC1 checkpoint text")
    signed, seq, hash_hex = match[1], int(match[2]), match[3].lower()
    signature = base64.b32decode(match[5] + "=" * (-len(match[5]) % 8))
    if base64.b32encode(signature).decode("ascii").rstrip("=") != match[5]:
        raise ValueError("the signature's last character is mistyped")
    try:
        load_pem_public_key(public_key_pem).verify(signature, signed.encode("ascii"))
    except InvalidSignature:
        return False, "the signature does not match this public key: forged or altered"
    prev, expected_seq, found = GENESIS_HASH, 1, seq == 0
    for line in events_jsonl.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        if event["seq"] != expected_seq:
            return False, f"event {expected_seq} is missing"
        if event["prev_hash"] != prev or event_hash(prev, event) != event["hash"]:
            return False, f"the chain breaks at event {event['seq']}"
        if event["seq"] == seq:
            if event["hash"] != hash_hex:
                return False, (f"event {seq} no longer has the checkpoint's hash: it or an "
                               "earlier event was changed, removed or inserted")
            found = True
        prev, expected_seq = event["hash"], expected_seq + 1
    if not found:
        return False, f"the log ends at event {expected_seq - 1}, before event {seq}"
    return True, (f"checkpoint of event {seq} ({hash_hex[:16]}…) held unbroken; "
                  f"{expected_seq - 1} events")


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as key_file, open(argv[2], encoding="utf-8") as events:
            ok, message = check(key_file.read(), events.read(), argv[3])
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    print(("OK: " if ok else "FAILED: ") + message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
