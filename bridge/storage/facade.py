"""The storage facade: one `Storage` per database per process, holding every repository, and the one way to run
several operations in one transaction (`with storage.transaction() as tx:`).

Guarantees, stated once here and per operation in each repository's docstrings:

- An operation called on a repository of `storage` (`storage.events.get(…)`) is a transaction of its own: it
  commits before it returns, or raises and leaves nothing behind.
- Operations called on a repository of `tx` (`tx.events.set_status(…)`) run inside that one write transaction:
  all of them commit when the `with` block ends normally, none of them when it raises. On SQLite the write lock
  is taken when the block starts (BEGIN IMMEDIATE), so a read-then-write block cannot fail half-way on a lock
  upgrade, and writers of this process queue for it; on PostgreSQL the isolation is READ COMMITTED and an
  operation that says it locks rows (FOR UPDATE) holds those locks until the block ends.
- Every operation ends within the database's operation bound (BRIDGE_DB_TIMEOUT in the web, 30 s elsewhere) or
  raises StorageUnavailable; a whole `tx` block shares one bound.
- Repositories are safe to share between threads: they hold compiled statements and, for `throttles`, this
  process's view of its own pauses, never a connection.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Connection, Table, text
from sqlalchemy.sql.dml import Insert

from bridge.storage.admin_access import AdminSessions, AuthFailures
from bridge.storage.database import Database
from bridge.storage.deliveries import Deliveries
from bridge.storage.erasure import Erasure
from bridge.storage.events import Events
from bridge.storage.jobs import Jobs
from bridge.storage.prepared import Outcome, PreparedStatement
from bridge.storage.queries import OperatorQueries
from bridge.storage.remote import AppliedVersions, RemoteRecords, RemoteState
from bridge.storage.retention import Retention
from bridge.storage.server_secrets import ServerSecrets
from bridge.storage.sweeps import Sweeps
from bridge.storage.throttles import Throttles
from bridge.storage.timers import Timers

if TYPE_CHECKING:
    from bridge.settings_core import CoreSettings
    from bridge.storage.session import Session


class _Repository(Protocol):
    db: Session


_R = TypeVar("_R", bound=_Repository)

_facades: weakref.WeakKeyDictionary[Database, Storage] = weakref.WeakKeyDictionary()
_facades_lock = threading.Lock()


class Storage:
    """Every repository of one database, built once. `storage.db` stays the handle for what is not a
    repository's business (migrations, health pings, disposing of the pool after fork)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events = Events(db)
        self.deliveries = Deliveries(db)
        self.timers = Timers(db)
        self.throttles = Throttles(db)
        self.applied_versions = AppliedVersions(db)
        self.sweeps = Sweeps(db)
        self.jobs = Jobs(db)
        self.retention = Retention(db)
        self.erasure = Erasure(db)
        self.queries = OperatorQueries(db)
        self.server_secrets = ServerSecrets(db)
        self.admin_sessions = AdminSessions(db)

    @classmethod
    def of(cls, db: Database) -> Storage:
        """The one facade of `db` in this process (built on first use): every component handed the same database
        shares its repositories, so this process's throttle holds are seen by all its threads."""
        with _facades_lock:
            storage = _facades.get(db)
            if storage is None:
                storage = _facades[db] = cls(db)
            return storage

    @classmethod
    def for_settings(cls, settings: CoreSettings, *, serving_requests: bool = False, durable: bool = True) -> Storage:
        """The facade of a new database handle as `settings` describe it (see `Database.for_settings`)."""
        return cls.of(Database.for_settings(settings, serving_requests=serving_requests, durable=durable))

    def remote_records(self, scope: str) -> RemoteRecords:
        """The store-id → remote-id mapping of one destination account (`scope`, e.g. "ac:<url>")."""
        return RemoteRecords(self.db, scope)

    def remote_state(self, scope: str) -> RemoteState:
        """The documents last sent to one destination account (`scope`)."""
        return RemoteState(self.db, scope)

    def auth_failures(self, *, limit: int, window: float) -> AuthFailures:
        """The admin credential throttle: `limit` failures per address per `window` seconds."""
        return AuthFailures(self.db, limit=limit, window=window)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction for several operations: committed when the block ends, rolled back (and the
        exception raised on) when it raises. See the module docstring for what it locks."""
        with self.db.write() as conn:
            yield Transaction(self, conn)


class Transaction:
    """An open write transaction. Its repositories (`tx.events`, `tx.deliveries`, `tx.timers`, `tx.retention`)
    are the storage's own, with every operation run on this transaction's connection: nothing commits on its
    own, and what one operation wrote the next one reads."""

    def __init__(self, storage: Storage, conn: Connection) -> None:
        self._db = storage.db
        self._conn = conn
        self.events = self._bound(storage.events)
        self.deliveries = self._bound(storage.deliveries)
        self.timers = self._bound(storage.timers)
        self.retention = self._bound(storage.retention)

    def _bound(self, repository: _R) -> _R:
        bound = copy.copy(repository)
        bound.db = self
        return bound

    def advisory_lock(self, key: int) -> None:
        """On PostgreSQL, wait for and hold the advisory lock `key` until this transaction ends, keyed by schema
        too (bridges sharing one database in separate schemas, and tests, never queue behind each other). On
        SQLite a no-op: the transaction holds the database's write lock already."""
        if not self.is_sqlite:
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": key})

    # -- the Session calls (bridge/storage/session.py), all on this transaction's connection ----------------

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite."""
        return self._db.is_sqlite

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """This transaction's connection (it reads what the transaction wrote)."""
        yield self._conn

    write = read

    def write_one(self, statement: Any, parameters: dict[str, Any] | None = None) -> None:
        """Execute one statement in this transaction."""
        self._conn.execute(statement, parameters)

    def insert_ignoring_conflicts(self, table: Table, *index_elements: str) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING for this dialect."""
        return self._db.insert_ignoring_conflicts(table, *index_elements)

    def upsert(self, table: Table, index_elements: list[str], values: dict[str, Any], update: dict[str, Any]) -> Any:
        """INSERT … ON CONFLICT DO UPDATE for this dialect."""
        return self._db.upsert(table, index_elements, values, update)

    def prepare(self, statement: Any, column_keys: list[str] | None = None) -> PreparedStatement:
        """`statement` compiled once for this dialect."""
        return self._db.prepare(statement, column_keys)

    def run_prepared(self, prepared: PreparedStatement, values: dict[str, Any], *, write: bool) -> Outcome:
        """Execute a prepared statement in this transaction (it commits with the transaction, not before)."""
        result = self._conn.exec_driver_sql(prepared.sql, prepared.parameters(values))
        first = result.fetchone() if result.returns_rows else None
        lastrowid = result.lastrowid if self.is_sqlite else None
        return Outcome(result.rowcount, lastrowid, tuple(first) if first else None)
