"""Signed checkpoints catch what the hash chain alone cannot: a database writer who rewinds the
head after cutting the tail, or who recomputes every hash after a change."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from kiosk import audit, checkpoints
from kiosk.cli import main
from kiosk.db import write_transaction
from kiosk.models import AuditEvent, AuditHead
from tests.factories import csrf_from, login, make_user

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "verify_audit_checkpoint.py"


def _record(instance, actor, now, count):
    with instance.session() as session:
        for i in range(count):
            with write_transaction(session):
                audit.record(session, actor, "test.step", at=now, subject=f"s{i}",
                             details={"n": i, "名字": "张三"})


def _run(kiosk_instance, *args):
    return CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), *args])


def _checkpoint(kiosk_instance) -> dict:
    result = _run(kiosk_instance, "audit", "checkpoint", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _rewrite_from(session, seq: int) -> None:
    """What a database writer who knows the scheme does: recompute every hash from `seq` on
    and move the head, so that the chain is consistent again."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq)
                             .order_by(AuditEvent.seq)).all()
    prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)) \
        or audit.GENESIS_HASH
    for event in events:
        event.prev_hash = prev
        event.hash = audit.event_hash(prev, event.seq, event.at, event.actor, event.role,
                                      event.action, event.subject, event.details)
        prev = event.hash
    head = session.get(AuditHead, 1)
    head.last_seq = events[-1].seq if events else seq - 1
    head.last_hash = prev


def _cut_tail_and_rewind_head(instance, first_removed: int) -> None:
    with instance.session() as session, write_transaction(session):
        session.execute(delete(AuditEvent).where(AuditEvent.seq >= first_removed))
        last = session.scalar(select(AuditEvent).where(AuditEvent.seq == first_removed - 1))
        head = session.get(AuditHead, 1)
        head.last_seq, head.last_hash = last.seq, last.hash


def _edit_and_recompute(instance, seq: int) -> None:
    with instance.session() as session, write_transaction(session):
        event = session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))
        event.details = '{"n":99,"名字":"李四"}'
        session.flush()
        _rewrite_from(session, seq)


def test_a_cut_tail_with_a_rewound_head_passes_plain_verify_but_not_the_checkpoint(
        kiosk_instance, actor, now):
    instance = kiosk_instance.open()
    _record(instance, actor, now, 5)
    paper = _checkpoint(kiosk_instance)
    _record(instance, actor, now, 2)
    cut_at = paper["seq"] - 1  # two events before the checkpoint's and all after it
    _cut_tail_and_rewind_head(instance, cut_at)
    instance.engine.dispose()

    plain = _run(kiosk_instance, "audit", "verify")
    assert plain.exit_code == 0, plain.output  # the hole the checkpoint closes

    against = _run(kiosk_instance, "audit", "verify", "--json", "--checkpoint", paper["text"])
    assert against.exit_code == 1
    answer = json.loads(against.output)
    assert answer["signature_ok"] and answer["first_broken"] == cut_at
    assert "removed" in answer["reason"]


def test_an_edit_with_every_later_hash_recomputed_fails_against_an_earlier_checkpoint(
        kiosk_instance, actor, now):
    instance = kiosk_instance.open()
    _record(instance, actor, now, 5)
    paper = _checkpoint(kiosk_instance)
    _record(instance, actor, now, 2)
    edited = paper["seq"] - 2
    _edit_and_recompute(instance, edited)
    instance.engine.dispose()

    assert _run(kiosk_instance, "audit", "verify").exit_code == 0
    against = _run(kiosk_instance, "audit", "verify", "--checkpoint", paper["text"])
    assert against.exit_code == 1
    assert f"第 {paper['seq']} 号事件" in against.output  # people read it in Chinese
    answer = json.loads(_run(kiosk_instance, "audit", "verify", "--json", "--checkpoint",
                             paper["text"]).output)
    assert answer["first_broken"] == paper["seq"] and "changed" in answer["reason"]


def test_an_altered_or_forged_checkpoint_fails_on_its_signature(kiosk_instance, actor, now):
    instance = kiosk_instance.open()
    _record(instance, actor, now, 3)
    genuine = _checkpoint(kiosk_instance)
    # A writer who cut the log to event 2 "updates" the paper's event number to match.
    altered = genuine["text"].replace(f"KAC1.{genuine['seq']}.", f"KAC1.{genuine['seq'] - 1}.")
    with instance.session() as session:
        forged = checkpoints.take_checkpoint(session, Ed25519PrivateKey.generate(), now).text
    instance.engine.dispose()
    for text in (altered, forged):
        result = _run(kiosk_instance, "audit", "verify", "--json", "--checkpoint", text)
        assert result.exit_code == 1, text
        answer = json.loads(result.output)
        assert answer["signature_ok"] is False and "signature" in answer["reason"]
    unreadable = _run(kiosk_instance, "audit", "verify", "--checkpoint", "KAC1.3.ABC")
    assert unreadable.exit_code == 1 and "KAC1" in unreadable.output


