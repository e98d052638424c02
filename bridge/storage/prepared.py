"""Statements compiled once and run on the driver's own cursor: the webhook ack's insert and its lookups.

A webhook request makes one or two statements, and SQLAlchemy's per-execution work (the compiled-cache
lookup, parameter and result processing, connection events) cost more CPU than SQLite's insert and fsync
themselves: measured with bench/profile_ingest.py, `Events.record` took 558 µs of CPU through
`Connection.execute` and 225 µs this way. The SQL and the type conversions are SQLAlchemy's own (compiled for
the engine's dialect, each column's bind processor), so the rows written are the same.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from bridge.errors import StorageUnavailable
from bridge.storage import bounded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a prepared statement did: rows changed, the new row id (SQLite), the first row it returned."""

    rowcount: int
    lastrowid: int | None
    first: tuple[Any, ...] | None


@dataclass(frozen=True)
class PreparedStatement:
    """One statement compiled for one dialect, with each parameter's conversion to the driver's value."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    #: Values fixed in the statement itself (a LIMIT), used when `values` does not name them.
    fixed: dict[str, Any]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Any, column_keys: list[str] | None = None) -> PreparedStatement:
        """Compile `statement`; for an INSERT, `column_keys` are the columns it writes."""
        # A SELECT or DML statement compiles with the dialect's SQLCompiler (bind names, positions).
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=column_keys))
        by_name = {name: param for param, name in compiled.bind_names.items()}
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(by_name)
        processors = tuple(by_name[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        fixed = {name: param.value for name, param in by_name.items() if not param.required}
        return cls(compiled.string, names, processors, bool(compiled.positional), fixed)

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values` (keyed by column or bind name)."""
        given = (values[name] if name in values else self.fixed[name] for name in self.names)
        converted = [
            value if process is None else process(value) for value, process in zip(given, self.processors, strict=True)
        ]
        return tuple(converted) if self.positional else dict(zip(self.names, converted, strict=True))


class Target(Protocol):
    """What running a prepared statement needs of the database handle (`Database` provides it). Declared here,
    so this module, which database.py builds on, never imports database.py."""

    engine: Engine
    is_sqlite: bool
    operation_timeout: float

    def writer_turn(self, driver_connection: Any) -> AbstractContextManager[None]:
        """This thread's turn to write (SQLite)."""


def run(db: Target, prepared: PreparedStatement, values: dict[str, Any], *, write: bool) -> Outcome:
    """Execute `prepared` as a transaction of its own (committed before this returns when `write`).

    On SQLite the connection is in autocommit mode (see database._configure_sqlite): taking the write lock,
    writing and committing (the fsync) happen inside one call into SQLite, so the database lock is never held
    while this thread waits for the GIL behind the request threads."""
    parameters = prepared.parameters(values)
    with bounded.operation(db.operation_timeout):
        try:
            return _execute(db, prepared, parameters, write=write)
        except _StaleReadOnly:
            # SQLite opens a file it cannot write read-only, silently, and such a connection stays read-only
            # after the file is writable again (a disk remounted, permissions fixed). It has been dropped: try
            # once more on a fresh one, so the first webhook after the repair is not refused. Its siblings in the
            # pool may have been opened at the same time: all are replaced.
            db.engine.dispose()
            return _execute(db, prepared, parameters, write=write, last_try=True)


class _StaleReadOnly(Exception):
    """A pooled SQLite connection refused a write as read-only (it has been invalidated)."""


def _execute(
    db: Target, prepared: PreparedStatement, parameters: Any, *, write: bool, last_try: bool = False
) -> Outcome:
    with _driver_errors(db, retry_read_only=write and db.is_sqlite and not last_try) as raw:
        cursor = raw.cursor()
        try:
            if write and db.is_sqlite:
                with db.writer_turn(raw.driver_connection):
                    cursor.execute(prepared.sql, parameters)
            else:
                cursor.execute(prepared.sql, parameters)
            first = cursor.fetchone() if cursor.description else None
            outcome = Outcome(cursor.rowcount, getattr(cursor, "lastrowid", None), tuple(first) if first else None)
        finally:
            cursor.close()
        if not db.is_sqlite:
            raw.commit() if write else raw.rollback()
        return outcome


@contextlib.contextmanager
def _driver_errors(db: Target, *, retry_read_only: bool = False) -> Iterator[Any]:
    """A pooled driver connection; the driver's outage errors become StorageUnavailable (as in Database)."""
    dbapi = db.engine.dialect.loaded_dbapi
    try:
        raw = db.engine.raw_connection()
    except Exception as exc:  # SQLAlchemy wraps a failed connect in its own DBAPIError
        log.warning("database unavailable: %s", type(exc).__name__)
        raise StorageUnavailable(f"database unavailable: {exc}") from exc
    try:
        yield raw
    except (dbapi.OperationalError, dbapi.InterfaceError) as exc:
        with contextlib.suppress(Exception):
            raw.invalidate()  # the pool must not hand this connection out again
        if retry_read_only and getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
            raise _StaleReadOnly from exc
        log.warning("database unavailable: %s", type(exc).__name__)
        raise StorageUnavailable(f"database unavailable: {exc}") from exc
    except BaseException:
        with contextlib.suppress(Exception):
            raw.rollback()
        raise
    finally:
        raw.close()  # back to the pool (a no-op after invalidate)
