"""The delivery leases one worker process holds: which thread works on each, and until when each is surely
still ours.

The heartbeat renews only the leases of deliveries a live thread is working on, so a delivery whose thread
died or gave up is not kept `in_flight` for ever: its lease lapses and any worker reclaims it. A lease counts
as surely ours for two thirds of its length after it was taken or last extended; past that another worker
may have reclaimed it, so its holder sends nothing more and writes no outcome for it (issue #18).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from bridge.clock import SYSTEM
from bridge.errors import StorageUnavailable

log = logging.getLogger("bridge.worker")
T = TypeVar("T")

#: Waits between tries of an outcome write the database refused: short at first (a blip), then every second.
WRITE_BACKOFF = (0.1, 0.2, 0.5, 1.0)


@dataclass
class _Held:
    thread: threading.Thread
    extended_at: float  # clock reading taken before the statement that took or last extended the lease


class HeldLeases:
    """Thread-safe record of the leases this process's threads hold. `clock` is monotonic seconds
    (the worker passes its `Clock.monotonic`)."""

    def __init__(self, lease_seconds: float, clock: Callable[[], float] = SYSTEM.monotonic) -> None:
        self.margin = lease_seconds * 2 / 3
        self.clock = clock
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()

    def hold(self, delivery_id: int, taken_at: float) -> None:
        """The calling thread now works on `delivery_id`, whose lease was taken by a statement that started at
        `taken_at` (a `clock` reading)."""
        with self._lock:
            self._held[delivery_id] = _Held(threading.current_thread(), taken_at)

    def drop(self, delivery_id: int) -> None:
        """The thread is done with `delivery_id`: its outcome is recorded, or the lease is left to lapse."""
        with self._lock:
            self._held.pop(delivery_id, None)

    def renewable(self) -> list[int]:
        """The deliveries whose holder thread is alive: the only leases the heartbeat may extend."""
        with self._lock:
            return sorted(i for i, held in self._held.items() if held.thread.is_alive())

    def extended(self, delivery_ids: Iterable[int], at: float) -> None:
        """The database extended these leases by a statement that started at `at`."""
        with self._lock:
            for delivery_id in delivery_ids:
                held = self._held.get(delivery_id)
                if held is not None:
                    held.extended_at = max(held.extended_at, at)

    def ok(self, delivery_id: int) -> bool:
        """Whether the lease on `delivery_id` is surely still ours (no other worker can have reclaimed it)."""
        with self._lock:
            held = self._held.get(delivery_id)
            return held is not None and self.clock() - held.extended_at < self.margin

    def checker(self, delivery_id: int) -> Callable[[], bool]:
        """`ok` for one delivery, for the pacer: a send waits only while the lease is surely ours."""
        return lambda: self.ok(delivery_id)

    def write(self, delivery_id: int, write: Callable[[], T], wait: Callable[[float], bool]) -> tuple[bool, T | None]:
        """Run an outcome `write` for `delivery_id`, again after a StorageUnavailable (waiting with `wait`,
        which returns True when the worker stops) for as long as the lease is surely ours.

        Returns (True, what `write` returned), or (False, None) when it gave up: the lease then lapses and the
        delivery goes back to the queue when it expires (the destinations' writes are idempotent)."""
        tries = 0
        while self.ok(delivery_id):
            try:
                return True, write()
            except StorageUnavailable:
                delay = WRITE_BACKOFF[min(tries, len(WRITE_BACKOFF) - 1)]
                tries += 1
                if wait(delay):
                    break
        log.warning("outcome not recorded; the lease will lapse", extra={"delivery_id": delivery_id, "tries": tries})
        return False, None
