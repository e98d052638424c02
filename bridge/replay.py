"""Replaying events: re-read a quarantined event's raw body with today's code, or re-plan a processed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.interpret import interpret
from bridge.platforms import READERS, SOURCES
from bridge.settings import Settings
from bridge.storage import Database, EventRecord, Storage
from bridge.storage.events import ACCEPTED, DONE, QUARANTINED, RECEIVED
from bridge.sweeps.recorder import BACKFILL, RECONCILE, reinterpret

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
        """Quarantined (or not interpreted yet): interpret the stored raw body now, with today's code.
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
        if record.status in (RECEIVED, QUARANTINED) or record.payload is None:
            return self._reinterpret(record)
        self.events.requeue(event_id, "replayed")
        return ReplayOutcome(event_id, ACCEPTED, "queued for planning again")

    def replay_dead(self, since: datetime | None = None) -> list[int]:
        """Retry every dead delivery (optionally only those that died since `since`); returns the events."""
        return self.deliveries.requeue_dead(since=since)

    def _reinterpret(self, record: EventRecord) -> ReplayOutcome:
        if record.origin in (BACKFILL, RECONCILE) and record.source in READERS:
            return self._reinterpret_api_state(record)
        source = SOURCES[record.source](self.settings)
        result = interpret(source, record)
        event_id = record.id
        if result.status == DONE:
            self.events.replace_interpretation(event_id, status=DONE, payload=None, errors=None, note=result.note)
            return ReplayOutcome(event_id, DONE, result.note)
        if result.status == QUARANTINED:
            self.events.replace_interpretation(
                event_id, status=QUARANTINED, payload=None, errors=result.errors, note=f"replay: still {result.note}"
            )
            return ReplayOutcome(event_id, QUARANTINED, f"still {result.note}")
        self.events.replace_interpretation(
            event_id, status=ACCEPTED, payload=result.payload, errors=None, note="replay: valid now"
        )
        return ReplayOutcome(event_id, ACCEPTED, "valid now; queued for planning")

    def _reinterpret_api_state(self, record: EventRecord) -> ReplayOutcome:
        """A state read from a store's API: its body is the API's node, not a webhook's, so its reader maps it."""
        payload, errors = reinterpret(READERS[record.source](self.settings), record)
        if payload is None:
            self.events.replace_interpretation(
                record.id, status=QUARANTINED, payload=None, errors=errors, note="replay: still invalid"
            )
            return ReplayOutcome(record.id, QUARANTINED, "still invalid")
        self.events.replace_interpretation(
            record.id, status=ACCEPTED, payload=payload, errors=None, note="replay: valid now"
        )
        return ReplayOutcome(record.id, ACCEPTED, "valid now; queued for planning")
