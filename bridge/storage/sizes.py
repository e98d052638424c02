"""Stored rows and bytes per table (spec §16: `/metrics` shows what the bridge keeps), read at most once a
minute per process: a scrape every few seconds must not count a large table each time.

Bytes: on PostgreSQL `pg_total_relation_size` (table, indexes and TOAST); on SQLite the `dbstat` virtual
table's pages (table and its indexes) where SQLite is built with it (CPython's usually is), else an estimate:
the sum of `length()` of every column (`method` says which).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError

from bridge.storage.database import Database
from bridge.storage.tables import metadata

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
        return TableSizes(rows, {name: _length_estimate(conn, name) for name in names}, "length_estimate")


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


def _length_estimate(conn: Connection, name: str) -> int:
    """The sum of every column's `length()` (what the rows hold, without page and index overhead)."""
    table = metadata.tables[name]
    total = sum(func.coalesce(func.sum(func.length(column)), 0) for column in table.columns)
    return int(conn.execute(select(total)).scalar_one() or 0)
