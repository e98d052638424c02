"""The shapes of the deliveries table's rows: a planned delivery and a claimed one (the statuses are
bridge/vocabulary.py's `DeliveryStatus`, one attempt its `Attempt`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewDelivery:
    """A planned delivery: where it goes and which lane orders it."""

    destination: str
    lane: str


@dataclass(frozen=True)
class Delivery:
    """A delivery this worker holds the lease on."""

    id: int
    event_id: int
    destination: str
    lane: str
    attempts: int
    first_attempt_at: datetime


@dataclass(frozen=True)
class Finish:
    """One delivery's outcome as `Deliveries.finish` records it, for `Deliveries.finish_many` (a claimed
    group's outcomes in one transaction). `also`: statements written with it (its applied version, the order
    state it sent)."""

    delivery_id: int
    status: str
    now: datetime
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    note: str | None = None
    also: Sequence[Any] = ()
