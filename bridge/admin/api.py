"""`/admin/api/…`: the admin JSON API (bearer BRIDGE_ADMIN_TOKEN).

Thin HTTP over `AdminService`: each view validates its input with a schema from `bridge.admin.schemas`
(422 `invalid_request` otherwise), calls the service, and dumps the answer with a schema. Every successful
answer built from stored data passes through the redactor, so no setting value (secret, token, database
password) can leave this way. Error answers and jobs are not redacted: they hold only what the request sent
(unknown keys, a path segment, a job's filter), and redacting that would be a secret oracle (spec §11).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import Schema, ValidationError

from bridge.admin import schemas as s
from bridge.admin.auth import require_admin_token
from bridge.admin.service import AdminService
from bridge.context import BridgeContext
from bridge.redaction import Redactor
from bridge.storage.events import EventRecord
from bridge.storage.queries import EventSummary
from bridge.vocabulary import DeliveryStatus

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")
EXCERPT_CHARS = 4000  # of an attempt's request and response bodies, and a delivery's last error
REDACTOR_KEY = "bridge.admin.redactor"
UNREDACTED = ("admin_api.show_job", "admin_api.start_bulk", "admin_api.list_destinations")


def _admin() -> AdminService:
    return AdminService.current()


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validated input; a ValidationError becomes 422 through the handler below."""
    loaded: dict[str, Any] = schema.load(data)
    return loaded


def _json_body() -> Any:
    """The request body as JSON, whatever its Content-Type; an empty body is `{}`."""
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ValidationError({"_schema": ["The body must be a JSON object."]}) from None


