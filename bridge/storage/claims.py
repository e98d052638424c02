"""Claiming deliveries with a lease, renewing and reclaiming leases: the worker's side of the delivery queue.

A claim is one transaction: SQLite serialises claimers with BEGIN IMMEDIATE, PostgreSQL lets them pass each
other with FOR UPDATE SKIP LOCKED, so no delivery is ever leased to two owners at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update

from bridge.storage.delivery_rows import Delivery
from bridge.storage.session import Session
from bridge.storage.tables import deliveries
from bridge.vocabulary import UNFINISHED, DeliveryStatus


class Leases:
    """The claiming half of `Deliveries` (one repository, two modules)."""

    db: Session

    # -- claiming ------------------------------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, lease: float, skip_destinations: frozenset[str]) -> Delivery | None:
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
    ) -> list[Delivery]:
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
                    status=DeliveryStatus.IN_FLIGHT,
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
        return sorted((Delivery(*row) for row in rows), key=lambda c: order[c.id])

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
            .where(deliveries.c.status == DeliveryStatus.PENDING, deliveries.c.next_attempt_at <= now, ~blocked)
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
                        deliveries.c.status == DeliveryStatus.IN_FLIGHT,
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
                .where(deliveries.c.status == DeliveryStatus.IN_FLIGHT, condition)
                .values(
                    status=DeliveryStatus.PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now,
                    updated_at=now,
                )
            ).rowcount

    def lease_owners(self) -> list[str]:
        """Owners of current leases."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deliveries.c.lease_owner).where(deliveries.c.status == DeliveryStatus.IN_FLIGHT).distinct()
            ).scalars()
            return [r for r in rows if r]
