"""The database: one engine per app, typed models on one metadata, Alembic for every schema change.

SQLite (the default) runs in WAL mode with `synchronous=FULL`, so a committed answer is on disk
before the kiosk hears "saved". Write transactions start with `BEGIN IMMEDIATE`: a deferred
transaction that reads first and writes later can fail with "database is locked" when another
writer got in between, and under 500 kiosks that would happen. Reads stay deferred so that polling
kiosks never queue behind writers. PostgreSQL runs the same code through `KIOSK_DATABASE_URL`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kiosk.errors import N_, KioskError

# Constraint names that Alembic can find again on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_OPTION = "kiosk_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones; naive values are a bug)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use kiosk.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Connections an engine keeps. A server asks for one per thread that may hold one at once
# (kiosk.serve.connections_for): a request holds its connection until it has answered, an answer
# save too while it waits for its group commit, so 16 threads hold up to 16 and 96 up to 96.
DEFAULT_POOL_SIZE = 20


def make_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2,
                               pool_timeout=60)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_timeout=60)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Take transaction control away from the sqlite3 module, so that _sqlite_on_begin decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Deleted rows are overwritten with zeros: sealed draw pairs must not linger in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: views render what a service just wrote.
    return sessionmaker(engine, expire_on_commit=False)


# SQLite lets one writer in at a time. Waiting in its busy handler means sleeping in coarse steps
# (up to 100 ms); threads of this process queue on a lock instead and go in the moment the
# previous writer commits. Other processes (the CLI during the exam) still meet busy_timeout.
_sqlite_writer_locks: dict[int, threading.RLock] = {}
_locks_guard = threading.Lock()


def _writer_lock(session: Session) -> threading.RLock | None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    with _locks_guard:
        return _sqlite_writer_locks.setdefault(id(bind), threading.RLock())


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: BEGIN IMMEDIATE on SQLite, commit on success, rollback on error.

    A read transaction still open on this session is finished first: upgrading it to a write is
    exactly what fails under concurrency.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unflushed changes outside a write transaction")
        session.commit()
    lock = _writer_lock(session)
    if lock is not None:
        lock.acquire()
    try:
        session.connection(execution_options={WRITE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        if lock is not None:
            lock.release()


# ----------------------------------------------------------------------------- migrations

def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("kiosk") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    command.upgrade(_alembic_config(engine), "head")


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(_alembic_config(None))  # type: ignore[arg-type]
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


def sqlite_path(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database)


# ----------------------------------------------------------------------------- searching text

# Longer than anything a person types into a search box; SQLite refuses a LIKE pattern past
# 50 000 bytes ("LIKE or GLOB pattern too complex"), which would be a 500.
MAX_SEARCH = 200


def search_text(text: str, *, limit: int = MAX_SEARCH) -> str:
    """What a person typed into a search box, refused with the limit named when too long."""
    if len(text) > limit:
        raise KioskError(N_("The search is too long: at most %(max)s characters."), max=limit)
    return text


def contains_text(column, text: str, *, limit: int = MAX_SEARCH):
    """`column` contains `text` as typed: `%` and `_` are letters like any other. The one way
    kiosk searches what people typed."""
    return column.contains(search_text(text, limit=limit), autoescape=True)


def starts_with_text(column, text: str, *, limit: int = MAX_SEARCH):
    return column.startswith(search_text(text, limit=limit), autoescape=True)
