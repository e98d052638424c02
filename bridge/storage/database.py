"""The database handle: engine set-up, transactions, migrations, and the few statements that differ by dialect."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.sql.dml import Insert

from bridge.errors import StorageUnavailable
from bridge.storage.prepared import Outcome, PreparedStatement
from bridge.storage.prepared import run as run_prepared

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """One engine per process. `write()` and `read()` give a connection inside a transaction."""

    def __init__(self, url: str, *, timeout: float = 2.0, echo: bool = False, durable: bool = True) -> None:
        """`durable=False` (the worker) commits without waiting for the disk: SQLite `synchronous=NORMAL`
        (WAL: safe against a process crash, the last commits can be lost to a power cut), PostgreSQL
        `synchronous_commit=off`. Worker state can afford it: a call whose record is lost is made again and
        lands on the idempotent lookup/duplicate path. Webhook acks always use `durable=True`."""
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.durable = durable
        self.engine = self._make_engine(timeout=timeout, echo=echo)
        # SQLite admits one writer at a time, and its busy handler waits by sleeping (up to 100 ms a try), not by
        # queueing. Threads of one process therefore queue here, where the hand-over is immediate; other
        # processes still meet SQLite's lock and its busy timeout.
        self.write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    # -- engine -------------------------------------------------------------------------------------------

    def _make_engine(self, *, timeout: float, echo: bool) -> Engine:
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url,
                echo=echo,
                # Statement parameters are webhook contents (customer emails): never in an exception or a log.
                hide_parameters=True,
                connect_args={"timeout": timeout, "check_same_thread": False},
                pool_size=8,
                max_overflow=16,
            )
            _configure_sqlite(engine, synchronous="FULL" if self.durable else "NORMAL")
            return engine
        engine = create_engine(
            self.url,
            echo=echo,
            hide_parameters=True,
            pool_pre_ping=True,
            pool_size=8,
            max_overflow=16,
            connect_args={"connect_timeout": max(1, int(timeout))},
        )
        if not self.durable:

            @event.listens_for(engine, "connect")
            def _relaxed(dbapi_conn: Any, _record: Any) -> None:
                with dbapi_conn.cursor() as cursor:
                    cursor.execute("SET synchronous_commit = off")
                dbapi_conn.commit()

        return engine

    def dispose(self) -> None:
        """Close pooled connections (after fork, and at shutdown)."""
        self.engine.dispose()

    # -- transactions ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on exit. SQLite takes the write lock up front (BEGIN IMMEDIATE) so a
        read-then-write transaction can never fail half-way on a lock upgrade."""
        with self.write_lock, self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    def write_one(self, statement: Any, parameters: dict[str, Any] | None = None) -> None:
        """Execute one statement as a transaction of its own, committed before this returns."""
        with self.write() as conn:
            conn.execute(statement, parameters)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot)."""
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated):
                raise  # integrity and programming errors are bugs or conflicts, not outages
            log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
            raise StorageUnavailable(f"database unavailable: {exc.orig or exc}") from exc

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
        """Apply pending migrations (idempotent; safe to run at every start)."""
        cfg = self._alembic_config()
        with self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if not self.is_sqlite:
                    # Several hosts may start at once: one migrates, the others wait and then find nothing to do.
                    conn.execute(text("SELECT pg_advisory_xact_lock(727462, hashtext(current_schema()))"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        return cfg


def _configure_sqlite(engine: Engine, *, synchronous: str) -> None:
    """WAL + synchronous=FULL: a commit is on disk before the 2xx. pysqlite's own transaction handling is turned
    off so that BEGIN is ours (the SQLAlchemy-documented recipe), which makes BEGIN IMMEDIATE possible."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())
