import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

import kiosk.all_models  # noqa: F401
from kiosk import audit, db
from kiosk.db import Base, write_transaction
from kiosk.models import AuditEvent


def test_migrations_build_exactly_the_models(instance):
    """No model change without a migration: autogenerate finds nothing left to do."""
    with instance.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert db.current_revision(instance.engine) == db.head_revision()


@pytest.mark.parametrize("database", ["sqlite"])
def test_sqlite_runs_durable_and_strict(instance):
    with instance.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_read_then_write_transactions_never_lock_or_lose(instance):
    """Eight writers that each read the chain head and append: with BEGIN IMMEDIATE (SQLite) and
    the locked head row (PostgreSQL) none fails with "database is locked" and none is lost."""
    errors: list[BaseException] = []
    per_thread = 15

    def writer(n: int) -> None:
        try:
            with instance.session() as session:
                for i in range(per_thread):
                    with write_transaction(session):
                        audit.record(session, audit.Actor(f"w{n}"), "test.write",
                                     at=audit_now(), subject=str(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with instance.session() as session:
        assert session.query(AuditEvent).count() == 8 * per_thread
        report = audit.verify_chain(session)
    assert report.ok and report.events == 8 * per_thread


def test_write_transaction_rolls_back_everything_on_error(session, actor, now):
    with pytest.raises(RuntimeError), write_transaction(session):
        audit.record(session, actor, "test.half", at=now)
        raise RuntimeError("boom")
    assert session.query(AuditEvent).count() == 0


def test_naive_datetimes_are_refused(session, actor):
    from datetime import datetime

    with pytest.raises(Exception, match="naive"), write_transaction(session):
        audit.record(session, actor, "test.naive", at=datetime(2026, 1, 1))


def audit_now():
    from kiosk.clock import now

    return now()


def _group_or_other_bits(path):
    return path.stat().st_mode & 0o077


def test_the_instance_and_the_database_are_readable_by_the_servers_user_only(tmp_path):
    """Issue 14, item 10: the database, its WAL and the instance folder hold the day (answers,
    the draw until its seal, staff hashes): no other account on the server may read them, even
    when the server runs under a permissive umask."""
    import os

    from kiosk import audit, clock
    from kiosk.instance import init_instance, open_instance

    previous = os.umask(0o022)
    try:
        path = tmp_path / "event"
        instance = init_instance(path, environ={})
        with instance.session() as session, session.begin():
            audit.record(session, audit.Actor.cli(), "test.write", at=clock.now())
        database = path / "kiosk.sqlite3"
        files = [path, database, database.with_name("kiosk.sqlite3-wal"),
                 database.with_name("kiosk.sqlite3-shm"), path / "config.toml",
                 *(path / folder for folder in ("keys", "archives", "exports", "backups"))]
        for item in files:
            assert item.exists(), item
            assert _group_or_other_bits(item) == 0, f"{item}: {oct(item.stat().st_mode)}"
        instance.engine.dispose()
        # An instance made by an older kiosk (or copied with cp) is tightened when opened.
        for item in (path, database, path / "archives"):
            item.chmod(0o755 if item.is_dir() else 0o644)
        reopened = open_instance(path, environ={})
        reopened.engine.dispose()
        for item in (path, database, path / "archives"):
            assert _group_or_other_bits(item) == 0, item
    finally:
        os.umask(previous)
