"""Retention (spec §16): a finished event's bodies and its calls' excerpts are erased after
BRIDGE_RETENTION_DAYS, and the rows that only ever grow (applied versions, spent timers, the revenue state of
orders that can change no more) are bounded by the same age.

What stays: every event row with its ids, status, dedupe and delivery keys (a store's late redelivery is still
answered `duplicate`), deliveries and attempts with their statuses, and the AC id mapping (keyed by digests,
never by an address). Pruning goes in batches of `batch_size` events, each its own short write transaction,
so SQLite's single write lock is never held for long and PostgreSQL never runs a long transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Text, and_, cast, delete, exists, func, or_, select, update

from bridge.privacy import ORDER_PERSONAL_FIELDS, ORDER_STATE, without_person
from bridge.storage.session import Session
from bridge.storage.tables import applied_versions, attempts, deliveries, events, remote_state, timers
from bridge.vocabulary import UNFINISHED, EventStatus

#: Event statuses with nothing left to do (their deliveries are all final, or there were none).
FINISHED = (EventStatus.DONE, EventStatus.DEAD, EventStatus.QUARANTINED)
#: Delivery and timer statuses that still need the event's canonical payload.
OPEN_DELIVERY = UNFINISHED
OPEN_TIMER = ("armed", "waiting")
BATCH = 200


@dataclass
class PruneCounts:
    """What one pruning pass erased (or, in a dry run, would erase), per kind of row."""

    events: int = 0
    attempts: int = 0
    deliveries: int = 0
    applied_versions: int = 0
    timers: int = 0
    remote_state: int = 0
    batches: int = 0
    dry_run: bool = False
    cutoff: datetime | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts (the CLI's and the admin API's answer)."""
        return {
            "events": self.events,
            "attempts": self.attempts,
            "deliveries": self.deliveries,
            "applied_versions": self.applied_versions,
            "timers": self.timers,
            "remote_state": self.remote_state,
            "batches": self.batches,
            "dry_run": self.dry_run,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
        }


def without_query(url: str) -> str:
    """`url` without its query string: a lookup's `filters[email]=…` is personal data, the path is not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def prunable(cutoff: datetime) -> Any:
    """The condition on `events` for an event whose bodies may go: finished, received before `cutoff`, not
    pruned yet, no delivery still pending or in flight, and no live abandonment timer reading its payload."""
    open_delivery = exists().where(deliveries.c.event_id == events.c.id, deliveries.c.status.in_(OPEN_DELIVERY))
    open_timer = exists().where(timers.c.event_id == events.c.id, timers.c.status.in_(OPEN_TIMER))
    return and_(
        events.c.pruned_at.is_(None),
        events.c.status.in_(FINISHED),
        events.c.received_at < cutoff,
        ~open_delivery,
        ~open_timer,
    )


def erase_events(conn: Connection, event_ids: list[int], now: datetime, condition: Any = None) -> PruneCounts:
    """Inside the caller's transaction, empty the bodies of `event_ids` (those still meeting `condition`):
    raw body, canonical payload and errors of the events; request, response, error and query string of their
    attempts; their deliveries' last error (a response excerpt). Ids, statuses and keys stay. Returns counts."""
    counts = PruneCounts()
    if not event_ids:
        return counts
    statement = update(events).where(events.c.id.in_(event_ids))
    if condition is not None:
        statement = statement.where(condition)
    erased = list(
        conn.execute(
            statement.values(body=b"", payload=None, errors=None, pruned_at=now).returning(events.c.id)
        ).scalars()
    )
    counts.events = len(erased)
    if not erased:
        return counts
    rows = conn.execute(select(attempts.c.id, attempts.c.url).where(attempts.c.event_id.in_(erased))).all()
    for attempt_id, url in rows:
        conn.execute(
            update(attempts)
            .where(attempts.c.id == attempt_id)
            .values(request=None, response=None, error=None, url=without_query(url))
        )
    counts.attempts = len(rows)
    counts.deliveries = conn.execute(
        update(deliveries)
        .where(deliveries.c.event_id.in_(erased), deliveries.c.last_error.is_not(None))
        .values(last_error=None)
    ).rowcount
    return counts


