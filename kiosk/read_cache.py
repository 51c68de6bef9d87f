"""Reads that many requests share, kept for a moment per process (the clock poll, issue 19).

A `SharedRead` keeps what it read of a few tables, per database and key (the session in
scope), for at most `seconds`; a commit in this process that wrote to one of those tables drops
it at once, so the next request reads again. Writes are seen where every write of kiosk goes
through: a flush of ORM rows (new, changed, deleted), an ORM-enabled INSERT / UPDATE / DELETE
and a text statement that writes, all on a `Session`. A write made in another process (a
second server, the command line) is seen within `seconds`: keep it shorter than the poll that
must see the change (the kiosks' clock: 5 s).

Only rows are kept, never the time: whatever a request derives from them at its own moment
(states, deadlines, the server's time) it derives itself.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")

_TOUCHED = "kiosk.read_cache.touched"  # session.info: the tables written in its transaction
_WRITES = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_reads: list[SharedRead] = []
_reads_guard = threading.Lock()


class SharedRead(Generic[T]):
    """`read(session)` of the tables `tables`, kept per database and key for `seconds`."""

    clock: Callable[[], float] = staticmethod(time.monotonic)  # a test may move it on

    def __init__(self, tables: Iterable[str], seconds: float) -> None:
        self.tables = frozenset(tables)
        self.seconds = seconds
        self._generation = 0
        self._lock = threading.Lock()
        # engine → key → (generation, read at, value); an engine disposed takes its values along
        self._kept: weakref.WeakKeyDictionary[Any, dict[Hashable, tuple[int, float, T]]] = \
            weakref.WeakKeyDictionary()
        with _reads_guard:
            _reads.append(self)

    def get(self, session: Session, key: Hashable, read: Callable[[Session], T]) -> T:
        engine = session.get_bind()
        now = self.clock()
        with self._lock:
            generation = self._generation
            kept = self._kept.get(engine, {}).get(key)
        if kept is not None and kept[0] == generation and now - kept[1] < self.seconds:
            return kept[2]
        value = read(session)
        with self._lock:
            # Read before a write committed meanwhile: used once, not kept.
            if self._generation == generation:
                self._kept.setdefault(engine, {})[key] = (generation, now, value)
        return value

    def forget(self) -> None:
        """Drop every kept value (a write this process made elsewhere than on a Session)."""
        with self._lock:
            self._generation += 1
            self._kept.clear()


def _touched(session: Session, tables: Iterable[str]) -> None:
    session.info.setdefault(_TOUCHED, set()).update(tables)


@event.listens_for(Session, "before_flush")
def _rows_written(session: Session, _context, _instances) -> None:
    tables = {type(row).__table__.name for row in (*session.new, *session.dirty,
                                                    *session.deleted)
              if hasattr(type(row), "__table__")}
    if tables:
        _touched(session, tables)


@event.listens_for(Session, "do_orm_execute")
def _statement_writes(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if table is not None:
            _touched(state.session, {table.name})
    elif isinstance(statement, TextClause):
        found = _WRITES.match(statement.text)
        if found:
            _touched(state.session, {found.group(1).lower()})


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    tables = session.info.pop(_TOUCHED, None)
    if not tables:
        return
    with _reads_guard:
        reads = list(_reads)
    for shared in reads:
        if shared.tables & tables:
            shared.forget()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
