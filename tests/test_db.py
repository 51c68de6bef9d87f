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
