"""`POST /webhooks/<source>`: the thin HTTP shell around `bridge.ingest.receive`."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, jsonify, request

from bridge.context import BridgeContext
from bridge.errors import StorageUnavailable, TooLarge, UnknownSource
from bridge.ingest import Reply, receive
from bridge.platforms.adapter import Inbound
from bridge.timeutil import utcnow
from bridge.web.metrics import note_webhook

log = logging.getLogger("bridge.webhooks")
bp = Blueprint("webhooks", __name__)
RETRY_AFTER_SECONDS = "5"


@bp.post("/webhooks/<source>")
def webhook(source: str) -> tuple[Response, int] | Response:
    """Receive one webhook. Every answer is JSON; a 2xx means the event is committed."""
    started = time.perf_counter()
    bridge = BridgeContext.current()
    adapter = bridge.sources.get(source)
    if adapter is None:
        raise UnknownSource()
    length = request.content_length
    if length is not None and length > bridge.settings.max_body:
        raise TooLarge()
    # Read one byte past the limit: a chunked body has no Content-Length, and werkzeug would otherwise stop at
    # the limit silently and hand over a truncated body.
    body = request.stream.read(bridge.settings.max_body + 1)
    if len(body) > bridge.settings.max_body:
        raise TooLarge()
    inbound = Inbound(
        body=body,
        headers=request.headers,
        mimetype=request.mimetype,
        received_at=utcnow(),
    )
    try:
        reply = receive(adapter, inbound, bridge.events)
    except StorageUnavailable:
        _log(source, 503, "unavailable", None, None, started)
        response = jsonify(error="unavailable", message="the event was not stored; retry later")
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response, 503
    _log(source, reply.status_code, reply.outcome, reply.event_id, reply.kind, started)
    return _respond(reply)


def _respond(reply: Reply) -> tuple[Response, int]:
    response = jsonify(reply.body)
    response.headers.update(reply.headers)
    return response, reply.status_code


def _log(source: str, status: int, outcome: str, event_id: int | None, kind: str | None, started: float) -> None:
    # The request's one log line and its metrics are written by bridge.web.metrics once the response is ready.
    note_webhook(outcome=outcome, event_id=event_id, kind=kind)
