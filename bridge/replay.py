"""Replaying events: re-read a quarantined event's raw body with today's code, or re-plan a processed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.platforms import READERS, SOURCES
from bridge.settings import Settings
from bridge.storage import Database, EventRecord, Storage
from bridge.sweeps.recorder import BACKFILL, RECONCILE, triage_api_state
from bridge.triage import triage
from bridge.vocabulary import EventStatus

#: A replay's status for an event whose body retention (or an erasure) has emptied.
PRUNED = "pruned"


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay did to one event."""

    event_id: int
    status: str
    message: str


class Replayer:
    """Replays events and dead deliveries."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        storage = Storage.of(db)
        self.events = storage.events
        self.deliveries = storage.deliveries

    def replay(self, event_id: int) -> ReplayOutcome:
        """Quarantined (or not triaged yet): triage the stored raw body now, with today's code.
        Otherwise: plan it again (fresh deliveries; the destinations' idempotency makes a second run update,
        never duplicate)."""
        record = self.events.get(event_id)
        if record is None:
            return ReplayOutcome(event_id, "missing", "no such event")
        if record.pruned_at is not None:
            when = record.pruned_at.strftime("%Y-%m-%d %H:%M UTC")
            return ReplayOutcome(
                event_id, PRUNED, f"nothing to replay: its body was erased on {when} (retention or an erasure)"
            )
        if record.status in (EventStatus.RECEIVED, EventStatus.QUARANTINED) or record.payload is None:
            return self._retriage(record)
        self.events.requeue(event_id, "replayed")
        return ReplayOutcome(event_id, EventStatus.ACCEPTED, "queued for planning again")

    def replay_dead(self, since: datetime | None = None) -> list[int]:
        """Retry every dead delivery (optionally only those that died since `since`); returns the events."""
        return self.deliveries.requeue_dead(since=since)

    def _retriage(self, record: EventRecord) -> ReplayOutcome:
        if record.origin in (BACKFILL, RECONCILE) and record.source in READERS:
            return self._retriage_api_state(record)
        source = SOURCES[record.source](self.settings)
        result = triage(source, record)
        event_id = record.id
        if result.status == EventStatus.DONE:
            self.events.replace_verdict(event_id, status=EventStatus.DONE, payload=None, errors=None, note=result.note)
            return ReplayOutcome(event_id, EventStatus.DONE, result.note)
        if result.status == EventStatus.QUARANTINED:
            self.events.replace_verdict(
                event_id,
                status=EventStatus.QUARANTINED,
                payload=None,
                errors=result.errors,
                note=f"replay: still {result.note}",
            )
            return ReplayOutcome(event_id, EventStatus.QUARANTINED, f"still {result.note}")
        self.events.replace_verdict(
            event_id, status=EventStatus.ACCEPTED, payload=result.payload, errors=None, note="replay: valid now"
        )
        return ReplayOutcome(event_id, EventStatus.ACCEPTED, "valid now; queued for planning")

    def _retriage_api_state(self, record: EventRecord) -> ReplayOutcome:
        """A state read from a store's API: its body is the API's node, not a webhook's, so its reader maps it."""
        payload, errors = triage_api_state(READERS[record.source](self.settings), record)
        if payload is None:
            self.events.replace_verdict(
                record.id, status=EventStatus.QUARANTINED, payload=None, errors=errors, note="replay: still invalid"
            )
            return ReplayOutcome(record.id, EventStatus.QUARANTINED, "still invalid")
        self.events.replace_verdict(
            record.id, status=EventStatus.ACCEPTED, payload=payload, errors=None, note="replay: valid now"
        )
        return ReplayOutcome(record.id, EventStatus.ACCEPTED, "valid now; queued for planning")
