"""The request path: verify → parse → interpret → validate → store. Nothing here calls a destination."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from bridge.canonical import validate_canonical
from bridge.errors import InvalidPayload, MalformedPayload
from bridge.sources.base import Ignored, Inbound, Interpreted, Source
from bridge.storage.events import ACCEPTED, QUARANTINED, EventStore, NewEvent
from bridge.timeutil import parse_datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What the webhook endpoint answers."""

    status_code: int
    body: dict[str, Any]
    event_id: int | None = None
    outcome: str = ""
    kind: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_document(body: bytes) -> Any:
    """Parse a JSON body exactly: decimals stay Decimal, big integers stay int. Raises MalformedPayload."""
    if not body.strip():
        raise MalformedPayload("the body is empty; a JSON object is required")
    try:
        document = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"the body is not valid JSON: {_short(exc)}") from None
    if not isinstance(document, dict):
        raise MalformedPayload(f"a JSON object is required, not {type(document).__name__}")
    return document


def receive(source: Source, inbound: Inbound, events: EventStore) -> Reply:
    """Handle one authentic-or-not webhook request for `source`; raises InboundError subclasses for 4xx."""
    early = source.preflight(inbound)
    if early is not None:
        return _ignored(early)
    source.authenticate(inbound)
    document = parse_document(inbound.body)
    interpreted = source.interpret(inbound, document)
    if isinstance(interpreted, Ignored):
        return _ignored(interpreted)
    payload, errors = canonicalise(source, interpreted, inbound)
    if errors is not None and source.rejects_invalid:
        raise InvalidPayload(errors)
    new = NewEvent(
        source=source.name,
        topic=interpreted.topic,
        dedupe_key=interpreted.dedupe_key,
        status=ACCEPTED if errors is None else QUARANTINED,
        received_at=inbound.received_at,
        headers=source.keep_headers(inbound),
        body=inbound.body,
        payload=payload,
        errors=errors,
        kind=(payload or {}).get("kind") or interpreted.kind or None,
        store=(payload or {}).get("store") or interpreted.store,
        order_id=(payload or {}).get("order_id"),
        checkout_id=(payload or {}).get("checkout_id"),
        occurred_at=parse_datetime(payload["occurred_at"]) if payload else None,
    )
    event_id, created = events.record(new)
    if not created:
        return Reply(200, {"status": "duplicate", "event_id": str(event_id)}, event_id, "duplicate", new.kind)
    if errors is not None:
        body = {"status": "quarantined", "event_id": str(event_id), "errors": errors}
        return Reply(202, body, event_id, "quarantined", new.kind)
    return Reply(202, {"status": "accepted", "event_id": str(event_id)}, event_id, "accepted", new.kind)


def canonicalise(source: Source, event: Interpreted, inbound: Inbound) -> tuple[dict[str, Any] | None, Any]:
    """The validated canonical JSON of an interpreted event, or (None, field errors)."""
    try:
        candidate = source.to_canonical(event, inbound)
        if candidate.get("occurred_at") is None:
            # A payload without any timestamp happened, as far as anyone can tell, when it arrived.
            candidate["occurred_at"] = inbound.received_at
        return validate_canonical(candidate), None
    except ValidationError as exc:
        return None, exc.messages
    except Exception as exc:
        # A payload shape no mapping foresaw is still authentic: keep it for replay after a fix, never a 5xx.
        log.exception("mapping failed", extra={"source": source.name, "topic": event.topic})
        return None, {"_schema": [f"could not be mapped ({type(exc).__name__}); stored for replay"]}


def _ignored(ignored: Ignored) -> Reply:
    return Reply(200, {"status": "ignored", "reason": ignored.reason}, outcome="ignored")


def _short(exc: BaseException) -> str:
    return str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"
