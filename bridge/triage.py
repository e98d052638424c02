"""Triage of a stored event: parse its body, recognise the platform event, map its payload to a canonical
candidate and validate it; the verdict is `accepted`, `quarantined` or (ignored) `done`.

The request path stores platform events raw (spec §10); the worker's planner triages them here, and a
replay of a quarantined event does the same with today's code. The `custom` source validates in the request
(its sender must get the 422) through `canonicalise` too.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import Headers

from bridge.canonical import validate_canonical
from bridge.documents import parse_document
from bridge.errors import InboundError
from bridge.platforms.adapter import Ignored, Inbound, Recognised, Source
from bridge.storage.events import EventRecord
from bridge.vocabulary import EventStatus

log = logging.getLogger(__name__)

#: Stored and returned validation errors are capped (spec §11): a hostile payload cannot make them huge.
MAX_ERROR_MESSAGES = 50
MAX_ERROR_BYTES = 16 * 1024


@dataclass(frozen=True)
class Verdict:
    """What a stored raw event turned out to be: `accepted` with its canonical payload, `quarantined` with
    the (capped) field errors, or `done` when it turns out to be a topic or status the bridge ignores."""

    status: str
    payload: dict[str, Any] | None
    errors: dict[str, Any] | None
    note: str


def canonicalise(source: Source, event: Recognised, inbound: Inbound) -> tuple[dict[str, Any] | None, Any]:
    """The validated canonical JSON of a recognised event, or (None, capped field errors)."""
    try:
        candidate = source.to_canonical(event, inbound)
        if candidate.get("occurred_at") is None:
            # A payload without any timestamp happened, as far as anyone can tell, when it arrived.
            candidate["occurred_at"] = inbound.received_at
        return validate_canonical(candidate), None
    except ValidationError as exc:
        # marshmallow raises from a frame that holds the error itself (a reference cycle through the traceback)
        # and the candidate it refused: cleared now, the candidate is freed at once, not by a later collection
        # that walks all of it (~8 ms for a 5,000-item body).
        traceback.clear_frames(exc.__traceback__)
        return None, cap_errors(exc.messages)
    except Exception as exc:
        # A payload shape no mapping foresaw is still authentic: keep it for replay after a fix, never a 5xx.
        log.exception("mapping failed", extra={"source": source.name, "topic": event.topic})
        return None, {"_schema": [f"could not be mapped ({type(exc).__name__}); stored for replay"]}


def triage(source: Source, record: EventRecord) -> Verdict:
    """Read a stored event's raw body again, as the request path would have: the same headers (those kept),
    the same document, then the mapping and validation."""
    inbound = Inbound(
        body=record.body, headers=Headers(record.headers), mimetype="application/json", received_at=record.received_at
    )
    try:
        recognised = source.recognise(inbound, parse_document(record.body))
    except InboundError as exc:
        return Verdict(EventStatus.QUARANTINED, None, {"_schema": [exc.message]}, f"unreadable: {exc.message}")
    if isinstance(recognised, Ignored):
        # Only a body the request path could not read gets here (it would have been answered `ignored`).
        return Verdict(EventStatus.DONE, None, None, f"ignored: {recognised.reason}")
    # The topic header is not signed: a body that says it is something else is not delivered (spec §8).
    reason = source.contradiction(recognised, inbound)
    if reason is not None:
        return Verdict(EventStatus.QUARANTINED, None, {"_topic": [reason]}, f"topic contradicted: {reason}")
    payload, errors = canonicalise(source, recognised, inbound)
    if errors is not None:
        return Verdict(EventStatus.QUARANTINED, None, errors, f"invalid: {summarise(errors)}")
    return Verdict(EventStatus.ACCEPTED, payload, None, "valid")


def cap_errors(messages: Any) -> dict[str, Any]:
    """marshmallow's messages, cut to the first MAX_ERROR_MESSAGES messages and MAX_ERROR_BYTES of JSON.

    A body of 340,000 bad line items would otherwise store (and return) tens of megabytes of errors."""
    if not isinstance(messages, dict):
        messages = {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    kept: dict[str, Any] = {}
    budget = {"messages": MAX_ERROR_MESSAGES, "bytes": MAX_ERROR_BYTES}
    truncated = not _copy_into(messages, kept, budget)
    if truncated:
        kept["_truncated"] = [f"only the first {MAX_ERROR_MESSAGES} messages (or {MAX_ERROR_BYTES} bytes) are kept"]
    return kept


def _copy_into(source: dict[Any, Any], target: dict[str, Any], budget: dict[str, int]) -> bool:
    """Copy nested messages while the budget lasts; False once something had to be left out."""
    for key, value in source.items():
        name = str(key)[:200]
        if isinstance(value, dict):
            child: dict[str, Any] = {}
            complete = _copy_into(value, child, budget)
            if child:
                target[name] = child
            if not complete:
                return False
            continue
        items = value if isinstance(value, list) else [value]
        kept: list[str] = []
        for item in items:
            text = str(item)[:500]
            cost = len(json.dumps(text, ensure_ascii=False)) + len(name) + 8
            if budget["messages"] <= 0 or budget["bytes"] < cost:
                if kept:
                    target[name] = kept
                return False
            budget["messages"] -= 1
            budget["bytes"] -= cost
            kept.append(text)
        target[name] = kept
    return True


def summarise(errors: dict[str, Any], limit: int = 3) -> str:
    """`field: message; …` for the first few errors (a note, a log line)."""
    parts: list[str] = []

    def walk(prefix: str, node: Any) -> None:
        if len(parts) >= limit:
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, list):
            parts.append(f"{prefix}: {node[0] if node else ''}")
        else:
            parts.append(f"{prefix}: {node}")

    walk("", errors)
    return "; ".join(parts)[:500]
