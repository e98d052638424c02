"""Deliveries (one per destination leg of an event) and their attempts: claim with a lease, finish, inspect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Executable, Select, and_, bindparam, case, func, insert, or_, select, update

from bridge.storage.database import Database
from bridge.storage.remote import Upsert
from bridge.storage.tables import attempts, deliveries, events
from bridge.timeutil import utcnow

PENDING, IN_FLIGHT, DONE, DEAD, STALE, DRY_RUN, SKIPPED = (
    "pending",
    "in_flight",
    "done",
    "dead",
    "stale",
    "dry_run",
    "skipped",
)
UNFINISHED = (PENDING, IN_FLIGHT)
FINAL = (DONE, DEAD, STALE, DRY_RUN, SKIPPED)
#: What an outcome writes with it: a statement, or one row's upsert (rows of one table go together).
Write = Executable | Upsert


@dataclass(frozen=True)
class Leg:
    """A planned delivery: where it goes and which lane orders it."""

    destination: str
    lane: str


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease on."""

    id: int
    event_id: int
    destination: str
    lane: str
    attempts: int
    first_attempt_at: datetime


@dataclass(frozen=True)
class Finish:
    """A delivery's outcome to record (`DeliveryStore.finish`): `also`, statements written with it."""

    delivery_id: int
    status: str
    now: datetime
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    note: str | None = None
    also: Sequence[Write] = ()


@dataclass(frozen=True)
class AttemptRecord:
    """One HTTP call (or dry-run) made for a delivery."""

    delivery_id: int
    event_id: int
    destination: str
    started_at: datetime
    duration_ms: int
    method: str
    url: str
    request: str | None
    status_code: int | None
    response: str | None
    error: str | None
    outcome: str


