"""The SQL statements a piece of code runs, counted: the one helper of every test that holds a
hot path or a page to its number of statements (a change that adds a read fails there, not on
exam day)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def engine_of(where) -> Engine:
    """The engine of `where`: an Engine, a Session (its bind) or kiosk's Flask app."""
    if isinstance(where, Engine):
        return where
    if hasattr(where, "extensions") and "kiosk" in where.extensions:
        return where.extensions["kiosk"].engine
    return where.get_bind()


@contextmanager
def statements(where, *, transactions: bool = True) -> Iterator[list[str]]:
    """Every statement run on `where`'s database meanwhile (any connection of its engine: a
    group commit's too), each on one line; without BEGIN, COMMIT and ROLLBACK unless
    `transactions`."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _executemany):
        if transactions or not statement.lstrip().startswith(TRANSACTION_CONTROL):
            seen.append(" ".join(statement.split()))

    engine = engine_of(where)
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