class Retention:
    """Prunes by age. Safe to run from several workers at once: each batch re-checks its conditions in its
    own write, so an event is erased once and an event that got new work meanwhile is left alone."""

    def __init__(self, db: Session, *, batch_size: int = BATCH) -> None:
        self.db = db
        self.batch_size = batch_size

    def erase(self, event_ids: list[int], now: datetime) -> PruneCounts:
        """Empty the bodies of `event_ids` now, whatever their age (see `erase_events`). Atomic (one write
        transaction, or the caller's on `tx.retention`) and idempotent: an emptied event stays empty."""
        with self.db.write() as conn:
            return erase_events(conn, event_ids, now)

    def prune(
        self, now: datetime, days: float, *, dry_run: bool = False, max_batches: int | None = None
    ) -> PruneCounts:
        """Erase what is older than `days` at `now` (0 days: retention off, nothing happens). With `dry_run`,
        only count. `max_batches` bounds one pass (the worker's); None runs until nothing is left. Each batch
        commits on its own: an interrupted pass leaves only whole batches done."""
        counts = PruneCounts(dry_run=dry_run)
        if days <= 0:
            return counts
        cutoff = now - timedelta(days=days)
        counts.cutoff = cutoff
        if dry_run:
            return self._count(cutoff, counts)
        # First: by the time an event shows as pruned, no order state names its buyer either.
        counts.remote_state += self._strip_order_states(cutoff)
        after = 0
        while max_batches is None or counts.batches < max_batches:
            with self.db.read() as conn:
                ids = list(
                    conn.execute(
                        select(events.c.id)
                        .where(prunable(cutoff), events.c.id > after)
                        .order_by(events.c.id)
                        .limit(self.batch_size)
                    ).scalars()
                )
            if not ids:
                break
            after = ids[-1]
            with self.db.write() as conn:
                done = erase_events(conn, ids, now, prunable(cutoff))
            counts.batches += 1
            counts.events += done.events
            counts.attempts += done.attempts
            counts.deliveries += done.deliveries
        self._bound_growth(cutoff, counts, max_batches)
        return counts

    def _count(self, cutoff: datetime, counts: PruneCounts) -> PruneCounts:
        """A dry run's figures: what a pass would erase now."""
        with self.db.read() as conn:
            ids = select(events.c.id).where(prunable(cutoff)).scalar_subquery()
            counts.events = conn.execute(select(func.count()).where(prunable(cutoff)).select_from(events)).scalar_one()
            counts.attempts = conn.execute(
                select(func.count()).select_from(attempts).where(attempts.c.event_id.in_(ids))
            ).scalar_one()
            counts.deliveries = conn.execute(
                select(func.count())
                .select_from(deliveries)
                .where(deliveries.c.event_id.in_(ids), deliveries.c.last_error.is_not(None))
            ).scalar_one()
            counts.applied_versions = conn.execute(
                select(func.count()).select_from(applied_versions).where(applied_versions.c.version_at < cutoff)
            ).scalar_one()
            counts.timers = conn.execute(
                select(func.count()).select_from(timers).where(_spent_timer(cutoff))
            ).scalar_one()
            counts.remote_state = len(self._finished_revenue(conn, cutoff, limit=None))
        return counts

    def _bound_growth(self, cutoff: datetime, counts: PruneCounts, max_batches: int | None) -> None:
        """Delete, batch by batch, the rows that would otherwise only grow:

        - applied versions older than the cutoff: an event older than a version applied that long ago is
          no longer expected (reconciliation reads a bounded window);
        - timers that fired or were cancelled before the cutoff: no state of that checkout is still coming;
        - the revenue state of orders that can change no more (cancelled, or refunded in full), untouched
          since the cutoff. Open orders keep theirs: a refund may come any time."""
        passes = 0
        while max_batches is None or passes < max_batches:
            passes += 1
            with self.db.write() as conn:
                versions = self._delete_some(
                    conn, applied_versions, (applied_versions.c.destination, applied_versions.c.subject),
                    applied_versions.c.version_at < cutoff,
                )  # fmt: skip
                spent = self._delete_some(conn, timers, (timers.c.checkout_key,), _spent_timer(cutoff))
                finished = self._finished_revenue(conn, cutoff, limit=self.batch_size)
                for scope, key in finished:
                    conn.execute(
                        delete(remote_state).where(
                            remote_state.c.scope == scope,
                            remote_state.c.key_type == "revenue",
                            remote_state.c.external_key == key,
                        )
                    )
            counts.applied_versions += versions
            counts.timers += spent
            counts.remote_state += len(finished)
            if max(versions, spent, len(finished)) < self.batch_size:
                break

    def _strip_order_states(self, cutoff: datetime) -> int:
        """Take the person out of AC order states untouched since `cutoff` (their amounts, lines and status stay,
        so a late refund still re-sends the order), batch by batch."""
        stripped = 0
        while True:
            with self.db.write() as conn:
                done = strip_order_states(
                    conn, and_(remote_state.c.updated_at < cutoff, holds_person()), lambda data: True,
                    limit=self.batch_size,
                )  # fmt: skip
            stripped += done
            if done < self.batch_size:
                return stripped

    def _delete_some(self, conn: Connection, table: Any, key: tuple[Any, ...], condition: Any) -> int:
        """Delete up to one batch of `table`'s rows meeting `condition` (by primary key: portable, bounded)."""
        rows = conn.execute(select(*key).where(condition).limit(self.batch_size)).all()
        for row in rows:
            conn.execute(delete(table).where(and_(*(column == value for column, value in zip(key, row, strict=True)))))
        return len(rows)

    def _finished_revenue(self, conn: Connection, cutoff: datetime, *, limit: int | None) -> list[tuple[str, str]]:
        """(scope, key) of revenue documents untouched since `cutoff` whose order is cancelled or refunded
        in full (read in Python: the JSON test differs by dialect, and the rows are few and small)."""
        query = select(remote_state.c.scope, remote_state.c.external_key, remote_state.c.data).where(
            remote_state.c.key_type == "revenue", remote_state.c.updated_at < cutoff
        )
        found: list[tuple[str, str]] = []
        for scope, key, data in conn.execute(query):
            if isinstance(data, dict) and (data.get("cancelled") or data.get("full")):
                found.append((scope, key))
                if limit is not None and len(found) >= limit:
                    break
        return found


