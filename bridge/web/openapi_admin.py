"""The admin API in the OpenAPI document, from the schemas in `bridge.admin.schemas`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.admin import schemas as s
from bridge.destinations import registry

if TYPE_CHECKING:
    from apispec import APISpec

JSON = "application/json"
SECURITY = [{"adminBearer": []}]
TAG = "admin"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _id_param(name: str, what: str) -> dict[str, Any]:
    return {
        "in": "path",
        "name": name,
        "required": True,
        "description": f"the {what}'s id",
        "schema": {"type": "integer", "minimum": 1, "maximum": s.MAX_ID},
        "example": 1,
    }


DESTINATION_PARAM = {
    "in": "path",
    "name": "name",
    "required": True,
    "schema": {"type": "string", "enum": list(registry.names())},
}
UNAUTHORIZED = {
    "description": "missing or wrong bearer token",
    "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    "content": {JSON: {"schema": _ref("Error")}},
}
INVALID = _json(_ref("InvalidRequest"), "the request failed validation")


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    not_found = "not found; also every admin path while BRIDGE_ADMIN_TOKEN is unset"
    return {
        "tags": [TAG],
        "operationId": operation_id,
        "summary": summary,
        "security": SECURITY,
        **extra,
        "responses": {**responses, "401": UNAUTHORIZED, "404": _json(_ref("Error"), not_found)},
    }


def register_components(spec: APISpec) -> None:
    """The admin schemas and the bearer security scheme."""
    for name, schema in (
        ("Error", s.ErrorSchema),
        ("InvalidRequest", s.InvalidRequestSchema),
        ("EventFilter", s.EventFilterSchema),
        ("EventSummary", s.EventSummarySchema),
        ("EventPage", s.EventPageSchema),
        ("Delivery", s.DeliverySchema),
        ("Attempt", s.AttemptSchema),
        ("EventDetail", s.EventDetailSchema),
        ("ReplayOutcome", s.ReplayOutcomeSchema),
        ("BulkRequest", s.BulkRequestSchema),
        ("BulkAccepted", s.BulkAcceptedSchema),
        ("Job", s.JobSchema),
        ("Circuit", s.CircuitSchema),
        ("Rate", s.RateSchema),
        ("Destination", s.DestinationSchema),
        ("DestinationList", s.DestinationListSchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.components.security_scheme(
        "adminBearer", {"type": "http", "scheme": "bearer", "description": "BRIDGE_ADMIN_TOKEN"}
    )


def add_paths(spec: APISpec) -> None:
    """Every `/admin/api/…` operation."""
    spec.path(
        path="/admin/api/events",
        operations={
            "get": _operation(
                "admin_list_events",
                "Events matching the filters, newest first, one page at a time",
                {"200": _json(_ref("EventPage"), "a page of events"), "422": INVALID},
                parameters=[{"in": "query", "schema": s.EventQuerySchema}],
            )
        },
    )
    spec.path(
        path="/admin/api/events/{event_id}",
        operations={
            "get": _operation(
                "admin_show_event",
                "An event: raw body, canonical payload, errors, headers, deliveries and every attempt",
                {"200": _json(_ref("EventDetail"), "the event")},
                parameters=[_id_param("event_id", "event")],
            )
        },
    )
    spec.path(
        path="/admin/api/events/{event_id}/replay",
        operations={
            "post": _operation(
                "admin_replay_event",
                "Replay an event: a quarantined one is re-read, any other is planned again (idempotently)",
                {
                    "202": _json(_ref("ReplayOutcome"), "what the replay did"),
                    "409": _json(_ref("Error"), "its body was erased (retention or an erasure): nothing to replay"),
                },
                parameters=[_id_param("event_id", "event")],
            )
        },
    )
    spec.path(
        path="/admin/api/deliveries/{delivery_id}/retry",
        operations={
            "post": _operation(
                "admin_retry_delivery",
                "Send a finished (e.g. dead) delivery again now, with a fresh attempt budget",
                {
                    "202": _json(_ref("Delivery"), "the delivery, pending again"),
                    "409": _json(_ref("Error"), "the delivery is pending or in flight: nothing to retry"),
                },
                parameters=[_id_param("delivery_id", "delivery")],
            )
        },
    )
    spec.path(
        path="/admin/api/bulk",
        operations={
            "post": _operation(
                "admin_start_bulk",
                "Replay, or retry the dead deliveries of, every event matching a filter (in the background)",
                {"202": _json(_ref("BulkAccepted"), "the job started"), "422": INVALID},
                requestBody={
                    "required": True,
                    "content": {
                        JSON: {
                            "schema": _ref("BulkRequest"),
                            "examples": {
                                "retry_dead_since": {
                                    "summary": "retry what died since a moment",
                                    "value": {"action": "retry_dead", "filter": {"since": "2026-11-20T00:00:00Z"}},
                                },
                                "replay_quarantined": {
                                    "summary": "re-read every quarantined Shopify event after a fix",
                                    "value": {"action": "replay",
                                              "filter": {"status": "quarantined", "source": "shopify"}},
                                },
                            },
                        }
                    },
                },
            )
        },
    )  # fmt: skip
    spec.path(
        path="/admin/api/jobs/{job_id}",
        operations={
            "get": _operation(
                "admin_show_job",
                "A bulk job's progress",
                {"200": _json(_ref("Job"), "the job")},
                parameters=[_id_param("job_id", "job")],
            )
        },
    )
    spec.path(
        path="/admin/api/destinations",
        operations={
            "get": _operation(
                "admin_list_destinations",
                "Each destination: paused, circuit, rate budget, queue depth, oldest pending age",
                {"200": _json(_ref("DestinationList"), "every destination")},
            )
        },
    )
    for action, summary in (
        ("pause", "Pause a destination: its deliveries wait without spending attempts"),
        ("resume", "Resume a destination: clears a manual or Retry-After pause and an open circuit; deliveries go now"),
    ):
        spec.path(
            path=f"/admin/api/destinations/{{name}}/{action}",
            operations={
                "post": _operation(
                    f"admin_{action}_destination",
                    summary,
                    {"200": _json(_ref("Destination"), "the destination's state now")},
                    parameters=[DESTINATION_PARAM],
                )
            },
        )


_SOURCE = {"type": "string", "enum": ["custom", "ecartapi", "shopify", "woocommerce"]}
PRIVACY_SUBJECT = {
    "description": "whom the request is about: `email`, or `customer_id` with `source`",
    "oneOf": [
        {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": {"type": "string", "minLength": 1, "maxLength": 320},
                "source": _SOURCE,
            },
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["customer_id", "source"],
            "properties": {
                "customer_id": {"type": "string", "minLength": 1, "maxLength": 255},
                "source": _SOURCE,
            },
            "additionalProperties": False,
        },
    ],
}


def add_privacy_paths(spec: APISpec) -> None:
    """`/admin/api/privacy/…` (spec §16): erase, export, and the recorded requests."""
    body = {"required": True, "content": {JSON: {"schema": PRIVACY_SUBJECT, "example": {"email": "pat@example.com"}}}}
    erased = {
        "type": "object",
        "properties": {
            "subject_sha256": {"type": "string", "description": "SHA-256 of the lower-case email (or source|id)"},
            "erased": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "counts"},
        },
    }
    for name, summary, answer in (
        ("forget", "Erase one person's data from every table; the erasure is recorded", erased),
        ("export", "Everything stored about one person: events, deliveries, attempts, mapping", {"type": "object"}),
    ):
        spec.path(
            path=f"/admin/api/privacy/{name}",
            operations={
                "post": _operation(
                    f"admin_privacy_{name}",
                    summary,
                    {"200": _json(answer, summary), "422": INVALID},
                    requestBody=body,
                )
            },
        )
    spec.path(
        path="/admin/api/privacy/requests",
        operations={
            "get": _operation(
                "admin_privacy_requests",
                "The newest recorded erasures and data requests (subjects as SHA-256 only)",
                {"200": _json({"type": "object"}, "the requests, newest first")},
            )
        },
    )
