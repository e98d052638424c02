"""Shared pacing and health per destination, in the database so every thread, process and host agrees:
a token bucket kept as a virtual schedule (`next_slot_at`), Retry-After pauses, the circuit breaker and
manual pauses. Times are Unix epoch seconds."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import Connection, select, update

from bridge.errors import StorageUnavailable
from bridge.storage.session import Session
from bridge.storage.tables import throttles
from bridge.storage.throttle_state import NO_REASON, Hold, ThrottleState, finite, state_of
from bridge.timeutil import utcnow

__all__ = ["ThrottleState", "Throttles"]

log = logging.getLogger(__name__)


class Throttles:
    """Read and change destination throttle rows (created on first use). Every read-modify-write of a row is
    one transaction holding the row's lock (`_locked`: FOR UPDATE on PostgreSQL, the write lock on SQLite), so
    threads, processes and hosts never book one slot twice or lose a failure count. The object also keeps this
    process's pauses not yet committed (`hold`): share one per process (`storage.throttles`)."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._ensure = db.insert_ignoring_conflicts(throttles, "name")
        # Pauses this process has seen, set before the database hears of them: the threads of this process
        # must not send in the milliseconds between a 429 arriving and its pause being committed. Once
        # committed, a hold still counts for `held_until` until it ends, unless the operator resumed the
        # destination meanwhile (the stored pause is then earlier than the hold: see `_forget_resumed`).
        self._held: dict[str, list[Hold]] = {}
        self._commits = 0  # numbers the holds as their pauses are committed
        self._lock = threading.Lock()
        # Completions the database could not take (name -> ticket -> when its response came): written with the
        # next throttle write, so a database blip does not leave sends counting against the limit until stale.
        self._owed: dict[str, dict[float, float]] = {}
        self._owed_lock = threading.Lock()

    def hold(self, name: str, until: float) -> None:
        """Hold this process's sends to `name` until `until`, at once (`pause` then tells every process)."""
        with self._lock:
            self._held.setdefault(name, []).append(Hold(finite(until)))

    def held_until(self, name: str, *, uncommitted_only: bool = False) -> float:
        """When the latest pause this process imposed on `name` ends (0 when none)."""
        now = time.time()
        with self._lock:
            live = [h for h in self._held.get(name, []) if h.until > now]
            self._held[name] = live
            return max((h.until for h in live if not (uncommitted_only and h.committed is not None)), default=0.0)

    def _committed(self, name: str, stored: float) -> None:
        """The database now holds a pause until `stored`: local holds up to then are in it."""
        with self._lock:
            self._commits += 1
            for held in self._held.get(name, []):
                if held.committed is None and held.until <= stored:
                    held.committed = self._commits

    def _commits_so_far(self) -> int:
        with self._lock:
            return self._commits

    def _forget_resumed(self, name: str, stored: float, seen: int) -> None:
        """`stored` is `paused_until` as read by a transaction begun when `seen` pauses were committed. A hold
        committed by then yet later than `stored` was cleared by a resume (`pause` only ever raises
        `paused_until`): forget it, so the operator's resume is obeyed in this process too. (A hold committed
        after the read began may not be in `stored` yet, and is kept.)"""
        with self._lock:
            self._held[name] = [
                h
                for h in self._held.get(name, [])
                if not (h.committed is not None and h.committed <= seen and h.until > stored)
            ]

    def _row(self, conn: Connection, name: str) -> ThrottleState:
        return state_of(self._locked(conn, name))

    def _locked(self, conn: Connection, name: str) -> Any:
        """`name`'s row, created if missing, locked until the transaction ends: every read-modify-write of it
        goes through here."""
        conn.execute(
            self._ensure.values(
                name=name,
                next_slot_at=0.0,
                paused_until=0.0,
                consecutive_failures=0,
                circuit_open_until=0.0,
                manual_pause=0,
            )
        )
        query = select(throttles).where(throttles.c.name == name)
        if not self.db.is_sqlite:
            # READ COMMITTED would let two hosts read the same next slot; the row lock serialises them.
            # (SQLite's BEGIN IMMEDIATE already does.)
            query = query.with_for_update()
        return conn.execute(query).one()

    def reserve_slot(self, name: str, interval: float) -> float:
        """Reserve the next send time for `name`, `interval` seconds after the previous reservation and not
        before any pause ends. Returns the reserved time; the caller waits until then. Atomic under the row
        lock: no two callers anywhere get the same slot."""
        seen = self._commits_so_far()
        with self.db.write() as conn:
            state = self._row(conn, name)
            now = time.time()  # read under the lock: a time taken before waiting for it may be long past
            slot = max(now, state.next_slot_at, state.paused_until)
            conn.execute(update(throttles).where(throttles.c.name == name).values(next_slot_at=slot + interval))
        self._forget_resumed(name, state.paused_until, seen)
        return slot

    def admit(self, name: str, limit: int, window: float, stale_after: float) -> tuple[float | None, float]:
        """Admit one send if it cannot make `limit + 1` requests *arrive* within any `window` seconds.

        A request arrives at the destination between its send and its response. So a new send is safe when
        the `limit`-th most recent request has completed at least `window` ago (or fewer than `limit` count):
        then however the network and the destination's own scheduling jitter, the two arrivals are more than
        `window` apart. Returns (ticket, 0) when admitted — pass the ticket to `complete()` after the
        response — or (None, seconds to wait before asking again). Requests of a crashed process count as
        complete `stale_after` seconds after they were sent.
        """
        self._settle(name)  # completions a database blip kept from being written count first
        seen = self._commits_so_far()
        with self.db.write() as conn:
            row = self._locked(conn, name)
            now = time.time()
            stored = finite(float(row.paused_until))
            self._forget_resumed(name, stored, seen)
            paused_until = max(stored, self.held_until(name, uncommitted_only=True))
            if paused_until > now:
                # Checked under the same lock that `pause` takes: no send is admitted once a pause is stored.
                return None, paused_until - now
            entries = row.recent_sends or []
            live = [
                [sent, done]
                for sent, done in entries
                if (done is not None and done + window > now) or (done is None and sent + stale_after > now)
            ]
            if len(live) < limit:
                ticket = max([now, *(sent + 1e-6 for sent, _ in live)])  # unique per admitted send
                conn.execute(
                    update(throttles).where(throttles.c.name == name).values(recent_sends=[*live, [ticket, None]])
                )
                return ticket, 0.0
            finished = [done for _, done in live if done is not None]
        wait = min(finished) + window - now if finished else 0.02
        return None, max(0.005, wait)

    def complete(self, name: str, ticket: float) -> None:
        """Record that the admitted send `ticket` has its response. If the database cannot take it now, it is
        kept and written before this process's next admission (never raises StorageUnavailable)."""
        with self._owed_lock:
            self._owed.setdefault(name, {})[ticket] = time.time()
        try:
            self._settle(name)
        except StorageUnavailable:
            log.warning("database unavailable; a send's completion is written later", extra={"destination": name})

    def _settle(self, name: str) -> None:
        """Write the completions owed for `name`."""
        with self._owed_lock:
            owed = dict(self._owed.get(name, {}))
        if not owed:
            return
        with self.db.write() as conn:
            # Under the row lock: two processes completing at once would otherwise each write back the other's
            # ticket as still in flight, and it would count against the limit until stale.
            entries = self._locked(conn, name).recent_sends or []
            updated = [[sent, owed.get(sent, done) if done is None else done] for sent, done in entries]
            conn.execute(update(throttles).where(throttles.c.name == name).values(recent_sends=updated))
        with self._owed_lock:
            for ticket in owed:
                self._owed[name].pop(ticket, None)

    def pause(self, name: str, until: float) -> None:
        """Hold every send to `name` until `until` (a 429/503 Retry-After): this process at once, then every
        process through the database."""
        until = finite(until)
        self.hold(name, until)
        with self.db.write() as conn:
            state = self._row(conn, name)
            if until > state.paused_until:
                conn.execute(update(throttles).where(throttles.c.name == name).values(paused_until=until))
        self._committed(name, max(until, state.paused_until))

    def record_failure(self, name: str, threshold: int, cooldown: float, now: float) -> bool:
        """Count a failed call; open the circuit at `threshold` consecutive failures. True if it is open now.
        Atomic under the row lock: concurrent failures all count."""
        with self.db.write() as conn:
            state = self._row(conn, name)
            failures = state.consecutive_failures + 1
            values: dict[str, object] = {"consecutive_failures": failures, "updated_at": utcnow()}
            if failures >= threshold:
                values["circuit_open_until"] = now + cooldown
            conn.execute(update(throttles).where(throttles.c.name == name).values(**values))
        return failures >= threshold

    def record_success(self, name: str) -> bool:
        """Close the circuit after a success. True if it had tripped (deliveries held back can go now)."""
        current = self.all().get(name)
        if current is not None and current.consecutive_failures == 0:
            return False  # the common case: a plain read, no lock on the shared row
        with self.db.write() as conn:
            state = self._row(conn, name)
            if state.consecutive_failures == 0:
                return False
            conn.execute(
                update(throttles)
                .where(throttles.c.name == name)
                .values(consecutive_failures=0, circuit_open_until=0.0, updated_at=utcnow())
            )
        return state.circuit_open_until > 0

    def set_manual_pause(self, name: str, paused: bool) -> None:
        """Pause or un-pause a destination by hand (admin); `resume` also clears every other hold. Idempotent."""
        with self.db.write() as conn:
            self._row(conn, name)
            reason = {"pause_reason": "manual", "paused_since": time.time()} if paused else NO_REASON
            conn.execute(update(throttles).where(throttles.c.name == name).values(manual_pause=int(paused), **reason))

    def resume(self, name: str) -> ThrottleState:
        """The operator's "go now": clear the manual pause, a Retry-After pause, the circuit (and its failure
        count), and send slots booked into such a pause. Returns the state it cleared. Atomic under the row
        lock; idempotent."""
        with self.db.write() as conn:
            state = self._row(conn, name)
            now = time.time()
            conn.execute(
                update(throttles)
                .where(throttles.c.name == name)
                .values(
                    manual_pause=0,
                    **NO_REASON,
                    paused_until=0.0,
                    circuit_open_until=0.0,
                    consecutive_failures=0,
                    next_slot_at=min(finite(state.next_slot_at), now),
                    updated_at=utcnow(),
                )
            )
        with self._lock:
            self._held.pop(name, None)
        return state

    def get(self, name: str) -> ThrottleState:
        """One destination's state (defaults when it has none yet). A read; locks nothing."""
        with self.db.read() as conn:
            row = conn.execute(select(throttles).where(throttles.c.name == name)).first()
        return state_of(row) if row else ThrottleState(name, 0.0, 0.0, 0, 0.0, False)

    def all(self) -> dict[str, ThrottleState]:
        """Every destination's state (one consistent read; locks nothing)."""
        with self.db.read() as conn:
            return {row.name: state_of(row) for row in conn.execute(select(throttles))}
