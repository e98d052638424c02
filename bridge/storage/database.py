"""The database handle: transactions (each within its time bound), migrations, and the few statements that
differ by dialect. The engines themselves are set up in engines.py."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Table, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.sql.dml import Insert

from bridge.errors import StorageUnavailable
from bridge.storage import bounded
from bridge.storage.engines import Pool, busy_timeout, make_engine, tcp_arguments
from bridge.storage.prepared import Outcome, PreparedStatement
from bridge.storage.prepared import run as run_prepared

if TYPE_CHECKING:
    from bridge.settings_core import CoreSettings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"

#: The bound on one database operation outside the request path (the worker, the command line): long enough for
#: any statement this code runs on a healthy database, short enough that a stalled one never holds a thread.
BACKGROUND_OPERATION_TIMEOUT = 30.0

#: A writer that queued this long behind its own process's writers has its SQLite busy timeout shortened to the
#: operation's time left (one PRAGMA); a shorter queue is not worth the statement.
_QUEUE_WORTH_SHORTENING = 0.01


class Database:
    """One engine per process. `write()` and `read()` give a connection inside a transaction."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        operation_timeout: float | None = None,
        pool_size: int = 8,
        max_overflow: int = 16,
        echo: bool = False,
        durable: bool = True,
    ) -> None:
        """`timeout`: how long to wait for the database's lock (SQLite's busy timeout) or for a new connection.
        `operation_timeout` (default: the longer of `timeout` and 30 s): the most one `read()`, `write()` or
        prepared statement may take in all, pool checkout, pre-ping, lock waits, statements and commit together,
        before it raises StorageUnavailable; the web passes `timeout` (see `for_settings`).

        `durable=False` (the worker) commits without waiting for the disk: SQLite `synchronous=NORMAL`
        (WAL: safe against a process crash, the last commits can be lost to a power cut), PostgreSQL
        `synchronous_commit=off`. Worker state can afford it: a call whose record is lost is made again and
        lands on the idempotent lookup/duplicate path. Webhook acks always use `durable=True`."""
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.durable = durable
        self.timeout = timeout
        self.operation_timeout = operation_timeout or max(timeout, BACKGROUND_OPERATION_TIMEOUT)
        self.engine = make_engine(
            self.url,
            durable=durable,
            timeout=timeout,
            operation_timeout=self.operation_timeout,
            pool=Pool(pool_size, max_overflow),
            echo=echo,
        )
        # SQLite admits one writer at a time, and its busy handler waits by sleeping (up to 100 ms a try), not by
        # queueing. Threads of one process therefore queue here, where the hand-over is immediate; other
        # processes still meet SQLite's lock and its busy timeout.
        self._sqlite_writers = threading.Lock()

    @classmethod
    def for_settings(cls, settings: CoreSettings, *, serving_requests: bool = False, durable: bool = True) -> Database:
        """The database as `settings` describe it. `serving_requests` (the web): every operation ends within
        BRIDGE_DB_TIMEOUT, so a stalled database costs a webhook a 503, not a hung request."""
        return cls(
            settings.database_url,
            timeout=settings.db_timeout,
            operation_timeout=settings.db_timeout if serving_requests else None,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_overflow,
            durable=durable,
        )

    # -- engine -------------------------------------------------------------------------------------------

    def listener_arguments(self) -> dict[str, Any]:
        """psycopg connect arguments for a connection of its own outside the pool (the worker's LISTEN)."""
        return {
            "connect_timeout": max(bounded.MIN_CONNECT_TIMEOUT, int(self.timeout)),
            **tcp_arguments(self.operation_timeout),
        }

    def dispose(self) -> None:
        """Close pooled connections (after fork, and at shutdown)."""
        self.engine.dispose()

    # -- transactions ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on exit. SQLite takes the write lock up front (BEGIN IMMEDIATE) so a
        read-then-write transaction can never fail half-way on a lock upgrade."""
        with (
            bounded.operation(self.operation_timeout),
            self._translate_errors(),
            self.engine.connect() as conn,
            self.writer_turn(conn.connection.driver_connection),
            conn.execution_options(sqlite_begin="IMMEDIATE").begin(),
        ):
            yield conn

    def write_one(self, statement: Any, parameters: dict[str, Any] | None = None) -> None:
        """Execute one statement as a transaction of its own, committed before this returns."""
        with self.write() as conn:
            conn.execute(statement, parameters)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot)."""
        with (
            bounded.operation(self.operation_timeout),
            self._translate_errors(),
            self.engine.connect() as conn,
            conn.begin(),
        ):
            yield conn

    @contextlib.contextmanager
    def writer_turn(self, driver_connection: Any) -> Iterator[None]:
        """On SQLite, this thread's turn to write: behind this process's other writers, then SQLite's own lock
        against other processes, the two waits within the current operation's time (StorageUnavailable when it
        runs out). PostgreSQL has no such queue."""
        if not self.is_sqlite:
            yield
            return
        left = bounded.time_left()
        started = time.monotonic()
        wait = -1 if left is None or math.isinf(left) else max(left, 0.0)  # -1: as long as it takes
        if not self._sqlite_writers.acquire(timeout=wait):
            log.warning("database unavailable: this process's other writers held the write lock too long")
            raise StorageUnavailable("database unavailable: the write lock was held too long")
        try:
            queued = time.monotonic() - started
            busy = self.timeout if left is None else min(self.timeout, left - queued)
            if busy < self.timeout and queued >= _QUEUE_WORTH_SHORTENING:
                if busy <= 0:
                    raise StorageUnavailable("database unavailable: the write lock was held too long")
                with busy_timeout(driver_connection, busy, restore=self.timeout):
                    yield
            else:
                yield
        finally:
            self._sqlite_writers.release()

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated):
                raise  # integrity and programming errors are bugs or conflicts, not outages
            log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
            raise StorageUnavailable(f"database unavailable: {exc.orig or exc}") from exc
        except PoolTimeout as exc:
            # Every pooled connection busy for the whole operation bound (BRIDGE_DB_POOL_SIZE + _OVERFLOW in use).
            log.warning("database unavailable: no free connection in the pool")
            raise StorageUnavailable("database unavailable: no free connection in the pool") from exc

    def prepare(self, statement: Any, column_keys: list[str] | None = None) -> PreparedStatement:
        """`statement` compiled once for this database, to run with `run_prepared` (the webhook ack's path)."""
        return PreparedStatement.compile(statement, self.engine.dialect, column_keys)

    def run_prepared(self, prepared: PreparedStatement, values: dict[str, Any], *, write: bool) -> Outcome:
        """Execute a prepared statement as its own transaction (committed before this returns when `write`)."""
        return run_prepared(self, prepared, values, write=write)

    # -- dialect-specific statements -----------------------------------------------------------------------

    def insert_ignoring_conflicts(self, table: Table, *index_elements: str) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING on the given unique columns (none given: on any unique constraint)."""
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        return dialect_insert(table).on_conflict_do_nothing(index_elements=list(index_elements) or None)

    def upsert(self, table: Table, index_elements: list[str], values: dict[str, Any], update: dict[str, Any]) -> Any:
        """INSERT … ON CONFLICT (index_elements) DO UPDATE SET update; `update` values may use `excluded`."""
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        statement = dialect_insert(table).values(**values)
        resolved = {k: (v(statement.excluded) if callable(v) else v) for k, v in update.items()}
        return statement.on_conflict_do_update(index_elements=index_elements, set_=resolved)

    # -- health and migrations ------------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise StorageUnavailable unless a trivial query succeeds."""
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    @cached_property
    def head_revision(self) -> str | None:
        """The newest migration shipped with this code."""
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        """The migration the database is at (None for an empty database)."""
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        """True when the database schema is at the code's head revision."""
        return self.current_revision() == self.head_revision

    def upgrade(self) -> None:
        """Apply pending migrations (idempotent; safe to run at every start). No time limit: a migration may
        rewrite a large table, and other hosts starting at the same time wait for it. A database already at
        the head is only read: on SQLite a worker starting beside another one's long write (planning a
        10,000-event backfill) must not need the write lock, which it could wait for past its busy timeout."""
        if self.is_current():
            return
        cfg = self._alembic_config()
        with bounded.unbounded(), self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(text("SET LOCAL statement_timeout = 0"))
                    # Several hosts may start at once: one migrates, the others wait and then find nothing to do.
                    conn.execute(text("SELECT pg_advisory_xact_lock(727462, hashtext(current_schema()))"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        return cfg
