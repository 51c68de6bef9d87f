"""The sealed hand-in bundle: encrypted archives, a signed manifest, and the seal record.

    bundle/
      archives/<station>-v<version>-<receipt>.age    the files as stored (age, to the archive keys)
      manifest.json, manifest.csv                    one row per hand-in
      manifest.sig                                   Ed25519 signature of SHA-256(manifest.json)
      signing-key.pub                                the server's public key (its fingerprint is
                                                     on every receipt and on the seal record)
      seal-record.pdf                                封存记录: manifest hash, signature lines

`verify_bundle` checks it all offline and names every file that changed, is missing or was added.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy import select

from kiosk import audit, checkpoints, clock
from kiosk.collect.hand_ins import key_fingerprint
from kiosk.collect.models import HandIn
from kiosk.crypto import b64url, b64url_decode, load_signing_key
from kiosk.db import write_transaction
from kiosk.errors import N_, KioskError
from kiosk.instance import Instance
from kiosk.pdf import build_document, hex_groups, para, signature_block, signed, table
from kiosk.stations.models import Station
from kiosk.tabular import spreadsheet_cell

FIELDS = ["station", "version", "filename", "size", "sha256", "cipher_sha256", "received_at",
          "receipt_no", "via", "late", "file"]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_bundle(instance: Instance, out: Path, *, actor: audit.Actor) -> dict:
    if out.exists() and any(out.iterdir()):
        raise KioskError(N_("%(path)s is not empty; export into a new folder."), path=str(out))
    (out / "archives").mkdir(parents=True, exist_ok=True)
    rows = []
    with instance.session() as session:
        hand_ins = session.execute(select(HandIn, Station.code).join(
            Station, Station.id == HandIn.station_id).order_by(Station.code, HandIn.version))
        for hand_in, code in hand_ins:
            name = f"{code}-v{hand_in.version}-{hand_in.receipt_no}.age"
            source = instance.archives_dir / hand_in.stored_name
            shutil.copyfile(source, out / "archives" / name)
            if _sha256_file(out / "archives" / name) != hand_in.cipher_sha256:
                raise KioskError(N_("The stored archive of %(receipt)s does not match its hash: "
                                    "tell the chief judge."), receipt=hand_in.receipt_no)
            rows.append({"station": code, "version": hand_in.version,
                         "filename": hand_in.filename, "size": hand_in.size,
                         "sha256": hand_in.sha256, "cipher_sha256": hand_in.cipher_sha256,
                         "received_at": clock.iso(hand_in.received_at),
                         "receipt_no": hand_in.receipt_no, "via": hand_in.via,
                         "late": hand_in.late, "file": f"archives/{name}"})
    manifest = json.dumps({"format": "kiosk-handin-bundle-v1",
                           "event": instance.settings.event_name,
                           "exported_at": clock.iso(clock.now()), "hand_ins": rows},
                          ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    (out / "manifest.json").write_bytes(manifest)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    # The CSV is for spreadsheets; the signed JSON keeps every name exactly as handed in.
    writer.writerows({name: spreadsheet_cell(value) for name, value in row.items()}
                     for row in rows)
    (out / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    digest = hashlib.sha256(manifest).hexdigest()
    key = load_signing_key(instance.keys_dir)
    (out / "manifest.sig").write_text(b64url(key.sign(digest.encode("ascii"))) + "\n")
    (out / "signing-key.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    fingerprint = key_fingerprint(key.public_key())
    (out / "seal-record.pdf").write_bytes(_seal_record(instance, rows, digest, fingerprint))
    with instance.session() as session, write_transaction(session):
        audit.record(session, actor, "collect.exported", at=clock.now(), subject=str(out)[:128],
                     details={"hand_ins": len(rows), "manifest_sha256": digest})
    return {"hand_ins": len(rows), "manifest_sha256": digest, "fingerprint": fingerprint}


def _seal_record(instance: Instance, rows: list[dict], digest: str, fingerprint: str) -> bytes:
    # Taken before the "collect.exported" event, which is written once the bundle is complete:
    # the record's manifest SHA-256 and that event name each other, and the next paper printed
    # covers the event.
    checkpoint = checkpoints.checkpoint_for_print(instance)
    return seal_record_pdf(rows, digest, fingerprint, event_name=instance.settings.event_name,
                           exported_at=clock.now(), checkpoint=checkpoint,
                           font_config=instance.settings.pdf_font)


def seal_record_pdf(rows: list[dict], digest: str, fingerprint: str, *, event_name: str,
                    exported_at, checkpoint, font_config: str = "") -> bytes:
    """赛题数据封存记录: the bundle's hand-ins, the manifest's SHA-256, signature lines."""
    def story(font, st):
        exported = clock.local_display(exported_at)
        flow = [para(event_name, st.subtitle), para("赛题数据封存记录", st.title),
                para(f"作品数：{len(rows)}　　导出时间：{exported}", st.body),
                para(f"清单 SHA-256：{hex_groups(digest)}", st.body),
                para(f"服务器签名密钥指纹：{fingerprint}", st.small), Spacer(1, 4 * mm)]
        data = [["赛位号", "版本", "回执编号", "大小（字节）", "SHA-256（前 16 位）"]]
        data += [[r["station"], r["version"], r["receipt_no"], f"{r['size']:,}",
                  hex_groups(r["sha256"][:16])] for r in rows]
        flow.append(signed(table(data, [24 * mm, 16 * mm, 40 * mm, 40 * mm, 50 * mm], font),
                           Spacer(1, 8 * mm),
                           signature_block(["加密裁判签字", "监督人员签字", "裁判长签字"], font)))
        return flow

    return build_document(story, title="赛题数据封存记录", checkpoint=checkpoint,
                          font_config=font_config, footer=f"{event_name} · 赛题数据封存记录")


def verify_bundle(folder: Path, *, expected_fingerprint: str | None = None) -> list[str]:
    """Every problem found, in words; an empty list means the bundle is intact."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    problems: list[str] = []
    try:
        manifest_bytes = (folder / "manifest.json").read_bytes()
        public = serialization.load_pem_public_key((folder / "signing-key.pub").read_bytes())
        signature = b64url_decode((folder / "manifest.sig").read_text().strip())
    except (OSError, ValueError) as exc:
        return [f"incomplete bundle: {exc}"]
    if not isinstance(public, Ed25519PublicKey):
        return ["signing-key.pub is not an Ed25519 key"]
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    try:
        public.verify(signature, digest.encode("ascii"))
    except InvalidSignature:
        problems.append("manifest.json or manifest.sig was changed: the signature does not match")
    if expected_fingerprint and key_fingerprint(public).replace(" ", "") != \
            expected_fingerprint.replace(" ", "").upper():
        problems.append("the bundle was signed with another key than the expected one")
    try:
        rows = json.loads(manifest_bytes)["hand_ins"]
    except (ValueError, KeyError):
        return [*problems, "manifest.json is not readable"]
    listed = set()
    for row in rows:
        path = folder / row["file"]
        listed.add(Path(row["file"]).name)
        if not path.exists():
            problems.append(f"missing: {row['file']}")
        elif _sha256_file(path) != row["cipher_sha256"]:
            problems.append(f"changed: {row['file']}")
    archives = folder / "archives"
    if archives.is_dir():
        for extra in sorted(p.name for p in archives.iterdir() if p.name not in listed):
            problems.append(f"added: archives/{extra}")
    return problems
