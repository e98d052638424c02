"""Stored rows and bytes per table (spec §16: `/metrics` shows what the bridge keeps), read at most once a
minute per process: a scrape every few seconds must not count a large table each time.

Bytes: on PostgreSQL `pg_total_relation_size` (table, indexes and TOAST); on SQLite the `dbstat` virtual
table's pages (table and its indexes) where SQLite is built with it (CPython's usually is), else an estimate:
the sum of `length()` of every column (`method` says which).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, func, select, text
from sqlalchemy.exc import DBAPIError

from bridge.storage.database import Database
from bridge.storage.tables import metadata

log = logging.getLogger(__name__)

#: Seconds a reading is reused.
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class TableSizes:
    """Rows and bytes per table, and how the bytes were measured."""

    rows: dict[str, int]
    bytes: dict[str, int]
    method: str  # pg_total_relation_size | dbstat | length_estimate


_cache: dict[str, tuple[float, TableSizes]] = {}
_lock = threading.Lock()


def table_sizes(db: Database, *, now: float | None = None) -> TableSizes:
    """The sizes of every table the bridge declares, from a reading at most CACHE_SECONDS old."""
    key = f"{id(db.engine)}:{db.url}"  # one engine per Database: a test schema of its own is a reading of its own
    moment = time.monotonic() if now is None else now
    with _lock:
        cached = _cache.get(key)
        if cached is not None and moment - cached[0] < CACHE_SECONDS:
            return cached[1]
    sizes = measure(db)
    with _lock:
        _cache[key] = (moment, sizes)
    return sizes


def measure(db: Database) -> TableSizes:
    """Count rows and measure bytes now (one read transaction)."""
    names = sorted(metadata.tables)
    with db.read() as conn:
        rows = {
            name: int(conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one())
            for name in names
        }
        if not db.is_sqlite:
            size = text("SELECT pg_total_relation_size(to_regclass(:t))")
            found = {name: int(conn.execute(size, {"t": name}).scalar() or 0) for name in names}
            return TableSizes(rows, found, "pg_total_relation_size")
        pages = _dbstat(conn)
        if pages is not None:
            return TableSizes(rows, {name: pages.get(name, 0) for name in names}, "dbstat")
        return TableSizes(rows, {name: length_estimate(conn, name) for name in names}, "length_estimate")


def _dbstat(conn: Connection) -> dict[str, int] | None:
    """Bytes of pages per table, its indexes counted with it; None without the dbstat table."""
    try:  # a failed SELECT leaves SQLite's transaction usable: the estimate follows in the same one
        rows = conn.execute(
            text(
                "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat AS d JOIN sqlite_master AS m ON m.name = d.name"
                " GROUP BY m.tbl_name"
            )
        ).all()
    except DBAPIError:
        return None
    return {str(name): int(size or 0) for name, size in rows}


def length_estimate(conn: Connection, name: str) -> int:
    """The sum of every column's `length()` (what the rows hold, without page and index overhead)."""
    table = metadata.tables[name]
    total = sum(func.coalesce(func.sum(func.length(column)), 0) for column in table.columns)
    # `0 + coalesce(…) + …`: an SQL expression (sum() starts from the int 0, which mypy cannot see through).
    return int(conn.execute(select(cast(ColumnElement[Any], total))).scalar_one() or 0)


def gauges(db: Database) -> Iterator[Any]:
    """Stored rows and bytes per table (spec §16), from a reading at most a minute old."""
    from prometheus_client.core import GaugeMetricFamily

    try:
        sizes = table_sizes(db)
    except Exception as exc:  # the queue figures above still answer
        log.warning("metrics: table sizes unavailable", extra={"error": type(exc).__name__})
        return
    rows = GaugeMetricFamily(
        "bridge_table_rows", "Rows stored per table (counted at most once a minute).", labels=["table"]
    )
    size = GaugeMetricFamily(
        "bridge_table_bytes", f"Bytes stored per table, indexes included ({sizes.method}).", labels=["table"]
    )
    for table in sorted(sizes.rows):
        rows.add_metric([table], sizes.rows[table])
        size.add_metric([table], sizes.bytes.get(table, 0))
    method = GaugeMetricFamily("bridge_table_bytes_method", "How bridge_table_bytes is measured.", labels=["method"])
    method.add_metric([sizes.method], 1)
    yield from (rows, size, method)
