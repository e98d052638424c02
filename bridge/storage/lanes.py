"""Which delivery holds up another: deliveries of one lane (one order, or a cart and the order it became) go
out one at a time, oldest event first, so a pending delivery may be waiting for an earlier one to finish."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from bridge.storage.database import Database
from bridge.storage.tables import deliveries
from bridge.vocabulary import UNFINISHED, DeliveryStatus


def ahead_of(db: Database, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Delivery id -> the id of the earliest unfinished delivery ahead of it in its lane, for each pending
    delivery in `rows` that is held up (the same rule `Deliveries.claim` applies)."""
    held: dict[int, int] = {}
    pending = [row for row in rows if row.get("status") == DeliveryStatus.PENDING]
    if not pending:
        return held
    with db.read() as conn:
        for row in pending:
            ahead = conn.execute(
                select(func.min(deliveries.c.id)).where(
                    deliveries.c.lane == row["lane"],
                    deliveries.c.status.in_(UNFINISHED),
                    or_(
                        deliveries.c.event_id < row["event_id"],
                        and_(deliveries.c.event_id == row["event_id"], deliveries.c.id < row["id"]),
                    ),
                )
            ).scalar()
            if ahead is not None:
                held[row["id"]] = int(ahead)
    return held
