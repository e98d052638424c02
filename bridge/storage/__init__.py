"""Durable storage: SQLAlchemy Core over SQLite (embedded) or PostgreSQL, schema under Alembic migrations.

`Storage` (facade.py) is the interface the rest of the bridge uses: one per database per process, with the
repositories as attributes (`storage.events`, `storage.deliveries`, …) and `storage.transaction()` for several
operations in one transaction. `Database` owns the engine and the few dialect-specific statements.
"""

from bridge.storage.database import Database
from bridge.storage.events import EventRecord, Events, NewEvent
from bridge.storage.facade import Storage, Transaction

__all__ = ["Database", "EventRecord", "Events", "NewEvent", "Storage", "Transaction"]
