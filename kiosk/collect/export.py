"""The sealed hand-in bundle: encrypted archives, a signed manifest, and the seal record.

    bundle/
      archives/<station>-<part>-v<version>-<receipt>.age
                                                     the files as stored (age, to the archive keys)
      manifest.json, manifest.csv                    one row per hand-in, with its part; the
                                                     JSON also lists the parts and their counts
      manifest.sig                                   Ed25519 signature of SHA-256(manifest.json)
      signing-key.pub                                the server's public key (its fingerprint is
                                                     on every receipt and on the seal record)
      seal-record.pdf                                封存记录: manifest hash, signature lines

In an event of several sessions (场次) a bundle is one session's (`kiosk export --session CODE`,
or the session chosen on the page): its manifest and seal record name the session, and the
hand-ins are that session's stations' only.

`verify_bundle` checks it all offline and names every file that changed, is missing or was added,
and every hand-in whose part the manifest's list of parts does not account for. A bundle from
before parts (no `part` anywhere) is the default day's practical and verifies as it did.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy import select

from kiosk import audit, checkpoints, clock, scope
from kiosk.collect.hand_ins import key_fingerprint
from kiosk.collect.models import HandIn
from kiosk.collect.parts import DEFAULT_PART, name_of
from kiosk.crypto import b64url, b64url_decode, load_signing_key
from kiosk.db import write_transaction
from kiosk.errors import N_, KioskError
from kiosk.instance import Instance
from kiosk.pdf import build_document, hex_groups, para, signature_block, signed, table
from kiosk.progress import BYTES, NO_PROGRESS, Progress
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.tabular import spreadsheet_cell

FIELDS = ["station", "part", "version", "filename", "size", "sha256", "cipher_sha256",
          "received_at", "receipt_no", "via", "late", "file"]


# The stages of an export and of a check, as the bar and the page name them.
STAGE_COPYING = N_("Copying the archives")
STAGE_CHECKING = N_("Checking the archives")
BLOCK = 1 << 20


def _sha256_file(path: Path, progress: Progress = NO_PROGRESS) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(BLOCK), b""):
            digest.update(chunk)
            progress.advance(len(chunk))
    return digest.hexdigest()


def _copy_hashed(source: Path, target: Path, progress: Progress) -> str:
    """Copy `source` to `target` in one pass, durable on its disk (a USB stick pulled after
    "exported" keeps it); the SHA-256 of the bytes written."""
    digest = hashlib.sha256()
    with source.open("rb") as handle, target.open("xb") as sink:
        for chunk in iter(lambda: handle.read(BLOCK), b""):
            digest.update(chunk)
            sink.write(chunk)
            progress.advance(len(chunk))
        sink.flush()
        os.fsync(sink.fileno())
    return digest.hexdigest()


def export_bundle(instance: Instance, out: Path, *, actor: audit.Actor,
                  translate: Callable[[str], str] = str,
                  exam_session: scope.Scope | None = None,
                  progress: Progress = NO_PROGRESS) -> dict:
    """The bundle into `out`: the hand-ins of `exam_session` (None: of the only session there
    is). `translate` gives a part's name as the seal record prints it (Chinese): a default
    part's name is a catalog message."""
    if out.exists() and any(out.iterdir()):
        raise KioskError(N_("%(path)s is not empty; export into a new folder."), path=str(out))
    rows, sources = [], []
    with instance.session() as session:
        if exam_session is None:  # refused, naming them, when there are several
            exam_session = exam_sessions.as_scope(exam_sessions.choose(session, None))
        scope.use(session, exam_session)
        named = _session_named(session, instance)
        # Through the station: the chosen session's hand-ins only (HandIn carries none).
        hand_ins = session.execute(select(HandIn, Station.code).join(
            Station, Station.id == HandIn.station_id).order_by(Station.code, HandIn.part,
                                                               HandIn.version))
        for hand_in, code in hand_ins:
            name = f"{code}-{hand_in.part}-v{hand_in.version}-{hand_in.receipt_no}.age"
            sources.append((instance.archives_dir / hand_in.stored_name, name,
                            hand_in.cipher_sha256, hand_in.receipt_no))
            rows.append({"station": code, "part": hand_in.part, "version": hand_in.version,
                         "filename": hand_in.filename, "size": hand_in.size,
                         "sha256": hand_in.sha256, "cipher_sha256": hand_in.cipher_sha256,
                         "received_at": clock.iso(hand_in.received_at),
                         "receipt_no": hand_in.receipt_no, "via": hand_in.via,
                         "late": hand_in.late, "file": f"archives/{name}"})
        counts = Counter(row["part"] for row in rows)
        parts = [{"key": key, "name": translate(name_of(session, key)), "hand_ins": count}
                 for key, count in sorted(counts.items())]
    # The copying (many GiB on a slow stick) holds no database transaction.
    (out / "archives").mkdir(parents=True, exist_ok=True)
    progress.stage(STAGE_COPYING, sum(source.stat().st_size for source, *_ in sources), BYTES)
    for source, name, cipher_sha256, receipt_no in sources:
        if _copy_hashed(source, out / "archives" / name, progress) != cipher_sha256:
            raise KioskError(N_("The stored archive of %(receipt)s does not match its hash: "
                                "tell the chief judge."), receipt=receipt_no)
    described = {"format": "kiosk-handin-bundle-v1", "event": instance.settings.event_name,
                 "exported_at": clock.iso(clock.now()), "parts": parts, "hand_ins": rows}
    if named is not None:
        described["session"] = named
    manifest = json.dumps(described,
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
    (out / "seal-record.pdf").write_bytes(_seal_record(instance, rows, digest, fingerprint,
                                                       parts, named))
    _remember_exported(out)
    with instance.session() as session, write_transaction(session):
        scope.use(session, exam_session)  # the audit event names the session
        audit.record(session, actor, "collect.exported", at=clock.now(), subject=str(out)[:128],
                     details={"hand_ins": len(rows), "manifest_sha256": digest,
                              "parts": {p["key"]: p["hand_ins"] for p in parts}})
    return {"hand_ins": len(rows), "manifest_sha256": digest, "fingerprint": fingerprint,
            "parts": parts, "session": named}


# ----------------------------------------------------------------------------- checks shown

# The export page lists every bundle with whether it is intact. Hashing many GiB on every view
# would cost minutes, so the last check of each bundle is kept, with the bundle's files as they
# were then (name, size, time of change): a bundle whose files changed since is "not checked".
_checks: dict[str, tuple[tuple, list[str]]] = {}
_checks_lock = threading.Lock()


def _stamp(folder: Path) -> tuple:
    files = [folder / name for name in ("manifest.json", "manifest.sig", "signing-key.pub")]
    if (folder / "archives").is_dir():
        files += sorted((folder / "archives").iterdir())
    stamp = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            stamp.append((path.name, None))
            continue
        stamp.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(stamp)


def check_bundle(folder: Path, progress: Progress = NO_PROGRESS) -> list[str]:
    """verify_bundle, remembered for the page (see `last_check`)."""
    stamp = _stamp(folder)
    problems = verify_bundle(folder, progress=progress)
    with _checks_lock:
        _checks[str(folder.resolve())] = (stamp, problems)
    return problems


def last_check(folder: Path) -> list[str] | None:
    """The problems the last check found, if the bundle is as it was then; None: not checked
    since the server started, or changed since."""
    with _checks_lock:
        found = _checks.get(str(folder.resolve()))
    if found is None or found[0] != _stamp(folder):
        return None
    return found[1]


def _remember_exported(folder: Path) -> None:
    """A bundle just written: every archive was hashed as it was written and the manifest
    signed here, so it is as checked as a check would make it."""
    with _checks_lock:
        _checks[str(folder.resolve())] = (_stamp(folder), [])


def _session_named(session, instance: Instance) -> dict | None:
    """The session a bundle is about, as its manifest names it: None in an event of one
    session (the bundle is as it always was)."""
    chosen = exam_sessions.chosen(session)
    if exam_sessions.is_implicit(chosen):
        return None
    return {"code": chosen.code, "name": str(exam_sessions.label(chosen, instance.settings))}


def _seal_record(instance: Instance, rows: list[dict], digest: str, fingerprint: str,
                 parts: list[dict] | None = None, named: dict | None = None) -> bytes:
    # Taken before the "collect.exported" event, which is written once the bundle is complete:
    # the record's manifest SHA-256 and that event name each other, and the next paper printed
    # covers the event.
    checkpoint = checkpoints.checkpoint_for_print(instance)
    return seal_record_pdf(rows, digest, fingerprint, event_name=instance.settings.event_name,
                           exported_at=clock.now(), checkpoint=checkpoint,
                           font_config=instance.settings.pdf_font, parts=parts,
                           session_name=(named or {}).get("name", ""))


def seal_record_pdf(rows: list[dict], digest: str, fingerprint: str, *, event_name: str,
                    exported_at, checkpoint, font_config: str = "",
                    parts: list[dict] | None = None, session_name: str = "") -> bytes:
    """赛题数据封存记录: the bundle's session (if the event has several), parts and hand-ins,
    the manifest's SHA-256, signature lines."""
    names = {p["key"]: p["name"] for p in parts or ()}

    def story(font, st):
        exported = clock.local_display(exported_at)
        flow = [para(event_name, st.subtitle), para("赛题数据封存记录", st.title),
                para(f"作品数：{len(rows)}　　导出时间：{exported}", st.body)]
        if session_name:
            flow.insert(2, para(f"场次：{session_name}", st.body))
        if parts:
            listed = "；".join(f"{p['name']}（{p['key']}）{p['hand_ins']} 件" for p in parts)
            flow.append(para(f"环节：{listed}", st.body))
        flow += [para(f"清单 SHA-256：{hex_groups(digest)}", st.body),
                 para(f"服务器签名密钥指纹：{fingerprint}", st.small), Spacer(1, 4 * mm)]
        data = [["赛位号", "环节", "版本", "回执编号", "大小（字节）", "SHA-256（前 16 位）"]]
        data += [[r["station"], names.get(r.get("part"), r.get("part", DEFAULT_PART)),
                  r["version"], r["receipt_no"], f"{r['size']:,}",
                  hex_groups(r["sha256"][:16])] for r in rows]
        widths = [20 * mm, 40 * mm, 12 * mm, 32 * mm, 28 * mm, 38 * mm]
        flow.append(signed(table(data, widths, font),
                           Spacer(1, 8 * mm),
                           signature_block(["加密裁判签字", "监督人员签字", "裁判长签字"], font)))
        return flow

    return build_document(story, title="赛题数据封存记录", checkpoint=checkpoint,
                          font_config=font_config, footer=f"{event_name} · 赛题数据封存记录")


def verify_bundle(folder: Path, *, expected_fingerprint: str | None = None,
                  progress: Progress = NO_PROGRESS) -> list[str]:
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
    # A manifest names files inside its own archives/ only: a name like /dev/zero or
    # ../../keys/x (a bundle from anywhere may be checked) is a problem, never read.
    inside = [row for row in rows if _archive_name(row.get("file"))]
    problems += [f"not a file of the bundle: {str(row.get('file'))[:120]}" for row in rows
                 if not _archive_name(row.get("file"))]
    present = [folder / row["file"] for row in inside if (folder / row["file"]).is_file()]
    progress.stage(STAGE_CHECKING, sum(path.stat().st_size for path in present), BYTES)
    for row in inside:
        path = folder / row["file"]
        listed.add(Path(row["file"]).name)
        if not path.is_file():
            problems.append(f"missing: {row['file']}")
        elif _sha256_file(path, progress) != row["cipher_sha256"]:
            problems.append(f"changed: {row['file']}")
    problems += _part_problems(manifest_bytes)
    archives = folder / "archives"
    if archives.is_dir():
        for extra in sorted(p.name for p in archives.iterdir() if p.name not in listed):
            problems.append(f"added: archives/{extra}")
    return problems


def _archive_name(name: object) -> bool:
    """`archives/<one plain file name>`, as export_bundle writes it."""
    if not isinstance(name, str):
        return False
    head, _, tail = name.partition("/")
    return head == "archives" and bool(tail) and "/" not in tail and "\\" not in tail \
        and tail not in (".", "..")


def _part_problems(manifest_bytes: bytes) -> list[str]:
    """The manifest's parts against its rows: each hand-in's part listed, each part's count
    that of its rows, one version number per station and part. A bundle from before parts
    lists none and names none: its hand-ins are the practical's."""
    manifest = json.loads(manifest_bytes)
    rows = manifest["hand_ins"]
    listed = manifest.get("parts")
    if listed is None:
        if any("part" in row for row in rows):
            return ["manifest.json names parts of hand-ins but lists no parts"]
        return []
    problems = []
    counts = Counter(row.get("part") for row in rows)
    declared = {}
    for entry in listed:
        if not isinstance(entry, dict) or "key" not in entry:
            return [*problems, "manifest.json: a part without a key"]
        declared[entry["key"]] = entry.get("hand_ins")
    for key, count in sorted(counts.items(), key=lambda item: str(item[0])):
        if key not in declared:
            problems.append(f"part {key}: {count} hand-ins not among the bundle's parts")
        elif declared[key] != count:
            problems.append(f"part {key}: the manifest lists {declared[key]} hand-ins, "
                            f"the bundle has {count}")
    problems += [f"part {key}: listed with {declared[key]} hand-ins, the bundle has none"
                 for key in declared if key not in counts]
    versions = Counter((row.get("station"), row.get("part"), row.get("version")) for row in rows)
    problems += [f"{station} part {part}: version {version} appears {n} times"
                 for (station, part, version), n in sorted(versions.items(), key=str) if n > 1]
    return problems
