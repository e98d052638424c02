"""PostgreSQL connections whose every wait ends by the operation's deadline (`bounded.py`).

A stalled server (frozen, swapping, a hung disk, a network path that drops packets without a reset) leaves
every socket open: its kernel still acknowledges TCP, so neither keepalives nor `tcp_user_timeout` nor a
server-side `statement_timeout` fire, and libpq would wait for ever. The bound is therefore kept on the client,
in the thread that waits, at no cost to the fast path: psycopg funnels every wait on a connection's socket (a
statement, a fetch, a commit, a rollback, SQLAlchemy's pre-ping) through `Connection.wait`, which takes a
timeout. `BoundedConnection` passes the time left; when it runs out it closes the connection (its protocol
state is unknown) and raises `DatabaseStalled`, an `OperationalError` that the storage layer turns into
`StorageUnavailable` (503 with `Retry-After` on the web) like any other outage.

Imported only when the database is PostgreSQL: psycopg is an optional dependency.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.connection import _WAIT_INTERVAL

from bridge.storage.bounded import GRACE, time_left


class DatabaseStalled(psycopg.OperationalError):
    """The database did not answer in time; the connection has been closed."""


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server ends by the current operation's deadline."""

    #: Seconds a wait outside any `bounded.operation()` block may last (set per connection by whoever opens it).
    stall_limit: float = 30.0

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        """psycopg's wait, bounded. A caller's own shorter timeout (`notifies(timeout=…)`) is left to it."""
        left = time_left()
        limit = self.stall_limit if left is None else max(left, GRACE)
        if timeout is not None and timeout <= limit:
            return super().wait(gen, interval, timeout)
        if math.isinf(limit):
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except pg_errors._WaitTimeout:
            # Part of a request or answer may be on the wire: the connection cannot be used again. Closing the
            # socket is what tells a stalled server, when it wakes, to drop the session and its locks.
            self.pgconn.finish()
            raise DatabaseStalled(f"the database did not answer within {limit:.1f} s") from None