class DeliveryStore:
    """The delivery queue. Claims are one indexed query; SQLite serialises them with BEGIN IMMEDIATE,
    PostgreSQL with FOR UPDATE SKIP LOCKED."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- planning ------------------------------------------------------------------------------------------

    def add(self, conn: Connection, event_id: int, legs: list[Leg], now: datetime) -> None:
        """Queue `legs` for `event_id` inside the caller's transaction."""
        if legs:
            conn.execute(
                insert(deliveries),
                [
                    {
                        "event_id": event_id,
                        "destination": leg.destination,
                        "lane": leg.lane[:255],
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for leg in legs
                ],
            )

    # -- claiming ------------------------------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, lease: float, skip_destinations: frozenset[str]) -> Claimed | None:
        """Lease the next due delivery that heads its lane, or return None."""
        claimed = self.claim_batch(owner, now, lease, skip_destinations)
        return claimed[0] if claimed else None

    def claim_batch(
        self,
        owner: str,
        now: datetime,
        lease: float,
        skip_destinations: frozenset[str],
        batch: Mapping[str, int] | None = None,
    ) -> list[Claimed]:
        """Lease the next due delivery that heads its lane and up to `batch[its destination] - 1` more due lane
        heads of the same destination (one transaction): the deliveries one `bulkUpsertOrders` may carry (spec
        §14). Each heads its own lane, so no two are of one lane: per-lane order holds. Empty when none is due."""
        with self.db.write() as conn:
            first = conn.execute(self._heads(now, skip_destinations).limit(1)).first()
            if first is None:
                return []
            ids = [first.id]
            size = (batch or {}).get(first.destination, 1)
            if size > 1:
                more = self._heads(now, frozenset()).where(
                    deliveries.c.destination == first.destination, deliveries.c.id != first.id
                )
                ids += list(conn.execute(more.limit(size - 1)).scalars())
            rows = conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(ids))
                .values(
                    status=IN_FLIGHT,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease),
                    attempts=deliveries.c.attempts + 1,
                    first_attempt_at=func.coalesce(deliveries.c.first_attempt_at, now),
                    updated_at=now,
                )
                .returning(
                    deliveries.c.id,
                    deliveries.c.event_id,
                    deliveries.c.destination,
                    deliveries.c.lane,
                    deliveries.c.attempts,
                    deliveries.c.first_attempt_at,
                )
            ).all()
        order = {delivery_id: i for i, delivery_id in enumerate(ids)}
        return sorted((Claimed(*row) for row in rows), key=lambda c: order[c.id])

    def _heads(self, now: datetime, skip_destinations: frozenset[str]) -> Select[Any]:
        """Due pending deliveries that head their lane (no earlier unfinished one), oldest due first."""
        earlier = deliveries.alias("earlier")
        # OFFSET 0 keeps PostgreSQL from turning the lane check into an anti-join over the whole backlog: it
        # stays a per-candidate probe of the lane index, and the ordered scan stops at the first free delivery.
        blocked = (
            select(earlier.c.id)
            .where(
                earlier.c.lane == deliveries.c.lane,
                earlier.c.status.in_(UNFINISHED),
                or_(
                    earlier.c.event_id < deliveries.c.event_id,
                    and_(earlier.c.event_id == deliveries.c.event_id, earlier.c.id < deliveries.c.id),
                ),
            )
            .offset(0)
            .exists()
        )
        query = (
            select(deliveries.c.id, deliveries.c.destination)
            .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now, ~blocked)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        )
        if skip_destinations:
            query = query.where(deliveries.c.destination.not_in(sorted(skip_destinations)))
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=deliveries)
        return query

    def renew(self, owner: str, delivery_ids: list[int], now: datetime, lease: float) -> list[int]:
        """Extend the leases `owner` still holds among `delivery_ids` (the heartbeat, for the deliveries its
        live threads work on); returns the ids extended. A write transaction even when `delivery_ids` is empty:
        its success tells the heartbeat that the database takes writes."""
        with self.db.write() as conn:
            return sorted(
                conn.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id.in_(delivery_ids),
                        deliveries.c.lease_owner == owner,
                        deliveries.c.status == IN_FLIGHT,
                    )
                    .values(lease_expires_at=now + timedelta(seconds=lease))
                    .returning(deliveries.c.id)
                ).scalars()
            )

    def reclaim_expired(self, now: datetime, owners: tuple[str, ...] = ()) -> int:
        """Return to the queue deliveries whose lease ran out (their worker died), or held by dead `owners`."""
        condition = deliveries.c.lease_expires_at < now
        if owners:
            condition = or_(condition, deliveries.c.lease_owner.in_(owners))
        with self.db.write() as conn:
            return conn.execute(
                update(deliveries)
                .where(deliveries.c.status == IN_FLIGHT, condition)
                .values(status=PENDING, lease_owner=None, lease_expires_at=None, next_attempt_at=now, updated_at=now)
            ).rowcount

    def lease_owners(self) -> list[str]:
        """Owners of current leases."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deliveries.c.lease_owner).where(deliveries.c.status == IN_FLIGHT).distinct()
            ).scalars()
            return [r for r in rows if r]

    # -- finishing -----------------------------------------------------------------------------------------

    def release(self, delivery_id: int, owner: str, now: datetime, next_attempt_at: datetime | None = None) -> None:
        """Give a delivery back untouched (shutdown, or its destination paused before the call): the attempt
        is not spent. It is due again at `next_attempt_at` (default: at once)."""
        values: dict[str, Any] = {
            "status": PENDING,
            "lease_owner": None,
            "lease_expires_at": None,
            "attempts": deliveries.c.attempts - 1,
            # No attempt left spent: the age limit (BRIDGE_RETRY_MAX_AGE) counts from its first real attempt, not
            # from a claim given back (a long token-rejected pause must not age a delivery that never failed).
            "first_attempt_at": case((deliveries.c.attempts <= 1, None), else_=deliveries.c.first_attempt_at),
            "updated_at": now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.db.write() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
                .values(**values)
            )

    def finish(
        self,
        delivery_id: int,
        owner: str,
        *,
        status: str,
        now: datetime,
        next_attempt_at: datetime | None = None,
        last_status: int | None = None,
        last_error: str | None = None,
        note: str | None = None,
        also: Sequence[Write] = (),
    ) -> bool:
        """Record a delivery's outcome (final, or pending again at `next_attempt_at`) and settle its event;
        `also` (the applied version's upsert, the order state the delivery sent) is written in the same
        transaction when the lease is still ours.

        Returns False if the lease was lost meanwhile (another worker owns the delivery now).
        """
        outcome = Finish(delivery_id, status, now, next_attempt_at, last_status, last_error, note, also)
        return bool(self.finish_many(owner, [outcome]))

    def finish_many(self, owner: str, outcomes: Sequence[Finish]) -> set[int]:
        """Record several deliveries' outcomes (as `finish`) in one transaction: a claimed group's, written
        together. Returns the ids recorded; one whose lease was lost meanwhile is left out, with its `also`."""
        if len(outcomes) == 1:
            with self.db.write() as conn:
                return {outcomes[0].delivery_id} if _finish_in(conn, owner, outcomes[0]) else set()
        ids = [outcome.delivery_id for outcome in outcomes]
        held = select(deliveries.c.id, deliveries.c.event_id).where(
            deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner
        )
        with self.db.write() as conn:
            # The rows locked first (SQLite: the write transaction holds the database), so the leases checked
            # here are still ours when the updates below run; then one statement per table, not per row.
            rows = conn.execute(held if self.db.is_sqlite else held.with_for_update())
            events_of: dict[int, int] = {row[0]: row[1] for row in rows}
            mine = [outcome for outcome in outcomes if outcome.delivery_id in events_of]
            if mine:
                conn.execute(_FINISH, [_finish_values(outcome) for outcome in mine])
                _write_together(conn, [write for outcome in mine for write in outcome.also])
                settle_events(conn, sorted({events_of[o.delivery_id] for o in mine if o.status in FINAL}))
        return set(events_of)

    def hurry(self, destination: str, now: datetime) -> int:
        """Make every backed-off pending delivery of `destination` due now (its outage is over)."""
        with self.db.write() as conn:
            return conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.destination == destination,
                    deliveries.c.status == PENDING,
                    deliveries.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            ).rowcount

    def requeue_dead(self, *, event_id: int | None = None, since: datetime | None = None) -> list[int]:
        """Give dead deliveries a fresh start (attempts and age reset); returns the events concerned."""
        now = utcnow()
        condition = deliveries.c.status == DEAD
        if event_id is not None:
            condition = and_(condition, deliveries.c.event_id == event_id)
        if since is not None:
            condition = and_(condition, deliveries.c.updated_at >= since)
        with self.db.write() as conn:
            event_ids = sorted(set(conn.execute(select(deliveries.c.event_id).where(condition)).scalars()))
            conn.execute(
                update(deliveries)
                .where(condition)
                .values(status=PENDING, attempts=0, first_attempt_at=None, next_attempt_at=now, updated_at=now)
            )
            for changed in event_ids:
                settle_event(conn, changed)
        return event_ids

    def retry(self, delivery_id: int) -> bool:
        """Send one finished delivery again now, with a fresh attempt budget. False if it is pending, in flight
        or unknown (nothing to retry)."""
        now = utcnow()
        with self.db.write() as conn:
            event_id = conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.status.in_(FINAL))
                .values(status=PENDING, attempts=0, first_attempt_at=None, next_attempt_at=now, updated_at=now)
                .returning(deliveries.c.event_id)
            ).scalar()
            if event_id is None:
                return False
            settle_event(conn, event_id)
        return True

    def get(self, delivery_id: int) -> dict[str, Any] | None:
        """One delivery."""
        with self.db.read() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return dict(row._mapping) if row else None

    def record_attempt(self, attempt: AttemptRecord) -> None:
        """Store one attempt (committed at once, so a crash later cannot lose the evidence)."""
        self.record_attempts([attempt])

    def record_attempts(self, records: list[AttemptRecord]) -> None:
        """Store the attempts of one call in one transaction (a batch's call is an attempt of each order)."""
        if records:
            with self.db.write() as conn:
                conn.execute(insert(attempts), [record.__dict__ for record in records])

    # -- inspection ----------------------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery becomes due."""
        with self.db.read() as conn:
            return conn.execute(
                select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.status == PENDING)
            ).scalar()

    def for_event(self, event_id: int) -> list[dict[str, Any]]:
        """The deliveries of an event, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(deliveries).where(deliveries.c.event_id == event_id).order_by(deliveries.c.id))
            return [dict(r._mapping) for r in rows]

    def attempts_for_event(self, event_id: int) -> list[dict[str, Any]]:
        """Every attempt made for an event, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id))
            return [dict(r._mapping) for r in rows]

    def count_by_status(self) -> dict[tuple[str, str], int]:
        """(destination, status) -> count."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deliveries.c.destination, deliveries.c.status, func.count()).group_by(
                    deliveries.c.destination, deliveries.c.status
                )
            )
            return {(d, s): int(n) for d, s, n in rows}


def _finish_in(conn: Connection, owner: str, outcome: Finish) -> bool:
    """`DeliveryStore.finish` inside the caller's transaction; False when the lease is no longer `owner`'s."""
    values: dict[str, Any] = {
        "status": outcome.status,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": outcome.now,
        "last_status": outcome.last_status,
        "last_error": outcome.last_error[:4000] if outcome.last_error else None,
    }
    if outcome.note is not None:
        values["note"] = outcome.note[:4000]
    if outcome.next_attempt_at is not None:
        values["next_attempt_at"] = outcome.next_attempt_at
    changed = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == outcome.delivery_id, deliveries.c.lease_owner == owner)
        .values(**values)
        .returning(deliveries.c.event_id)
    ).scalar()
    if changed is None:
        return False
    for write in outcome.also:
        write.run(conn) if isinstance(write, Upsert) else conn.execute(write)
    if outcome.status in FINAL:
        settle_event(conn, changed)
    return True


#: `_finish_in`'s update for many rows at once (`finish_many`): a value left None keeps the row's own.
_FINISH = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now"),
        last_status=bindparam("b_last_status"),
        last_error=bindparam("b_last_error"),
        note=func.coalesce(bindparam("b_note", type_=deliveries.c.note.type), deliveries.c.note),
        next_attempt_at=func.coalesce(
            bindparam("b_next", type_=deliveries.c.next_attempt_at.type), deliveries.c.next_attempt_at
        ),
    )
)


def _finish_values(outcome: Finish) -> dict[str, Any]:
    return {
        "b_id": outcome.delivery_id,
        "b_status": outcome.status,
        "b_now": outcome.now,
        "b_last_status": outcome.last_status,
        "b_last_error": outcome.last_error[:4000] if outcome.last_error else None,
        "b_note": outcome.note[:4000] if outcome.note is not None else None,
        "b_next": outcome.next_attempt_at,
    }


def _write_together(conn: Connection, writes: list[Write]) -> None:
    """Run `writes` in order, the upserts of one statement as one executemany (a row's key at most once in
    each: a later row of the same key goes in the next one, after it)."""
    runs: list[tuple[Executable, list[dict[str, Any]], set[tuple[Any, ...]]]] = []
    for write in writes:
        if not isinstance(write, Upsert):
            conn.execute(write)
            continue
        run = next((r for r in reversed(runs) if r[0] is write.statement), None)
        if run is None or write.key() in run[2]:
            values: list[dict[str, Any]] = []
            keys: set[tuple[Any, ...]] = set()
            run = (write.statement, values, keys)
            runs.append(run)
        run[1].append(write.values)
        run[2].add(write.key())
    for statement, values, _ in runs:
        conn.execute(statement, values)


def settle_events(conn: Connection, event_ids: list[int]) -> None:
    """`settle_event` for several events: one query for their deliveries, one update per resulting status."""
    if not event_ids:
        return
    newest = (
        select(func.max(deliveries.c.id))
        .where(deliveries.c.event_id.in_(event_ids))
        .group_by(deliveries.c.event_id, deliveries.c.destination)
    )
    found: dict[int, set[str]] = {event_id: set() for event_id in event_ids}
    for row in conn.execute(select(deliveries.c.event_id, deliveries.c.status).where(deliveries.c.id.in_(newest))):
        found[row[0]].add(row[1])
    settled: dict[str, list[int]] = {}
    for event_id, statuses in found.items():
        settled.setdefault(_event_status(statuses), []).append(event_id)
    for status, ids in settled.items():
        conn.execute(update(events).where(events.c.id.in_(ids)).values(status=status))


def _event_status(statuses: set[str]) -> str:
    if statuses & set(UNFINISHED):
        return "planned"
    if DEAD in statuses:
        return "dead"
    return "done"


def settle_event(conn: Connection, event_id: int) -> None:
    """Set an event's status from its deliveries: `done` when all are final and none dead, `dead` when one is.

    Only the newest delivery of each destination counts: after a replay the old dead one is history.
    """
    newest = (
        select(func.max(deliveries.c.id))
        .where(deliveries.c.event_id == event_id)
        .group_by(deliveries.c.destination)
        .scalar_subquery()
    )
    statuses = set(
        conn.execute(
            select(deliveries.c.status).where(deliveries.c.event_id == event_id, deliveries.c.id.in_(newest))
        ).scalars()
    )
    conn.execute(update(events).where(events.c.id == event_id).values(status=_event_status(statuses)))
