"""Backups while the exam runs, and a standby restored from them."""

import io
import json
import tarfile
import threading
from datetime import timedelta

import pyrage
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from kiosk import audit, backup, clock
from kiosk.cli import main
from kiosk.collect import hand_ins as collect
from kiosk.collect.models import HandIn
from kiosk.db import write_transaction
from kiosk.errors import KioskError, NotReady
from kiosk.instance import open_instance
from kiosk.judge_keys import add_judge_key
from kiosk.models import AuditEvent
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.factories import in_a_terminal, make_stations


@pytest.fixture
def running(instance, session):
    """A practical exam under way with one hand-in on disk."""
    make_stations(session, 3)
    identity = pyrage.x25519.Identity.generate()
    add_judge_key(session, "archive", str(identity.to_public()), "archive", actor=CHIEF,
                  now=clock.now())
    phases.start(session, "practical", 60, actor=CHIEF, now=clock.now())
    collect.ingest(session, archives=instance.archives_dir, station_id=1, station_code="A01",
                   body=io.BytesIO(b"PK work of A01"), filename="作品.zip", content_length=14,
                   limit=10**6, now_fn=clock.now, grace=timedelta(seconds=2), actor=CHIEF)
    return instance, identity


def _counts(opened):
    with opened.session() as session:
        return (session.scalar(select(func.count()).select_from(AuditEvent)),
                session.scalar(select(func.count()).select_from(HandIn)))


def test_backup_and_restore_give_the_same_instance(running, tmp_path):
    instance, identity = running
    out = tmp_path / "b" / "kiosk.tar"
    backup.make_backup(instance, out)
    assert out.stat().st_mode & 0o777 == 0o600  # it holds the keys
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert "keys/flask_secret_key" in names and any(n.startswith("archives/") for n in names)
    with pytest.raises(KioskError, match="never overwrites"):
        backup.make_backup(instance, out)
    restored = backup.restore_backup(out, tmp_path / "standby", sqlite=True)
    assert restored["problems"] == [] and restored["hand_ins"] == 1
    standby = open_instance(tmp_path / "standby")
    try:
        assert _counts(standby) == _counts(instance)
        assert standby.engine.dialect.name == "sqlite"
        with standby.session() as session:
            hand_in = session.scalar(select(HandIn))
        data = (standby.archives_dir / hand_in.stored_name).read_bytes()
        assert pyrage.decrypt(data, [identity]) == b"PK work of A01"
        assert standby.secret_key() == instance.secret_key()  # badges keep working
    finally:
        standby.engine.dispose()


def test_a_backup_taken_during_writes_is_consistent_and_holds_every_earlier_write(running,
                                                                                   tmp_path):
    instance, _ = running
    stop, fifty = threading.Event(), threading.Event()
    acknowledged = []

    def write():
        with instance.session() as session:
            while not stop.is_set():
                with write_transaction(session):
                    event = audit.record(session, CHIEF, "test.write", at=clock.now())
                    seq = event.seq
                acknowledged.append(seq)
                if len(acknowledged) >= 50:
                    fifty.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert fifty.wait(30), "the writer did not get going"
        before = acknowledged[-1]
        out = tmp_path / "during.tar"
        backup.make_backup(instance, out)
    finally:
        stop.set()
        writer.join()
    restored = backup.restore_backup(out, tmp_path / "standby", sqlite=True)
    # The audit chain verifies end to end: the copy is one moment, never a torn one.
    assert restored["problems"] == []
    assert restored["audit_events"] >= before
    assert restored["audit_events"] < _counts(instance)[0]  # the writes went on meanwhile


