"""`GET /metrics` (Prometheus exposition) and the per-request JSON log line with the webhook metrics.

`/metrics` is unauthenticated, like most Prometheus endpoints: it carries counts, latencies and queue figures
by source, kind, outcome and destination, never a secret, an id, a payload or a URL with a query.

Every request gets one log line (method, path, status, duration_ms; webhooks add source, event_id, outcome,
kind). The webhook view hands its outcome over with `note_webhook`; requests it rejected by raising (401,
400, 413, …) are counted from their status as `rejected_<code>`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from bridge.context import BridgeContext
from bridge.metrics import webhook_received
from bridge.metrics_scrape import render

log = logging.getLogger("bridge.http")
bp = Blueprint("metrics", __name__)
WEBHOOK_ENDPOINT = "webhooks.webhook"


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: every process's counters and histograms, plus gauges read from the database."""
    context = BridgeContext.current()
    body, content_type = render(context.db, context.settings)
    return Response(body, status=200, headers={"Content-Type": content_type})


def note_webhook(*, outcome: str, event_id: int | None, kind: str | None) -> None:
    """Called by the webhook view once it knows the outcome of the request it is answering."""
    g.bridge_webhook = (outcome, event_id, kind)


@bp.before_app_request
def _start_clock() -> None:
    g.bridge_started = time.perf_counter()


@bp.after_app_request
def _finish(response: Response) -> Response:
    started = g.get("bridge_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    status = response.status_code
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if request.endpoint == WEBHOOK_ENDPOINT:
        fields.update(_webhook(status, seconds))
    if status >= 400:
        body = response.get_json(silent=True) if response.is_json else None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            fields["error"] = body["error"]
    if not current_app.config.get("BRIDGE_QUIET_REQUESTS"):
        log.info("request", extra=fields)
    return response


def _webhook(status: int, seconds: float) -> dict[str, Any]:
    """Count the webhook request; the fields it adds to the log line."""
    name = (request.view_args or {}).get("source", "")
    source = name if name in BridgeContext.current().sources else "unknown"
    noted = g.get("bridge_webhook")
    if noted is not None:
        outcome, event_id, kind = noted
    else:
        outcome, event_id, kind = ("error" if status >= 500 else f"rejected_{status}"), None, None
    webhook_received(source, kind, outcome, seconds)
    return {"source": source, "event_id": event_id, "outcome": outcome, "kind": kind}
