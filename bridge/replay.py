"""Replaying events: re-read a quarantined event's raw body with today's code, or re-plan a processed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import Headers

from bridge.errors import InboundError
from bridge.ingest import canonicalise, parse_document
from bridge.settings import Settings
from bridge.sources import SOURCES
from bridge.sources.base import Ignored, Inbound
from bridge.storage import Database, EventStore
from bridge.storage.deliveries import DeliveryStore
from bridge.storage.events import ACCEPTED, QUARANTINED


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
        self.events = EventStore(db)
        self.deliveries = DeliveryStore(db)

    def replay(self, event_id: int) -> ReplayOutcome:
        """Quarantined: interpret the stored raw body again. Otherwise: plan it again (fresh deliveries; the
        destinations' idempotency makes a second run update, never duplicate)."""
        record = self.events.get(event_id)
        if record is None:
            return ReplayOutcome(event_id, "missing", "no such event")
        if record.status == QUARANTINED or record.payload is None:
            return self._reinterpret(record.id, record.source, record.headers, record.body, record.received_at)
        self.events.requeue(event_id, "replayed")
        return ReplayOutcome(event_id, ACCEPTED, "queued for planning again")

    def replay_dead(self, since: datetime | None = None) -> list[int]:
        """Retry every dead delivery (optionally only those that died since `since`); returns the events."""
        return self.deliveries.requeue_dead(since=since)

    def _reinterpret(
        self, event_id: int, source_name: str, headers: dict[str, str], body: bytes, received_at: datetime
    ) -> ReplayOutcome:
        source = SOURCES[source_name](self.settings)
        inbound = Inbound(body=body, headers=Headers(headers), mimetype="application/json", received_at=received_at)
        try:
            interpreted = source.interpret(inbound, parse_document(body))
        except InboundError as exc:
            return ReplayOutcome(event_id, QUARANTINED, f"still unreadable: {exc.message}")
        if isinstance(interpreted, Ignored):
            return ReplayOutcome(event_id, QUARANTINED, f"still not deliverable: {interpreted.reason}")
        payload, errors = canonicalise(source, interpreted, inbound)
        if errors is not None:
            self.events.replace_interpretation(
                event_id, status=QUARANTINED, payload=None, errors=errors, note="replay: still invalid"
            )
            return ReplayOutcome(event_id, QUARANTINED, f"still invalid: {errors}")
        self.events.replace_interpretation(
            event_id, status=ACCEPTED, payload=payload, errors=None, note="replay: valid now"
        )
        return ReplayOutcome(event_id, ACCEPTED, "valid now; queued for planning")
