"""Noticing new work quickly without hammering the database.

SQLite: `PRAGMA data_version` on a dedicated connection changes whenever another connection commits, and
reading it costs no disk I/O, so polling it every 20 ms wakes the worker within ~20 ms of a webhook's commit.
PostgreSQL: `LISTEN bridge_events` on a dedicated connection; a trigger (migration 0003) notifies on every
new or replayed event, from any host. If listening fails (e.g. the server restarts), it probes every 50 ms
until it can listen again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import select

from bridge.clock import SYSTEM, Clock
from bridge.errors import StorageUnavailable
from bridge.storage import Database
from bridge.storage.tables import events
from bridge.vocabulary import EventStatus

log = logging.getLogger(__name__)
SQLITE_POLL = 0.02
PROBE_POLL = 0.05
CHANNEL = "bridge_events"


class Waker:
    """`wait(timeout)` returns True as soon as the database may hold new work, False on timeout or stop."""

    def __init__(self, db: Database, stop: threading.Event, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.stop = stop
        self.clock = clock  # the polls' deadlines and naps; LISTEN waits in real time
        self._sqlite: sqlite3.Connection | None = None
        self._listener: Any = None
        self._last: int | None = None
        if db.is_sqlite and db.url.database and db.url.database != ":memory:":
            self._sqlite = sqlite3.connect(db.url.database, timeout=1, check_same_thread=False)

    # -- SQLite ---------------------------------------------------------------------------------------------

    def _sqlite_changed(self) -> bool:
        assert self._sqlite is not None
        version = self._sqlite.execute("PRAGMA data_version").fetchone()[0]
        changed = self._last is not None and version != self._last
        self._last = version
        return changed

    # -- PostgreSQL -----------------------------------------------------------------------------------------

    def _listen(self) -> Any:
        if self._listener is None:
            from bridge.storage.pg_connection import BoundedConnection

            url = self.db.url.set(drivername="postgresql")
            dsn = url.render_as_string(hide_password=False)
            # Bounded like the pool's connections: a stalled server cannot hold the worker's loop in LISTEN;
            # keepalives notice a dead peer under a connection that otherwise only waits.
            listener = BoundedConnection.connect(dsn, autocommit=True, **self.db.listener_arguments())
            listener.stall_limit = self.db.operation_timeout
            self._listener = listener
            listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def _pg_wait(self, timeout: float) -> bool:
        try:
            listener = self._listen()
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except Exception as exc:
            log.warning("LISTEN unavailable (%s); probing instead", type(exc).__name__)
            self._drop_listener()
            return self._probe_wait(timeout)

    def _drop_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            finally:
                self._listener = None

    def _probe(self) -> bool:
        with self.db.read() as conn:
            waiting = (
                select(events.c.id).where(events.c.status.in_((EventStatus.RECEIVED, EventStatus.ACCEPTED))).limit(1)
            )
            return conn.execute(waiting).first() is not None

    def _probe_wait(self, timeout: float) -> bool:
        deadline = self.clock.monotonic() + timeout
        while not self.stop.is_set():
            try:
                if self._probe():
                    return True
            except StorageUnavailable:
                pass
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                return False
            self.clock.wait(self.stop, min(PROBE_POLL, remaining))
        return False

    # -- public ---------------------------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, returning early (True) when something was committed."""
        if self._sqlite is None:
            return self._pg_wait(timeout) if not self.db.is_sqlite else self._probe_wait(timeout)
        deadline = self.clock.monotonic() + timeout
        while not self.stop.is_set():
            try:
                if self._sqlite_changed():
                    return True
            except sqlite3.Error:
                return True  # cannot tell: let the caller look, it handles an unavailable database
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                return False
            self.clock.wait(self.stop, min(SQLITE_POLL, remaining))
        return False

    def close(self) -> None:
        """Close the probe / listener connections."""
        if self._sqlite is not None:
            self._sqlite.close()
        self._drop_listener()
