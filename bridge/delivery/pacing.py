"""Pacing shared through the database: one token bucket per destination account for every thread, process
and host, plus the Retry-After pause a 429/503 imposes on all of them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from bridge.clock import SYSTEM, Clock
from bridge.errors import BridgeError
from bridge.metrics import rate_limit_waited
from bridge.storage.throttles import Throttles, ThrottleState

#: Booked slots space senders `1/rate` apart (so threads do not all queue on the admission check); the
#: admission check (Throttles.admit) is what guarantees the limit, by completed requests, so no slack is needed.
WINDOW = 1.0
#: A send whose process died before recording its response stops counting after this long.
STALE_AFTER = 120.0
#: The longest single sleep while waiting for a slot: a pause (or a stop) is noticed within this.
NAP = 1.0


class Interrupted(BridgeError):
    """The worker is stopping, or its lease may have run out; the call was not sent."""


class Paused(BridgeError):
    """The destination is paused (circuit open, or paused by hand); the call was not sent."""

    def __init__(self, until: float | None) -> None:
        super().__init__()
        self.until = until


class SharedPacer:
    """Waits for this destination's next send slot, reserved in the shared `throttles` row."""

    def __init__(
        self,
        throttles: Throttles,
        name: str,
        rate: float | None,
        stop: threading.Event,
        lease_ok: Callable[[], bool] = lambda: True,
        clock: Clock = SYSTEM,
    ) -> None:
        self.throttles = throttles
        self.lease_ok = lease_ok
        self.clock = clock
        self.name = name
        self.interval = 1.0 / rate if rate else 0.0
        # At most `limit` arrivals in any `window`: 5 per second for 5/s; 1 per 2 s for 0.5/s.
        self.limit = max(1, int(rate)) if rate else 0
        self.window = self.limit / rate * WINDOW if rate else 0.0
        self.ticket: float | None = None
        self.stop = stop
        self.waited = 0.0

    def wait(self) -> None:
        """Block until this caller may send. Raises Interrupted if the worker stops meanwhile, Paused if the
        destination is paused (by hand, its circuit, or a Retry-After) before or while we wait: the delivery
        is then given back to wait in the queue, where an operator's resume reaches it, instead of in a
        sleeping thread that holds its lease."""
        self._check(self.throttles.get(self.name))  # a paused destination books no send slot
        slot = self.throttles.reserve_slot(self.name, self.interval)
        self._sleep(slot - self.clock.time())
        self._check(self.throttles.get(self.name))
        if not self.limit:
            return
        while True:
            ticket, delay = self.throttles.admit(self.name, self.limit, self.window, STALE_AFTER)
            if ticket is not None:
                self.ticket = ticket
                return
            if delay >= NAP:  # a Retry-After pause stored by another process, most likely
                self._check(self.throttles.get(self.name))
            self._sleep(delay)

    def _check(self, state: ThrottleState) -> None:
        """Interrupted if the worker stops or the lease may be gone; Paused if `state` says so."""
        if self.stop.is_set() or not self.lease_ok():
            raise Interrupted()
        now = self.clock.time()
        if state.manual_pause:
            raise Paused(None)
        if state.circuit_open_until > now:
            raise Paused(state.circuit_open_until)
        if state.paused_until > now:
            raise Paused(state.paused_until)

    def _sleep(self, seconds: float) -> None:
        """Wait `seconds` in naps of at most NAP, checking after each whether the destination was paused
        meanwhile (or the worker is stopping). Waits under a nap cost no database read."""
        deadline = self.clock.time() + seconds
        while True:
            left = deadline - self.clock.time()
            if left <= 0:
                return
            nap = min(left, NAP)
            self.waited += nap
            rate_limit_waited(self.name, nap)
            if self.clock.wait(self.stop, nap):
                raise Interrupted()
            if left > NAP:
                self._check(self.throttles.get(self.name))

    def clear(self) -> bool:
        """True unless a pause began in this process since `wait()` admitted us (or our lease may be gone).
        Checked after the caller took its send timestamp, so no request is sent after a 429 was received here
        and before it expires."""
        return self.throttles.held_until(self.name) <= self.clock.time() and self.lease_ok()

    def finished(self) -> None:
        """The request admitted by the last `wait()` has its response (or failed): it stops counting a window
        from now."""
        if self.ticket is not None:
            ticket, self.ticket = self.ticket, None
            self.throttles.complete(self.name, ticket)

    def hold(self, seconds: float) -> None:
        """Hold this process's senders for `seconds`, at once (no database round trip)."""
        self.throttles.hold(self.name, self.clock.time() + seconds)

    def pause(self, seconds: float) -> None:
        """Hold every sender of this destination, in every process, for `seconds`."""
        self.throttles.pause(self.name, self.clock.time() + seconds)
