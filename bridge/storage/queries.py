"""Read-side queries for operators (admin API, dashboard, metrics): filtered event lists with cursor
pagination, queue figures, hourly outcome counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, String, and_, cast, func, null, or_, select

from bridge.storage.events import EventRecord
from bridge.storage.session import Session
from bridge.storage.tables import deliveries, events
from bridge.vocabulary import UNFINISHED, EventStatus

PAGE_MAX = 200


@dataclass(frozen=True)
class EventFilter:
    """What an operator can filter events by. All given conditions must hold."""

    status: str | None = None
    source: str | None = None
    kind: str | None = None
    store: str | None = None
    text: str | None = None  # email (in the canonical payload), order id or checkout id
    since: datetime | None = None
    until: datetime | None = None
    destination_status: str | None = None  # e.g. dead: events with a delivery in that status

    def apply(self, query: Select[Any]) -> Select[Any]:
        """Add this filter's WHERE clauses to `query` (over the events table)."""
        conditions = []
        for column, value in (("status", self.status), ("source", self.source), ("kind", self.kind)):
            if value:
                conditions.append(events.c[column] == value)
        if self.store:
            conditions.append(events.c.store == self.store)
        if self.since:
            conditions.append(events.c.received_at >= self.since)
        if self.until:
            conditions.append(events.c.received_at < self.until)
        if self.text:
            needle = self.text.strip()
            conditions.append(
                or_(
                    events.c.order_id == needle,
                    events.c.checkout_id == needle,
                    # The email lives in the canonical JSON; a LIKE over its text form works on both dialects.
                    func.lower(_payload_text()).contains(needle.lower(), autoescape=True),
                )
            )
        if self.destination_status:
            conditions.append(
                events.c.id.in_(select(deliveries.c.event_id).where(deliveries.c.status == self.destination_status))
            )
        return query.where(and_(*conditions)) if conditions else query


def _payload_text() -> Any:
    return cast(events.c.payload, String)


@dataclass(frozen=True)
class EventSummary:
    """An event as lists show it: its columns without the raw body, headers, canonical payload or errors (spec
    §11: one row of those may be megabytes; a list must not pay for them). The email is read out of the
    canonical payload by the database."""

    id: int
    source: str
    topic: str
    status: str
    kind: str | None
    store: str | None
    order_id: str | None
    checkout_id: str | None
    email: str | None
    occurred_at: datetime | None
    received_at: datetime
    note: str | None


def _email() -> Any:
    # `payload.email`, else `payload.customer.email` (as the canonical form fills it), as text, on both dialects.
    direct = func.nullif(events.c.payload["email"].as_string(), "")
    nested = events.c.payload[("customer", "email")].as_string()
    return func.coalesce(direct, nested, null()).label("email")


SUMMARY_COLUMNS = (
    events.c.id,
    events.c.source,
    events.c.topic,
    events.c.status,
    events.c.kind,
    events.c.store,
    events.c.order_id,
    events.c.checkout_id,
    _email(),
    events.c.occurred_at,
    events.c.received_at,
    events.c.note,
)


@dataclass(frozen=True)
class Page:
    """One page of events, newest first; `next_cursor` fetches the following (older) page."""

    items: list[EventSummary]
    next_cursor: str | None


