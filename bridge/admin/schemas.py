"""Marshmallow schemas of the admin API: what it accepts (query strings, JSON bodies) and what it answers.

The same classes generate the OpenAPI document (`bridge.web.openapi`), so the document cannot drift from what
the views validate. Every schema rejects unknown keys (`additionalProperties: false` in the document).
Request schemas express every rule they enforce (enums, lengths, patterns, ranges), so a request that matches
the document is never answered 422.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from bridge.admin.fields import FullMatch, RFC3339DateTime, choice, text
from bridge.canonical import KINDS
from bridge.platforms import SOURCES
from bridge.storage.queries import PAGE_MAX, EventFilter
from bridge.vocabulary import FINAL, UNFINISHED, EventStatus, JobStatus

# The choices people see (filters, `--status`, the OpenAPI enums) are the plain strings: click matches enum
# members by their names, and a member's repr is not its value.
EVENT_STATUSES: tuple[str, ...] = tuple(
    s.value
    for s in (
        EventStatus.RECEIVED,
        EventStatus.ACCEPTED,
        EventStatus.PLANNED,
        EventStatus.DONE,
        EventStatus.DEAD,
        EventStatus.QUARANTINED,
    )
)
DELIVERY_STATUSES: tuple[str, ...] = tuple(s.value for s in UNFINISHED + FINAL)
BULK_ACTIONS = ("replay", "retry_dead")
JOB_STATUSES: tuple[str, ...] = tuple(s.value for s in JobStatus)
DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1  # the largest id the database can hold; larger ones cannot exist


# -- requests -------------------------------------------------------------------------------------------------


class EventFilterSchema(Schema):
    """Which events: every given condition must hold. `q` matches an email, an order id or a checkout id."""

    class Meta:
        unknown = RAISE

    status = choice(EVENT_STATUSES, metadata={"description": "event status"})
    source = choice(tuple(SOURCES), metadata={"description": "webhook source"})
    kind = choice(KINDS, metadata={"description": "canonical event kind"})
    store = text(metadata={"description": "store (shop domain or site URL), exactly"})
    q = text(metadata={"description": "email (substring, any case), order id or checkout id (exactly)"})
    since = RFC3339DateTime(metadata={"description": "received at or after (RFC 3339 with an offset)"})
    until = RFC3339DateTime(metadata={"description": "received before (RFC 3339 with an offset)"})
    destination_status = choice(
        DELIVERY_STATUSES, metadata={"description": "events with at least one delivery in this status"}
    )


class EventQuerySchema(EventFilterSchema):
    """`GET /admin/api/events`: a filter, a page size and the cursor of the previous page."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=PAGE_MAX),
        metadata={"description": "page size"},
    )
    cursor = fields.String(
        validate=FullMatch(r"^[0-9]{1,18}$", error="Must be the next_cursor of the previous page."),
        metadata={"description": "`next_cursor` of the previous page"},
    )


class BulkRequestSchema(Schema):
    """`POST /admin/api/bulk`: an action over every event matching `filter` (`{}` means every event)."""

    class Meta:
        unknown = RAISE

    action = choice(
        BULK_ACTIONS,
        required=True,
        metadata={"description": "`replay`: replay each event; `retry_dead`: retry each event's dead deliveries"},
    )
    filter = fields.Nested(EventFilterSchema, required=True)


def to_filter(args: dict[str, Any]) -> EventFilter:
    """The storage filter for loaded `EventFilterSchema` data."""
    return EventFilter(
        status=args.get("status"),
        source=args.get("source"),
        kind=args.get("kind"),
        store=args.get("store"),
        text=args.get("q"),
        since=args.get("since"),
        until=args.get("until"),
        destination_status=args.get("destination_status"),
    )


# -- responses ------------------------------------------------------------------------------------------------


def _out(cls: type[fields.Field[Any]], **kwargs: Any) -> fields.Field[Any]:
    """A response field that is always present."""
    return cls(required=True, **kwargs)


def _maybe(cls: type[fields.Field[Any]], **kwargs: Any) -> fields.Field[Any]:
    """A response field that is always present, possibly null."""
    return cls(required=True, allow_none=True, **kwargs)


class EventSummarySchema(Schema):
    """One event in a list."""

    id = _out(fields.Integer)
    source = _out(fields.String)
    topic = _out(fields.String)
    status = _out(fields.String)
    kind = _maybe(fields.String)
    store = _maybe(fields.String)
    order_id = _maybe(fields.String)
    checkout_id = _maybe(fields.String)
    email = _maybe(fields.String)
    occurred_at = _maybe(fields.DateTime)
    received_at = _out(fields.DateTime)
    note = _maybe(fields.String)


class EventPageSchema(Schema):
    """A page of events, newest first."""

    items = _out(fields.List, cls_or_instance=fields.Nested(EventSummarySchema))
    next_cursor = _maybe(fields.String, metadata={"description": "pass as `cursor` for the next page; null at the end"})