def holds_person() -> Any:
    """A cheap SQL pre-filter for order states that may still hold a person's fields (the JSON as text)."""
    text = cast(remote_state.c.data, Text)
    return or_(*(text.like(f'%"{name}"%') for name in ORDER_PERSONAL_FIELDS))


def strip_order_states(
    conn: Connection, condition: Any, wanted: Callable[[dict[str, Any]], bool], *, limit: int | None = None
) -> int:
    """Rewrite the AC order states (`ORDER_STATE` rows) meeting `condition` whose data `wanted` picks and that
    still hold a person's fields, without those fields. Returns how many were rewritten (at most `limit`)."""
    query = select(remote_state.c.scope, remote_state.c.external_key, remote_state.c.data).where(
        remote_state.c.key_type == ORDER_STATE, condition
    )
    done = 0
    for scope, key, data in conn.execute(query).all():
        order = data.get("input") if isinstance(data, dict) else None
        if not isinstance(order, dict) or not any(k in order for k in ORDER_PERSONAL_FIELDS) or not wanted(data):
            continue
        conn.execute(
            update(remote_state)
            .where(
                remote_state.c.scope == scope,
                remote_state.c.key_type == ORDER_STATE,
                remote_state.c.external_key == key,
            )
            .values(data={**data, "input": without_person(order)})
        )
        done += 1
        if limit is not None and done >= limit:
            break
    return done


def _spent_timer(cutoff: datetime) -> Any:
    return and_(timers.c.status.in_(("fired", "cancelled")), timers.c.updated_at < cutoff)
