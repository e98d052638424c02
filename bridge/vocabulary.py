"""The bridge's words, defined once: the statuses stored in the database and shown by the API, the record
of one HTTP attempt, and a delivery's outcome (docs/glossary.md names each concept).

A bottom-layer module: it imports nothing of the bridge, so storage, platforms, destinations, the worker and
the admin all speak the same words. Every status is a `StrEnum` whose value is the string stored and shown:
a member compares equal to (and hashes as) its string, so rows read back as plain `str` still match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventStatus(StrEnum):
    """Where a stored event is in its life (the `events.status` column)."""

    #: A platform event stored raw, waiting for the worker to triage it (map and validate).
    RECEIVED = "received"
    #: A valid canonical event, waiting to be planned into deliveries.
    ACCEPTED = "accepted"
    #: Authentic but invalid: kept with its field errors until a replay.
    QUARANTINED = "quarantined"
    #: Its deliveries exist; some are not final yet.
    PLANNED = "planned"
    #: Every delivery is final and none is dead (or the event needs none).
    DONE = "done"
    #: A delivery of it is dead.
    DEAD = "dead"


class DeliveryStatus(StrEnum):
    """Where a delivery is (the `deliveries.status` column)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    DEAD = "dead"
    #: Not sent: the destination already holds a newer version of the same subject.
    STALE = "stale"
    #: Run with the destination disabled: every call recorded, none sent.
    DRY_RUN = "dry_run"
    #: Nothing to send (its outcome's note says why).
    SKIPPED = "skipped"


#: Deliveries still in the queue.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)
#: Deliveries that will not run again unless retried by hand.
FINAL = (
    DeliveryStatus.DONE,
    DeliveryStatus.DEAD,
    DeliveryStatus.STALE,
    DeliveryStatus.DRY_RUN,
    DeliveryStatus.SKIPPED,
)


class AttemptOutcome(StrEnum):
    """How one HTTP attempt ended (the `attempts.outcome` column)."""

    OK = "ok"
    #: A status the worker retries (408/425/429/5xx) or a refused redirect.
    RETRY = "retry"
    #: A final refusal (any other non-2xx, or a GraphQL answer with `errors`).
    FAILED = "failed"
    #: No answer: the network failed or the call timed out.
    ERROR = "error"
    #: Not sent: the destination is in dry-run.
    DRY_RUN = "dry_run"


class SweepOutcome(StrEnum):
    """How a reconcile or backfill run ended."""

    OK = "ok"
    FAILED = "failed"
    #: Another process holds the sweep's lease.
    BUSY = "busy"


class JobStatus(StrEnum):
    """Where an admin job (a bulk retry) is."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Attempt:
    """One HTTP call (or dry-run) as it is recorded: for a delivery, for a store-API read or for a check. Never
    headers: they carry the credentials. `request` and `response` are excerpts."""

    started_at: datetime
    duration_ms: int
    method: str
    url: str
    request: str | None
    status_code: int | None
    response: str | None
    error: str | None
    outcome: AttemptOutcome


@dataclass(frozen=True)
class Outcome:
    """How a destination ended a delivery when it did not raise: `done`, or `skipped` with the reason in
    `note`."""

    status: DeliveryStatus
    note: str