class DeliverySchema(Schema):
    """One delivery (an event to one destination)."""

    id = _out(fields.Integer)
    event_id = _out(fields.Integer)
    destination = _out(fields.String)
    lane = _out(fields.String)
    status = _out(fields.String)
    attempts = _out(fields.Integer, metadata={"description": "attempts made since the last (re)start"})
    next_attempt_at = _out(fields.DateTime)
    first_attempt_at = _maybe(fields.DateTime)
    created_at = _out(fields.DateTime)
    updated_at = _out(fields.DateTime)
    lease_owner = _maybe(fields.String)
    lease_expires_at = _maybe(fields.DateTime)
    last_status = _maybe(fields.Integer, metadata={"description": "HTTP status of the last answer"})
    last_error = _maybe(fields.String, metadata={"description": "excerpt of the last error or response body"})
    note = _maybe(fields.String)


class AttemptSchema(Schema):
    """One call to a destination (or, in dry-run, the call that would have been made)."""

    id = _out(fields.Integer)
    delivery_id = _out(fields.Integer)
    destination = _out(fields.String)
    started_at = _out(fields.DateTime)
    duration_ms = _out(fields.Integer)
    method = _out(fields.String)
    url = _out(fields.String)
    request = _maybe(fields.String, metadata={"description": "excerpt of the request body"})
    status_code = _maybe(fields.Integer)
    response = _maybe(fields.String, metadata={"description": "excerpt of the response body"})
    error = _maybe(fields.String)
    outcome = _out(fields.String)


class EventDetailSchema(EventSummarySchema):
    """An event with everything that happened to it."""

    dedupe_key = _out(fields.String)
    headers = _out(fields.Dict, keys=fields.String(), values=fields.String())
    body = _out(fields.String, metadata={"description": "the raw body as received (UTF-8, invalid bytes replaced)"})
    payload = _maybe(fields.Dict, metadata={"description": "the canonical event"})
    errors = _maybe(fields.Raw, metadata={"description": "validation errors of a quarantined event"})
    deliveries = _out(fields.List, cls_or_instance=fields.Nested(DeliverySchema))
    attempts = _out(fields.List, cls_or_instance=fields.Nested(AttemptSchema))


class ReplayOutcomeSchema(Schema):
    """What a replay did: `accepted` (queued for planning) or `quarantined` (still unreadable or invalid)."""

    event_id = _out(fields.Integer)
    status = _out(fields.String)
    message = _out(fields.String)


class BulkAcceptedSchema(Schema):
    """A started bulk job; poll `GET /admin/api/jobs/{job_id}`."""

    job_id = _out(fields.Integer)


class JobSchema(Schema):
    """A bulk job's progress."""

    id = _out(fields.Integer)
    kind = _out(fields.String)
    status = _out(fields.String, validate=validate.OneOf(JOB_STATUSES))
    total = _out(fields.Integer)
    done = _out(fields.Integer)
    failed = _out(fields.Integer)
    message = _maybe(fields.String)
    params = _out(fields.Dict, metadata={"description": "the request that started the job"})
    created_at = _out(fields.DateTime)
    updated_at = _out(fields.DateTime)


class CircuitSchema(Schema):
    """The circuit breaker of a destination."""

    state = _out(fields.String, validate=validate.OneOf(("open", "closed")))
    open_for_seconds = _out(fields.Float)
    consecutive_failures = _out(fields.Integer)


class RateSchema(Schema):
    """The rate budget of a destination."""

    limit_per_second = _maybe(fields.Float)
    retry_after_seconds = _out(fields.Float, metadata={"description": "left of a 429/503 Retry-After pause"})
    next_slot_in_seconds = _out(fields.Float)


class DestinationSchema(Schema):
    """A destination's state."""

    name = _out(fields.String)
    mode = _out(fields.String, validate=validate.OneOf(("live", "dry_run")))
    paused = _out(fields.Boolean, metadata={"description": "paused: by an operator, or its token was rejected"})
    pause_reason = _maybe(fields.String, metadata={"description": "manual or token_rejected"})
    pause_cause = _maybe(fields.String, metadata={"description": "the answer that paused it, in plain words"})
    paused_since = _maybe(fields.Float, metadata={"description": "Unix time the pause began"})
    circuit = _out(fields.Nested, nested=CircuitSchema)
    rate = _out(fields.Nested, nested=RateSchema)
    queue_depth = _out(fields.Integer, metadata={"description": "deliveries pending or in flight"})
    oldest_pending_age_seconds = _maybe(fields.Float)
    deliveries = _out(fields.Dict, keys=fields.String(), values=fields.Integer(), metadata={"description": "by status"})


class DestinationListSchema(Schema):
    """Every destination."""

    items = _out(fields.List, cls_or_instance=fields.Nested(DestinationSchema))


class ErrorSchema(Schema):
    """An error."""

    error = _out(fields.String)
    message = fields.String()


class InvalidRequestSchema(Schema):
    """The request failed validation: `errors` maps each bad field to its messages."""

    error = _out(fields.String, validate=validate.OneOf(("invalid_request",)))
    errors = _out(fields.Dict)