def _reply(schema: Schema, obj: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(schema.dump(obj)), status


def _not_found(what: str) -> tuple[Response, int]:
    return jsonify(error="not_found", message=f"no {what}"), 404


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> tuple[Response, int]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return jsonify(error="invalid_request", errors=messages), 422


@bp.after_request
def _redact(response: Response) -> Response:
    """Scrub answers built from stored data of the configured secrets (they should never be stored; this makes
    sure). Never an answer that reflects the request: errors (4xx) and jobs (their filter is the request's)."""
    if response.mimetype != "application/json" or response.direct_passthrough:
        return response
    if response.status_code >= 400 or request.endpoint in UNREDACTED:
        return response
    redactor = current_app.extensions.get(REDACTOR_KEY)
    if redactor is None:
        redactor = current_app.extensions[REDACTOR_KEY] = Redactor.for_settings(BridgeContext.current().settings)
    document = response.get_json(silent=True)
    if document is None or not redactor.secrets:
        return response
    scrubbed = redactor.scrub(document)
    if scrubbed != document:
        response.set_data(current_app.json.dumps(scrubbed) + "\n")
    return response


# -- events ---------------------------------------------------------------------------------------------------


@bp.get("/events")
@require_admin_token
def list_events() -> tuple[Response, int]:
    """Events matching the query's filters, newest first, one page at a time."""
    args = _load(s.EventQuerySchema(), request.args.to_dict())
    page = _admin().list_events(s.to_filter(args), cursor=args.get("cursor"), limit=args["limit"])
    return _reply(s.EventPageSchema(), {"items": [summary(e) for e in page.items], "next_cursor": page.next_cursor})


@bp.get("/events/<int:event_id>")
@require_admin_token
def show_event(event_id: int) -> tuple[Response, int]:
    """One event with its raw body, canonical payload, errors, headers, deliveries and every attempt."""
    detail = _admin().event_detail(event_id) if event_id <= s.MAX_ID else None
    if detail is None:
        return _not_found(f"event {event_id}")
    record = detail.event
    body = {
        **summary(record),
        "dedupe_key": record.dedupe_key,
        "headers": record.headers or {},
        "body": bytes(record.body).decode("utf-8", errors="replace"),
        "payload": record.payload,
        "errors": record.errors,
        "deliveries": [_delivery(d) for d in detail.deliveries],
        "attempts": [_attempt(a) for a in detail.attempts],
    }
    return _reply(s.EventDetailSchema(), body)


@bp.post("/events/<int:event_id>/replay")
@require_admin_token
def replay_event(event_id: int) -> tuple[Response, int]:
    """Replay one event: a quarantined one is re-read; any other is planned again (idempotently)."""
    if event_id > s.MAX_ID:
        return _not_found(f"event {event_id}")
    outcome = _admin().replay_event(event_id)
    if outcome.status == "missing":
        return _not_found(f"event {event_id}")
    if outcome.status == "pruned":
        return jsonify(error="gone", message=f"event {event_id}: {outcome.message}"), 409
    body = {"event_id": outcome.event_id, "status": outcome.status, "message": outcome.message}
    return _reply(s.ReplayOutcomeSchema(), body, 202)


@bp.post("/deliveries/<int:delivery_id>/retry")
@require_admin_token
def retry_delivery(delivery_id: int) -> tuple[Response, int]:
    """Send a finished (e.g. dead) delivery again now; 409 while it is pending or in flight."""
    admin = _admin()
    if delivery_id > s.MAX_ID or admin.delivery(delivery_id) is None:
        return _not_found(f"delivery {delivery_id}")
    if not admin.retry_delivery(delivery_id):
        return jsonify(error="conflict", message=f"delivery {delivery_id} is pending or in flight already"), 409
    return _reply(s.DeliverySchema(), _delivery(admin.delivery(delivery_id) or {}), 202)


# -- bulk jobs ------------------------------------------------------------------------------------------------


@bp.post("/bulk")
@require_admin_token
def start_bulk() -> tuple[Response, int]:
    """Start a bulk replay / dead-delivery retry over the events matching a filter; poll the job."""
    raw = _json_body()
    args = _load(s.BulkRequestSchema(), raw)
    filter_args = args["filter"]
    if args["action"] == "retry_dead" and "destination_status" not in filter_args:
        filter_args = {
            **filter_args,
            "destination_status": DeliveryStatus.DEAD,
        }  # only events that have something to retry
    params = {"action": args["action"], "filter": raw["filter"]}
    job_id = _admin().start_bulk(args["action"], s.to_filter(filter_args), params)
    return _reply(s.BulkAcceptedSchema(), {"job_id": job_id}, 202)


@bp.get("/jobs/<int:job_id>")
@require_admin_token
def show_job(job_id: int) -> tuple[Response, int]:
    """A bulk job's progress: total, done, failed, status."""
    job = _admin().job(job_id) if job_id <= s.MAX_ID else None
    if job is None:
        return _not_found(f"job {job_id}")
    return _reply(s.JobSchema(), job)


# -- destinations ---------------------------------------------------------------------------------------------


@bp.get("/destinations")
@require_admin_token
def list_destinations() -> tuple[Response, int]:
    """Each destination: paused, circuit, rate budget, queue depth, oldest pending age."""
    return _reply(s.DestinationListSchema(), {"items": _admin().destinations()})


@bp.post("/destinations/<name>/pause")
@require_admin_token
def pause_destination(name: str) -> tuple[Response, int]:
    """Pause a destination: its deliveries wait without spending attempts."""
    return _set_paused(name, True)


@bp.post("/destinations/<name>/resume")
@require_admin_token
def resume_destination(name: str) -> tuple[Response, int]:
    """Resume a destination: clears a manual pause, a Retry-After pause and an open circuit; its waiting
    deliveries are due at once."""
    return _set_paused(name, False)


def _set_paused(name: str, paused: bool) -> tuple[Response, int]:
    admin = _admin()
    try:
        admin.set_paused(name, paused)
    except KeyError:
        return _not_found(f"destination {name}")
    state = next(d for d in admin.destinations() if d["name"] == name)
    return _reply(s.DestinationSchema(), state)


# -- shaping --------------------------------------------------------------------------------------------------


def summary(record: EventRecord | EventSummary) -> dict[str, Any]:
    """The list form of an event (a list's EventSummary carries the email; a full record has it in its payload)."""
    if isinstance(record, EventSummary):
        email = record.email
    else:
        payload = record.payload if isinstance(record.payload, dict) else {}
        customer = found if isinstance(found := payload.get("customer"), dict) else {}
        email = payload.get("email") or customer.get("email")
    return {
        "id": record.id,
        "source": record.source,
        "topic": record.topic,
        "status": record.status,
        "kind": record.kind,
        "store": record.store,
        "order_id": record.order_id,
        "checkout_id": record.checkout_id,
        "email": email,
        "occurred_at": record.occurred_at,
        "received_at": record.received_at,
        "note": record.note,
    }


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """The first `limit` characters of `text`, saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "last_error": excerpt(row.get("last_error"))}


def _attempt(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "request": excerpt(row.get("request")), "response": excerpt(row.get("response"))}


# The privacy routes (spec §16) live in their own module, on this blueprint.
from bridge.admin import privacy_api  # noqa: E402, F401
