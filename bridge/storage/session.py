"""What a repository runs its statements through: the `Database` itself (each operation its own transaction) or
an open `Transaction` (every operation inside it). Both answer the same few calls, so each repository method is
written once and the facade decides the connection."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy import Connection, Table
from sqlalchemy.sql.dml import Insert

from bridge.storage.prepared import Outcome, PreparedStatement


class Session(Protocol):
    """The calls a repository makes; `Database` and `Transaction` both provide them."""

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite (a few statements differ by dialect)."""

    def read(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction that only reads."""

    def write(self) -> AbstractContextManager[Connection]:
        """A connection in a write transaction (SQLite: the write lock is held from its start)."""

    def write_one(self, statement: Any, parameters: dict[str, Any] | None = None) -> None:
        """Execute one statement as a write."""

    def insert_ignoring_conflicts(self, table: Table, *index_elements: str) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING for this dialect."""

    def upsert(self, table: Table, index_elements: list[str], values: dict[str, Any], update: dict[str, Any]) -> Any:
        """INSERT … ON CONFLICT DO UPDATE for this dialect."""

    def prepare(self, statement: Any, column_keys: list[str] | None = None) -> PreparedStatement:
        """`statement` compiled once for this dialect."""

    def run_prepared(self, prepared: PreparedStatement, values: dict[str, Any], *, write: bool) -> Outcome:
        """Execute a prepared statement."""
