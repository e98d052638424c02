"""The clock the delivery machinery reads and waits on: the system's in production, a virtual one in tests.

Every reading of "now" and every timed wait of the worker, executor, pacer, retry policy and leases goes
through one `Clock`, so a test can run a retry, a lease or a cool-down in virtual time: `VirtualClock` moves
forward by the whole timeout the moment a caller would wait, instead of sleeping it. A wait still ends early
when its event is set, as with the system clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Waitable(Protocol):
    """What `Clock.wait` waits on: a `threading.Event`, or a `threading.Condition` whose lock the caller holds."""

    def wait(self, timeout: float | None = None) -> bool: ...


class Clock(Protocol):
    """Readings of time and timed waits. `now` and `time` are the wall clock (aware UTC, and Unix seconds);
    `monotonic` never goes back. `wait` returns True when `waitable` was set (an Event) or notified (a
    Condition) before `timeout` seconds passed, False when the time ran out."""

    def now(self) -> datetime: ...

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, waitable: Waitable, timeout: float) -> bool: ...


class SystemClock:
    """The real clock: `datetime.now(UTC)`, `time.time()`, `time.monotonic()`, real sleeps and waits."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    def wait(self, waitable: Waitable, timeout: float) -> bool:
        return bool(waitable.wait(max(0.0, timeout)))


#: The clock used when none is injected.
SYSTEM = SystemClock()


class VirtualClock:
    """A clock for tests: time stands still until something sleeps or waits, which moves it forward by the
    whole duration at once (thread-safe; every thread shares one reading).

    `wait` on an event already set returns True without moving time. Otherwise time moves forward by the
    timeout and the caller then yields for at most `real_pause` real seconds (default 1 ms), so that threads
    looping on a timed wait give others the processor instead of spinning; it returns whether the waitable was
    set or notified meanwhile. `advance` moves time by hand; `slept` is the total virtual time waited.

    Every waiting thread moves the one reading: with several threads looping on timed waits (a whole worker),
    time runs as fast as they wait, and a margin that assumes a real call is short (a lease's) no longer
    holds. It suits one thread under test (the leases' write back-off, a pacer, a policy), not a whole worker."""

    def __init__(self, start: datetime | None = None, *, real_pause: float = 0.001) -> None:
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._offset = 0.0
        self._lock = threading.Lock()
        self.real_pause = real_pause
        self.slept = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._read())

    def time(self) -> float:
        return self._start.timestamp() + self._read()

    def monotonic(self) -> float:
        return 1000.0 + self._read()

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (never back)."""
        with self._lock:
            self._offset += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self._waited(seconds)

    def wait(self, waitable: Waitable, timeout: float) -> bool:
        if isinstance(waitable, threading.Event) and waitable.is_set():
            return True
        self._waited(timeout)
        return bool(waitable.wait(self.real_pause))

    def _waited(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)
            self.slept += max(0.0, seconds)

    def _read(self) -> float:
        with self._lock:
            return self._offset
