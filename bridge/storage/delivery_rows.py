"""The vocabulary of the deliveries table: its statuses, a planned leg, a claimed delivery, one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