def test_a_damaged_backup_restores_nothing_and_says_what(running, tmp_path):
    instance, _ = running
    out = tmp_path / "kiosk.tar"
    backup.make_backup(instance, out)
    with tarfile.open(out) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None)
                   for m in tar.getmembers()]
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        for member, data in members:
            if member.name.startswith("archives/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            if member.name == "keys/flask_secret_key":
                continue
            tar.addfile(member, io.BytesIO(data))
    with pytest.raises(NotReady) as excinfo:
        backup.restore_backup(damaged, tmp_path / "standby")
    rendered = [p.render() for p in excinfo.value.problems]
    assert any("archives/" in p and "SHA-256" in p for p in rendered)
    assert "keys/flask_secret_key is missing" in rendered
    assert not (tmp_path / "standby").exists()


def test_restore_into_postgresql_from_either_database(running, tmp_path, pg_cluster):
    if pg_cluster is None:
        pytest.skip("PostgreSQL server binaries not installed")
    instance, _ = running
    out = tmp_path / "kiosk.tar"
    backup.make_backup(instance, out)
    name = f"kiosk_restore_{instance.engine.dialect.name}"
    admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        restored = backup.restore_backup(out, tmp_path / "standby",
                                         database_url=pg_cluster.url(name))
        assert restored["problems"] == [] and restored["database"] == "postgresql"
        standby = open_instance(tmp_path / "standby")
        try:
            assert _counts(standby) == _counts(instance)
            # New rows take new ids after the restored ones (sequences were moved on).
            with standby.session() as session, write_transaction(session):
                make_stations(session, 1, prefix="Z")
        finally:
            standby.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_automatic_backups_run_during_a_phase_and_keep_the_newest(running, tmp_path):
    instance, _ = running
    folder = tmp_path / "second-disk"
    auto = backup.AutoBackup(instance, folder, timedelta(minutes=5), keep=2)
    now = clock.now()
    for minutes in (0, 5, 10):
        assert auto.run_once(now + timedelta(minutes=minutes)) is not None
    assert len(list(folder.glob("kiosk-*.tar"))) == 2
    with instance.session() as session:
        phases.end(session, "practical", actor=CHIEF, now=now)
    assert auto.run_once(now + timedelta(hours=3)) is None  # long after the end: not due


def test_backup_and_restore_commands(running, kiosk_instance, tmp_path):
    out = tmp_path / "cli.tar"
    made = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "backup", "--out",
                                     str(out), "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["sha256"]
    restored = CliRunner().invoke(main, ["restore", str(out), "--to", str(tmp_path / "s"),
                                         "--sqlite", "--json"])
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.output)["hand_ins"] == 1
    again = CliRunner().invoke(main, ["restore", str(out), "--to", str(tmp_path / "s")])
    assert again.exit_code == 1 and "not empty" in again.output


def test_automatic_backups_run_during_any_part_of_the_timetable(instance, tmp_path):
    """A module keyed A is a part of the day like the practical: backups run while it does."""
    from kiosk.config import Settings
    from kiosk.stations import timetable

    with instance.session() as session:
        timetable.replace(session, [timetable.Part("A", "模块A", "practical", 60, (15,), True)],
                          actor=CHIEF, now=clock.now())
        now = clock.now()
        assert not backup.due(instance, now, timedelta(hours=2))
        phases.start(session, "A", 60, actor=CHIEF, now=now)
        assert [p.key for p in timetable.parts(session, Settings())] == ["A"]
    assert backup.due(instance, now + timedelta(minutes=30), timedelta(hours=2))
    assert not backup.due(instance, now + timedelta(hours=4), timedelta(hours=2))


def test_backup_and_restore_draw_a_bar_per_stage_on_a_terminal_and_none_with_json(
        running, kiosk_instance, tmp_path):
    code, out, shown = in_a_terminal("--instance", str(kiosk_instance.path), "backup",
                                      "--out", str(tmp_path / "t.tar"))
    assert code == 0, shown
    for stage in ("复制数据库", "计算文件哈希 [", "写入备份 [", "校验备份 ["):
        assert stage in shown, shown
    assert "100%" in shown and "备份已写入" not in shown  # the answer is on standard output
    assert str(tmp_path / "t.tar") in out
    code, out, shown = in_a_terminal("restore", str(tmp_path / "t.tar"), "--to",
                                      str(tmp_path / "standby"), "--sqlite")
    assert code == 0, shown
    assert "校验备份 [" in shown and "恢复文件 [" in shown and "核对恢复的作品归档 [" in shown
    code, out, shown = in_a_terminal("--instance", str(kiosk_instance.path), "backup",
                                      "--out", str(tmp_path / "j.tar"), "--json")
    assert code == 0 and json.loads(out)["sha256"]
    assert "[" not in shown and "%" not in shown  # a script reading --json gets no bar
