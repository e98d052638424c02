"""The deadline of the database operation in progress: no request or worker thread waits on the database for
longer than its operation's budget.

`Database.read()`, `write()` and the prepared statements open an `operation(seconds)` block; every wait inside
it (SQLite: the process's writer queue and the busy timeout; PostgreSQL: pool checkout, pre-ping, connect,
statements, commit, see `pg_connection.py`) shares one deadline. It is kept in a context variable, so it costs
the fast path a clock read, and no thread.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from contextvars import ContextVar

#: The deadline (time.monotonic()) of the database operation this thread is in; None outside any.
_deadline: ContextVar[float | None] = ContextVar("bridge_db_deadline", default=None)

#: A wait that starts after its operation's deadline still gets this long: an operation that overran on a busy
#: machine but whose server answers at once may finish, while a stalled one is cut almost immediately.
GRACE = 0.1

#: libpq and psycopg wait at least 2 s for a new connection (a smaller `connect_timeout` counts as 2).
MIN_CONNECT_TIMEOUT = 2


@contextlib.contextmanager
def operation(seconds: float) -> Iterator[None]:
    """Every wait on the database in this block ends by now + `seconds`. An enclosing block's deadline holds
    when there is one: a nested read shares the outer operation's budget."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """No deadline in this block, even inside an operation (migrations, which may rewrite a large table)."""
    token = _deadline.set(math.inf)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the current operation's deadline (negative once passed, inf when unbounded); None outside
    any operation."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def connect_timeout(default: float) -> int | None:
    """The `connect_timeout` for a connection opened now: `default`, or less if the current operation has less
    time left; None when it has none left. libpq counts whole seconds with a floor of 2 s, so a connection
    opened late in an operation may overrun its deadline by up to that."""
    left = time_left()
    if left is not None and left <= 0:
        return None
    budget = default if left is None else min(left, default)
    return max(MIN_CONNECT_TIMEOUT, int(budget))
