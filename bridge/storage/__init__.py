"""Durable storage: SQLAlchemy Core over SQLite (embedded) or PostgreSQL, schema under Alembic migrations.

`Database` owns the engine and the few dialect-specific statements; the repositories (`EventStore`, …) are the
narrow interface the rest of the bridge uses.
"""

from bridge.storage.database import Database
from bridge.storage.events import EventRecord, EventStore, NewEvent

__all__ = ["Database", "EventRecord", "EventStore", "NewEvent"]
