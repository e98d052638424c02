"""The shapes of the deliveries table's rows: a planned delivery and a claimed one (the statuses are
bridge/vocabulary.py's `DeliveryStatus`, one attempt its `Attempt`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
