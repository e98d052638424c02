"""The final outcomes of a claimed group's deliveries written in one transaction (spec §14): each member hands
its outcome over and waits; the member that completes the group (every other one has handed its outcome over
or left) writes them all. A member that waited `linger` seconds writes what is there so far itself.

Only the outcomes whose lease is surely still ours go in. When the transaction fails (the database is away)
nothing of it is kept, and each member records its own outcome as without a group (`Outcomes.record`: retried
while its lease is surely ours)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bridge.delivery.leases import HeldLeases
from bridge.errors import StorageUnavailable
from bridge.storage.deliveries import Deliveries, Finish

#: How long a member that handed its outcome over waits for the rest of the group before writing it itself.
LINGER = 1.0


@dataclass
class _Handed:
    finish: Finish
    done: threading.Event = field(default_factory=threading.Event)
    written: bool = False


class GroupCommit:
    """Shared by the member threads of one claimed group."""

    def __init__(
        self, deliveries: Deliveries, leases: HeldLeases, owner: str, members: int, linger: float | None = None
    ) -> None:
        self.deliveries = deliveries
        self.leases = leases
        self.owner = owner
        self.linger = LINGER if linger is None else linger
        self._lock = threading.Lock()
        self._pending = members
        self._queue: list[_Handed] = []
        self._counted = threading.local()

    def leave(self) -> None:
        """The calling member is done without handing an outcome over: the others need not wait for it."""
        with self._lock:
            if getattr(self._counted, "yes", False):
                return
            taken = self._count_in()
        self._write(taken)

    def finish(self, finish: Finish) -> bool:
        """Hand `finish` over; True once it is written with the group's (its lease lost meanwhile at the
        database counts as written, as with `Deliveries.finish`), False when the caller must record it alone."""
        handed = _Handed(finish)
        with self._lock:
            self._queue.append(handed)
            taken = self._count_in()
        self._write(taken)
        if not handed.done.wait(self.linger):
            with self._lock:  # the others are slow: write what is there now (ours too, unless already taken)
                taken, self._queue = self._queue, []
            self._write(taken)
            handed.done.wait()
        return handed.written

    def _count_in(self) -> list[_Handed]:
        """Count the calling member out of the wait (under the lock); the queue to write when it was the last."""
        if not getattr(self._counted, "yes", False):
            self._counted.yes = True
            self._pending -= 1
        if self._pending > 0:
            return []
        taken, self._queue = self._queue, []
        return taken

    def _write(self, handed: list[_Handed]) -> None:
        if not handed:
            return
        ours = [h for h in handed if self.leases.ok(h.finish.delivery_id)]
        try:
            if ours:
                self.deliveries.finish_many(self.owner, [h.finish for h in ours])
            for h in ours:
                h.written = True
        except StorageUnavailable:
            pass  # each member records its own, with retries
        finally:
            for h in handed:
                h.done.set()