def test_a_genuine_checkpoint_on_an_intact_log_passes_also_after_more_events(
        kiosk_instance, actor, now):
    instance = kiosk_instance.open()
    _record(instance, actor, now, 3)
    paper = _checkpoint(kiosk_instance)
    assert set(paper) == {"seq", "hash", "at", "signature", "text"}
    assert paper["text"].isascii() and paper["text"] == paper["text"].upper()
    assert paper["hash"].upper() in paper["text"]
    ok = _run(kiosk_instance, "audit", "verify", "--checkpoint", paper["text"])
    assert ok.exit_code == 0, ok.output
    _record(instance, actor, now, 2)
    instance.engine.dispose()
    # As a scanner or a person types it: line end, spaces, lower case.
    typed = " " + paper["text"][:40].lower() + " " + paper["text"][40:] + "\r\n"
    later = _run(kiosk_instance, "audit", "verify", "--json", "--checkpoint", typed)
    assert later.exit_code == 0, later.output
    assert json.loads(later.output)["ok"] is True


def _script(key: Path, events: Path, text: str) -> subprocess.CompletedProcess:
    # -I: isolated, so the script cannot lean on kiosk being importable from here.
    return subprocess.run([sys.executable, "-I", str(SCRIPT), str(key), str(events), text],
                          capture_output=True, text=True, cwd=events.parent)


def test_the_standalone_script_checks_an_exported_log_good_and_tampered(
        kiosk_instance, actor, now, tmp_path):
    instance = kiosk_instance.open()
    _record(instance, actor, now, 4)
    paper = _checkpoint(kiosk_instance)
    _record(instance, actor, now, 2)
    key = kiosk_instance.path / "keys" / "receipt_signing_key.pub"
    good = tmp_path / "good.jsonl"
    exported = _run(kiosk_instance, "audit", "export", "--out", str(good))
    assert exported.exit_code == 0, exported.output
    result = _script(key, good, paper["text"])
    assert result.returncode == 0, result.stdout + result.stderr

    forged = paper["text"][:-3] + ("AAA" if not paper["text"].endswith("AAA") else "BBB")
    assert _script(key, good, forged).returncode == 1

    _edit_and_recompute(instance, 2)
    instance.engine.dispose()
    rewritten = tmp_path / "rewritten.jsonl"
    assert _run(kiosk_instance, "audit", "export", "--out", str(rewritten)).exit_code == 0
    result = _script(key, rewritten, paper["text"])
    assert result.returncode == 1 and "changed" in result.stdout

    lines = good.read_text("utf-8").splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:paper["seq"] - 1]) + "\n", "utf-8")
    result = _script(key, cut, paper["text"])
    assert result.returncode == 1 and "ends at event" in result.stdout


def _page_check(client, text: str):
    page = client.get("/audit")
    assert page.status_code == 200
    return client.post("/audit/checkpoint", data={"checkpoint": text,
                                                  "csrf_token": csrf_from(page.text)})


def test_the_supervisor_page_says_whether_the_log_holds_a_scanned_checkpoint(
        kiosk_instance, app, actor, now):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        make_user(session, "supervisor", username="watcher")
    _record(instance, actor, now, 4)
    paper = _checkpoint(kiosk_instance)
    client = app.test_client()
    login(client, "watcher")
    assert 'name="checkpoint"' in client.get("/audit").text

    refused = client.post("/audit/checkpoint", data={"checkpoint": paper["text"]})
    assert refused.status_code == 400  # no CSRF token, like every staff form

    holds = _page_check(client, paper["text"] + "\r\n")  # a scanner ends with Enter
    assert 'data-checkpoint-outcome="holds"' in holds.text
    assert "审计日志仍完整保有此检查点" in holds.text and paper["hash"][:16] in holds.text

    forged = paper["text"][:-4] + ("AAAA" if not paper["text"].endswith("AAAA") else "BBBB")
    assert "不是本服务器签发的真实检查点" in _page_check(client, forged).text
    assert "不是审计检查点" in _page_check(client, "hello").text

    cut_at = paper["seq"] - 1
    _cut_tail_and_rewind_head(instance, cut_at)
    broken = _page_check(client, paper["text"])
    assert 'data-checkpoint-outcome="broken"' in broken.text
    assert f"自第 {cut_at} 号事件起" in broken.text


SIGNER = Ed25519PrivateKey.generate()
SIGNED_AT = datetime(2026, 5, 20, 1, 2, 3, tzinfo=UTC)
GENUINE = checkpoints.Checkpoint(1234, "ab" * 32, SIGNED_AT, SIGNER.sign(
    checkpoints.signed_text(1234, "ab" * 32, SIGNED_AT).encode("ascii")))


@given(position=st.integers(0, len(GENUINE.text) - 1),
       replacement=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ."))
def test_no_single_character_change_of_a_checkpoint_is_accepted(position, replacement):
    text = GENUINE.text
    altered = text[:position] + replacement + text[position + 1:]
    if altered == text:
        return
    try:
        checkpoint, signed = checkpoints.parse_checkpoint(altered)
    except checkpoints.CheckpointUnreadable:
        return
    with pytest.raises(InvalidSignature):
        SIGNER.public_key().verify(checkpoint.signature, signed.encode("ascii"))