class OperatorQueries:
    """The queries behind the admin API, the dashboard and the metrics."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def events(self, flt: EventFilter, *, cursor: str | None = None, limit: int = 50) -> Page:
        """Events matching `flt`, newest first. The cursor is the last id of the previous page."""
        limit = max(1, min(limit, PAGE_MAX))
        query = flt.apply(select(*SUMMARY_COLUMNS)).order_by(events.c.id.desc()).limit(limit + 1)
        if cursor:
            if not cursor.isdigit():
                raise ValueError("cursor must be the value of next_cursor from the previous page")
            query = query.where(events.c.id < int(cursor))
        with self.db.read() as conn:
            rows = [EventSummary(**r._mapping) for r in conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, str(rows[-1].id) if more and rows else None)

    def event_ids(self, flt: EventFilter, limit: int = 100_000) -> list[int]:
        """Ids of every event matching `flt`, oldest first (for bulk operations)."""
        query = flt.apply(select(events.c.id)).order_by(events.c.id).limit(limit)
        with self.db.read() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def queue(self, now: datetime) -> dict[str, dict[str, Any]]:
        """Per destination: deliveries by status, pending depth and the age of the oldest pending one."""
        result: dict[str, dict[str, Any]] = {}
        with self.db.read() as conn:
            for destination, status, count in conn.execute(
                select(deliveries.c.destination, deliveries.c.status, func.count()).group_by(
                    deliveries.c.destination, deliveries.c.status
                )
            ):
                entry = result.setdefault(destination, {"by_status": {}, "depth": 0, "oldest_pending_age": None})
                entry["by_status"][status] = int(count)
                if status in UNFINISHED:
                    entry["depth"] += int(count)
            for destination, oldest in conn.execute(
                select(deliveries.c.destination, func.min(deliveries.c.created_at))
                .where(deliveries.c.status.in_(UNFINISHED))
                .group_by(deliveries.c.destination)
            ):
                if oldest is not None:
                    oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
                    age = (now - oldest_at).total_seconds()
                    result.setdefault(destination, {"by_status": {}, "depth": 0})["oldest_pending_age"] = age
        return result

    def unplanned(self) -> int:
        """Events received or accepted but not planned yet."""
        waiting = select(func.count()).where(events.c.status.in_((EventStatus.RECEIVED, EventStatus.ACCEPTED)))
        with self.db.read() as conn:
            return int(conn.execute(waiting).scalar() or 0)

    def hourly_outcomes(self, now: datetime, hours: int = 24) -> list[dict[str, Any]]:
        """Events received per hour over the last `hours`, by status (for the dashboard chart)."""
        since = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
        with self.db.read() as conn:
            rows = conn.execute(
                select(events.c.received_at, events.c.status).where(events.c.received_at >= since)
            ).all()
        buckets: dict[datetime, dict[str, int]] = {since + timedelta(hours=h): {} for h in range(hours)}
        for received_at, status in rows:
            hour = received_at.replace(minute=0, second=0, microsecond=0)
            if hour in buckets:
                buckets[hour][status] = buckets[hour].get(status, 0) + 1
        return [{"hour": hour.isoformat(), "counts": counts} for hour, counts in sorted(buckets.items())]

    def status_counts(self, event_ids: list[int]) -> dict[str, int]:
        """How many of `event_ids` are in each status now (a bulk job's outcome), in chunks of 500 ids."""
        counts: dict[str, int] = {}
        with self.db.read() as conn:
            for start in range(0, len(event_ids), 500):
                chunk = event_ids[start : start + 500]
                query = select(events.c.status, func.count()).where(events.c.id.in_(chunk)).group_by(events.c.status)
                for status, n in conn.execute(query):
                    counts[status] = counts.get(status, 0) + int(n)
        return counts

    def related(self, record: EventRecord, limit: int = 20) -> list[Row[*tuple[Any, ...]]]:
        """Other events of the same store about the same checkout or order (checkout → abandoned cart →
        order → refund), oldest first."""
        pairs = ((events.c.checkout_id, record.checkout_id), (events.c.order_id, record.order_id))
        keys = [column == value for column, value in pairs if value]
        if not keys:
            return []
        query = (
            select(
                events.c.id,
                events.c.kind,
                events.c.topic,
                events.c.status,
                events.c.received_at,
                events.c.order_id,
                events.c.checkout_id,
            )
            .where(or_(*keys), events.c.id != record.id)
            .order_by(events.c.received_at, events.c.id)
            .limit(limit)
        )
        if record.store:
            query = query.where(events.c.store == record.store)
        with self.db.read() as conn:
            return list(conn.execute(query).all())
