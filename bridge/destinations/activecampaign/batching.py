"""Batched order writes (spec §14, `BRIDGE_AC_BATCH`): the orders the worker's delivery threads are about to
upsert at the same moment (a backlog, a burst, a backfill) go to AC in one `bulkUpsertOrders` call.

Each delivery keeps its own path (stale check, lease, outcome, attempt record); only the HTTP call is
shared. The first thread with an order opens a batch and waits `LINGER` seconds (or until the batch is full)
for others to join, then sends them all; each thread gets its own order's answer back: its stored order, or
its own error (a refused order dies alone, the others are done). A batch AC refuses as too large is split in
two and each half sent again (and later batches are kept below that size). Two states of one order are
never in one batch: they share a lane, and a lane runs one delivery at a time.

One order alone goes through `upsertOrder`, exactly as without batching.

A worker thread that claimed several order deliveries at once (`Deliveries.claim_batch`) runs them on
threads of their own with a batcher made for that group (`members`): its batch goes out as soon as every member
has joined it or finished without an upsert (`leave`), instead of waiting for orders that met by chance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.destinations.activecampaign.graphql import BatchAnswer, GraphQLClient, is_validation, messages, too_large
from bridge.errors import PermanentError, RetryableError
from bridge.outbound.http import HttpCaller, Pacer
from bridge.vocabulary import Attempt

#: How long the first order of a batch waits for others (threads freed by one answer come back together).
LINGER = 0.05
#: How long the first order of a claimed group waits for the rest of the group (their reads and checks).
GROUP_LINGER = 1.0


@dataclass
class _Entry:
    order: dict[str, Any]
    caller: HttpCaller
    done: threading.Event = field(default_factory=threading.Event)
    stored: dict[str, Any] | None = None
    error: BaseException | None = None


@dataclass
class _Batch:
    entries: list[_Entry] = field(default_factory=list)
    closed: bool = False
    full: threading.Event = field(default_factory=threading.Event)


class OrderBatcher:
    """Shared by the delivery threads of one worker process (one per AC account)."""

    def __init__(
        self,
        limit: int,
        *,
        linger: float = LINGER,
        clock: Callable[[], float] = time.monotonic,
        members: int | None = None,
    ) -> None:
        self.limit = max(1, limit)
        self.linger = linger
        self.clock = clock
        self._lock = threading.Lock()
        self._open: _Batch | None = None
        # A claimed group's members yet to join or leave (None: threads that meet by chance, no count).
        self._pending = members
        self._joined = threading.local()

    def leave(self) -> None:
        """A group member (its own thread) is done without joining a batch: the others need not wait for it."""
        if getattr(self._joined, "yes", False):
            return
        self._joined.yes = True
        with self._lock:
            if self._pending is None:
                return
            self._pending -= 1
            batch = self._open
            if self._pending <= 0 and batch is not None:
                batch.closed = True
                self._open = None
                batch.full.set()

    def _count_in(self) -> bool:
        """Count the calling member in (under the lock); True when the group has nobody left to wait for."""
        if self._pending is None or getattr(self._joined, "yes", False):
            return False
        self._joined.yes = True
        self._pending -= 1
        return self._pending <= 0

    def upsert(self, gql: GraphQLClient, order: dict[str, Any]) -> dict[str, Any]:
        """Upsert `order`, in a batch with whatever other orders are being upserted now; returns the stored
        order or raises this order's own error."""
        if self.limit <= 1 or gql.caller.dry_run:
            self.leave()
            return gql.upsert_order(order)
        entry = _Entry(order, gql.caller)
        with self._lock:
            batch = self._open
            leader = batch is None or batch.closed
            if leader:
                batch = self._open = _Batch()
            assert batch is not None
            batch.entries.append(entry)
            last = self._count_in()
            if len(batch.entries) >= self.limit or last:
                batch.closed = True
                self._open = None
                batch.full.set()
        if leader:
            batch.full.wait(self.linger)
            # The batch stays open while the leader waits for the account's next send slot: under a backlog,
            # that wait is when the other threads' orders arrive.
            pacer = _Admitted(gql.caller.pacer)
            try:
                pacer.admit()
            except BaseException as exc:  # stopping, lease gone, account paused: nobody in it was sent
                self._close(batch)
                for waiting in batch.entries:
                    waiting.error = exc
                    waiting.done.set()
                raise
            self._close(batch)
            self._send(gql, batch.entries, pacer)
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        assert entry.stored is not None
        return entry.stored

    # -- the leader's part ---------------------------------------------------------------------------------

    def _close(self, batch: _Batch) -> None:
        with self._lock:
            batch.closed = True
            if self._open is batch:
                self._open = None

    def _send(self, gql: GraphQLClient, entries: list[_Entry], pacer: _Admitted) -> None:
        """Send `entries` (split when AC says the batch is too large) and hand each its answer."""
        try:
            client = self._client(gql, entries, pacer)
            if len(entries) == 1:
                entries[0].stored = client.upsert_order(entries[0].order)
                return
            try:
                answers = client.bulk_upsert_orders([e.order for e in entries])
            except PermanentError as exc:
                if not too_large(exc):
                    raise
                with self._lock:
                    self.limit = max(1, min(self.limit, len(entries) // 2))  # later batches stay below it
                half = len(entries) // 2
                self._send(gql, entries[:half], pacer)
                self._send(gql, entries[half:], pacer)
                return
            for entry, answer in zip(entries, answers, strict=True):
                _settle(entry, answer)
        except BaseException as exc:  # the whole call failed: every order in it shares the outcome
            for entry in entries:
                if not entry.done.is_set():
                    entry.error = exc
        finally:
            for entry in entries:
                entry.done.set()

    def _client(self, gql: GraphQLClient, entries: list[_Entry], pacer: _Admitted) -> GraphQLClient:
        """A client whose call is recorded on every order's delivery, sent in the slot the leader holds."""
        leader = entries[0].caller

        def record(call: Attempt) -> None:
            recorders = [entry.caller.record for entry in entries]
            together = getattr(recorders[0], "record_many", None)
            if together is not None and all(type(r) is type(recorders[0]) for r in recorders):
                together(recorders, call)  # every order's attempt in one transaction
                return
            for recorder in recorders:
                recorder(call)

        caller = HttpCaller(
            session=leader.session,
            headers=leader.headers,
            timeout=leader.timeout,
            record=record,
            pacer=pacer if pacer.pacer is not None else None,
            dry_run=leader.dry_run,
            max_retry_after=leader.max_retry_after,
        )
        client = GraphQLClient(caller, "")
        client.url = gql.url
        return client


class _Admitted:
    """The leader's pacer, whose first `wait()` was done before the batch closed (`admit`); later ones (the
    halves of a split batch) wait as usual."""

    def __init__(self, pacer: Pacer | None) -> None:
        self.pacer = pacer
        self.admitted = False

    def admit(self) -> None:
        if self.pacer is not None:
            self.pacer.wait()
        self.admitted = True

    def wait(self) -> None:
        if self.admitted:
            self.admitted = False
            return
        if self.pacer is not None:
            self.pacer.wait()

    def clear(self) -> bool:
        return self.pacer.clear() if self.pacer is not None else True

    def finished(self) -> None:
        if self.pacer is not None:
            self.pacer.finished()

    def hold(self, seconds: float) -> None:
        if self.pacer is not None:
            self.pacer.hold(seconds)

    def pause(self, seconds: float) -> None:
        if self.pacer is not None:
            self.pacer.pause(seconds)


def _settle(entry: _Entry, answer: BatchAnswer) -> None:
    if answer.error is None and answer.order is not None:
        entry.stored = answer.order
        return
    error = answer.error or {"message": "no result for this order"}
    text = f"ActiveCampaign GraphQL refused the order: {messages([error])}"
    entry.error = PermanentError(text, status=200) if is_validation(error) else RetryableError(text, status=200)
