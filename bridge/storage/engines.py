"""Engine set-up per dialect: pooling, the driver's connect arguments, each new connection's session settings.

SQLite: WAL, `synchronous` FULL (the web) or NORMAL (the worker), BEGIN issued by us. PostgreSQL: connections
whose every wait ends by the operation's deadline (`pg_connection.py`), keepalives, a server-side
statement_timeout, `synchronous_commit=off` for the worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import URL, Connection, Engine, create_engine, event

from bridge.storage import bounded


class Pool(NamedTuple):
    """Connections a process keeps open, and how many more it may open under load."""

    size: int = 8
    overflow: int = 16


def make_engine(
    url: URL, *, durable: bool, timeout: float, operation_timeout: float, pool: Pool, echo: bool = False
) -> Engine:
    """The engine for `url`. `timeout`: SQLite's busy timeout, PostgreSQL's connect timeout; `operation_timeout`:
    the longest wait for a pooled connection, and PostgreSQL's statement_timeout and stall limit."""
    pooling = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": operation_timeout}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            # Statement parameters are webhook contents (customer emails): never in an exception or a log.
            hide_parameters=True,
            connect_args={"timeout": timeout, "check_same_thread": False},
            **pooling,
        )
        _configure_sqlite(engine, synchronous="FULL" if durable else "NORMAL")
        return engine
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args=tcp_arguments(operation_timeout),
        **pooling,
    )
    _configure_postgres(engine, timeout=timeout, operation_timeout=operation_timeout, durable=durable)
    return engine


def tcp_arguments(operation_timeout: float) -> dict[str, Any]:
    """libpq socket options: keepalives find a dead peer or path under an idle pooled or listening connection,
    and `tcp_user_timeout` drops a connection whose sent data goes unacknowledged (a path that silently drops
    packets). Neither fires while a stalled server's kernel still acknowledges; pg_connection.py covers that."""
    return {
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": int(max(operation_timeout, 1.0) * 1000),
    }


def _configure_postgres(engine: Engine, *, timeout: float, operation_timeout: float, durable: bool) -> None:
    """Connections are `BoundedConnection`s (no wait outlives the operation's deadline), opened with a
    connect timeout cut to the operation's time left; each session gets a server-side statement_timeout of
    the operation bound (the server then ends a runaway statement and frees its locks itself) and, for the
    worker, synchronous_commit=off."""
    from bridge.storage.pg_connection import BoundedConnection, DatabaseStalled

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        seconds = bounded.connect_timeout(timeout)
        if seconds is None:
            raise DatabaseStalled("no time left to connect to the database")
        cparams["connect_timeout"] = seconds
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.stall_limit = operation_timeout
        return connection

    session = [f"SET statement_timeout = {int(operation_timeout * 1000)}"]
    if not durable:
        session.append("SET synchronous_commit = off")

    @event.listens_for(engine, "connect")
    def _session(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("; ".join(session))
        dbapi_conn.commit()


@contextlib.contextmanager
def busy_timeout(driver_connection: Any, seconds: float, *, restore: float) -> Iterator[None]:
    """SQLite's busy timeout set to `seconds` for the block, then back to `restore`."""
    driver_connection.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
    try:
        yield
    finally:
        driver_connection.execute(f"PRAGMA busy_timeout = {int(restore * 1000)}")


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
