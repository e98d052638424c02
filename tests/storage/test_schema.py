"""The migrations build exactly the tables `bridge/storage/tables.py` declares, on both backends (several
engineers add migrations; a drift would only show in production)."""

from __future__ import annotations

import sqlite3
import time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bridge.storage import Database
from bridge.storage.tables import metadata


def test_migrated_schema_matches_the_table_definitions(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, metadata)
    # Index and constraint names differ legitimately between SQLite batch migrations and metadata naming;
    # what must never differ is a table or a column.
    structural = [d for d in differences if d[0] in ("add_table", "remove_table", "add_column", "remove_column")]
    assert structural == [], structural


def test_there_is_one_migration_head(db: Database) -> None:
    assert db.current_revision() == db.head_revision


def test_starting_on_a_migrated_database_needs_no_write_lock(tmp_path) -> None:
    """A second worker starts while another process holds SQLite's write lock past the busy timeout (a long
    planning transaction): its start-up migration check only reads, instead of failing with "database is
    locked" and exiting."""
    path = tmp_path / "bridge.db"
    Database(f"sqlite:///{path}").upgrade()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        Database(f"sqlite:///{path}", timeout=0.2).upgrade()
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
