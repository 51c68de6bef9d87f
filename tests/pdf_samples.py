"""Every PDF kind kiosk prints, built from demo-like data (the seed roster's names, units and ID
numbers, real-length hashes, a long file name): for the paper tests, and for looking at them:

    .venv/bin/python -m tests.pdf_samples /tmp/pdfs && pdftoppm -png -r 70 /tmp/pdfs/x.pdf /tmp/x
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.checkpoints import Checkpoint, signed_text
from kiosk.collect.models import HandIn

EVENT = "2026年职业技能大赛·人工智能训练师赛项（演示）"
# An event named in both languages, long: where words used to be cut at a line's end.
MIXED = ("2026 National Vocational Skills Competition 全国职业技能大赛 Artificial "
         "Intelligence Trainer 人工智能训练师赛项 (Demonstration)")
BADGE_EVENT = "全国职业技能大赛人工智能训练师赛项 Artificial Intelligence Trainer"
SESSION = "第一场"
AT = datetime(2026, 5, 20, 1, 2, 3, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
AUDIT_HASH = hashlib.sha256(b"audit head").hexdigest()
CHECKPOINT = Checkpoint(4172, AUDIT_HASH, AT,
                        KEY.sign(signed_text(4172, AUDIT_HASH, AT).encode("ascii")))
COMMITMENT = hashlib.sha256(b"seed").hexdigest()
SEALED = hashlib.sha256(b"sealed record").hexdigest()
LOCK = hashlib.sha256(b"results lock").hexdigest()
MANIFEST = hashlib.sha256(b"manifest").hexdigest()
FILE_SHA = hashlib.sha256(b"work").hexdigest()


def roster(count: int | None = None) -> list[dict]:
    """The seed roster (name, id_number, organization, group), cycled to `count` people."""
    text = (resources.files("kiosk.seed") / "roster.csv").read_text("utf-8-sig")
    rows = [{"name": r["姓名"], "id_number": r["身份证号"], "organization": r["单位"],
             "group": r["组别"]} for r in csv.DictReader(io.StringIO(text))]
    count = len(rows) if count is None else count
    return [dict(rows[i % len(rows)]) for i in range(count)]


def draw_round(stage: int, method: str = "computer") -> SimpleNamespace:
    return SimpleNamespace(stage=stage, method=method, commitment=COMMITMENT,
                           entropy="3 1 4 1 5 9 2 6 5 3", drawn_at=AT, ciphertext_sha256=SEALED)


def mapping(stage: int, count: int = 60) -> SimpleNamespace:
    people = roster(count)
    if stage == 1:
        pairs = [{**p, "contestant_no": f"{n:03d}", "late": n == count}
                 for n, p in enumerate(people, start=1)]
    else:
        pairs = [{"contestant_no": f"{n:03d}", "station": f"A{(n * 7) % count + 1:02d}",
                  "late": n == count} for n in range(1, count + 1)]
    return SimpleNamespace(round=draw_round(stage), pairs=pairs, redraws=[])


def record(kind, count: int = 60) -> bytes:
    from kiosk.checkin.records import record_sheet

    stage = 1 if kind == 1 else 2
    return record_sheet(mapping(stage, count), kind=kind, event_name=EVENT,
                        session_name=SESSION, checkpoint=CHECKPOINT)


def hand_in() -> HandIn:
    return HandIn(receipt_no="0520-3FA9C1", filename="A07_人工智能训练师_实操作品_最终版_v3.zip",
                  size=48_213_775, sha256=FILE_SHA, received_at=AT, version=3, via="desk")


def fingerprint() -> str:
    from kiosk.collect.hand_ins import key_fingerprint

    return key_fingerprint(KEY.public_key())


def receipt(roll: bool = False) -> bytes:
    from kiosk.collect.hand_ins import receipt_payload
    from kiosk.collect.slips import receipt_pdf, roll_receipt_pdf

    render = roll_receipt_pdf if roll else receipt_pdf
    return render(hand_in(), station="A07", payload=receipt_payload(hand_in(), "A07", KEY),
                  event_name=EVENT, fingerprint=fingerprint(), checkpoint=CHECKPOINT)


def poster(event_name: str = EVENT) -> bytes:
    from kiosk.collect.slips import poster_pdf

    return poster_pdf(event_name=event_name, fingerprint=fingerprint())


def badges(count: int = 10, event_name: str = EVENT) -> bytes:
    from kiosk.checkin.badges import render_badges
    from kiosk.stations.sign_in import BadgeSecrets

    secrets = [BadgeSecrets(f"A{n:02d}", f"KB1{n:04d}" + "Q" * 40, f"7K{n % 10}QX4PM9TRB")
               for n in range(1, count + 1)]
    return render_badges(secrets, event_name=event_name, session_name=SESSION)


def seal_record(count: int = 60) -> bytes:
    from kiosk.collect.export import seal_record_pdf

    rows = [{"station": f"A{n:02d}", "version": 1 + n % 3, "receipt_no": f"0520-{n:06X}",
             "size": 1_000_000 + n * 12_345, "sha256": hashlib.sha256(bytes([n])).hexdigest()}
            for n in range(1, count + 1)]
    return seal_record_pdf(rows, MANIFEST, fingerprint(), event_name=EVENT, exported_at=AT,
                           checkpoint=CHECKPOINT)


def final_rows(count: int = 60, sealed: bool = False):
    from kiosk.results.final import FinalRow

    rows = []
    for n, person in enumerate(roster(count), start=1):
        raw = Decimal(100 - n % 37)
        theory = (raw * 15 / 100).quantize(Decimal("0.01"))
        practical = Decimal(85) - Decimal(n % 23) / 2
        deduction = Decimal("1.5") if n % 9 == 0 else Decimal(0)
        rows.append(FinalRow(
            n, f"A{n:02d}", None if sealed else f"{n:03d}", None if sealed else person["name"],
            None if sealed else person["id_number"], None if sealed else person["organization"],
            None if sealed else person["group"], theory, raw, practical, deduction,
            theory + practical - deduction, 3000.0 + n * 17, None if sealed else
            ("一等奖" if n < 7 else "二等奖" if n < 19 else "三等奖" if n < 37 else "")))
    return rows


def results(sealed: bool = False, count: int = 60) -> bytes:
    from kiosk.results.final import FinalResults, results_pdf

    lock = SimpleNamespace(locked_at=AT, sha256=LOCK)
    rows = final_rows(count, sealed)
    groups = [(None, rows)] if sealed else [
        ("职工组", [r for r in rows if r.group == "职工组"]),
        ("学生组", [r for r in rows if r.group == "学生组"])]
    final = FinalResults(sealed, lock, [(g, r) for g, r in groups if r])
    return results_pdf(final, event_name=EVENT, session_name=SESSION, now=AT + timedelta(hours=6),
                       theory_weight=Decimal(15), practical_full=Decimal(85),
                       checkpoint=CHECKPOINT)


def checkpoint_sheet() -> bytes:
    from kiosk.checkpoints import checkpoint_sheet_pdf

    return checkpoint_sheet_pdf(CHECKPOINT, event_name=EVENT)


def checkin_sheet(count: int = 60, present: int | None = None) -> bytes:
    from kiosk.checkin.records import CheckinRow, checkin_sheet_pdf

    people = roster(count)
    present = count - 3 if present is None else present
    rows = [CheckinRow(p["name"], p["id_number"], p["organization"], p["group"],
                       AT + timedelta(seconds=37 * n) if n < present else None,
                       "checkin" if n < present else "") for n, p in enumerate(people)]
    return checkin_sheet_pdf(rows, event_name=EVENT, session_name=SESSION, printed_at=AT,
                             checkpoint=CHECKPOINT)


def test_page() -> bytes:
    from kiosk.pdf import simple_document

    return simple_document("打印测试页", [
        f"{MIXED} 打印测试：中文、English words、SHA-256 {FILE_SHA}、身份证号 "
        f"4209**********4782、大小 48,213,775 字节；字体 WenQuanYi Zen Hei 或 SimHei，"
        f"运行 kiosk preflight 检查。"] * 3)


ALL = {
    "checkin-sheet": checkin_sheet,
    "badges": badges,
    "draw-record-1": lambda: record(1),
    "draw-record-2": lambda: record(2),
    "station-draw-record": lambda: record("station"),
    "seal-record": seal_record,
    "receipt-a4": receipt,
    "receipt-roll": lambda: receipt(roll=True),
    "poster": poster,
    "results-final": results,
    "results-stations": lambda: results(sealed=True),
    "checkpoint-sheet": checkpoint_sheet,
    "test-page": test_page,
}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, build in ALL.items():
        try:
            (out / f"{name}.pdf").write_bytes(build())
        except Exception as exc:  # a sample the current code cannot build yet
            print(name, type(exc).__name__, exc)
