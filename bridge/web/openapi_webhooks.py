"""The webhook endpoints in the OpenAPI document: one path per source, every answer of the response table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import EXCLUDE, Schema, fields, validate

from bridge.canonical import KINDS, CanonicalEventSchema
from bridge.platforms import PLATFORMS, Platform

if TYPE_CHECKING:
    from apispec import APISpec

JSON = "application/json"


def _enum(*values: str) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(values))


class AcceptedReplySchema(Schema):
    """A new event, committed to the database."""

    status = _enum("accepted")
    event_id = fields.String(required=True)


class DuplicateReplySchema(Schema):
    """The same event was stored before; nothing new is stored."""

    status = _enum("duplicate")
    event_id = fields.String(required=True)


class IgnoredReplySchema(Schema):
    """Authentic, but a topic or status the bridge does not handle (or a platform's ping); not stored."""

    status = _enum("ignored")
    reason = fields.String(required=True)


class WebhookErrorSchema(Schema):
    """A rejected request."""

    error = fields.String(required=True)
    message = fields.String()


class InvalidPayloadSchema(Schema):
    """A `custom` payload that fails validation: each bad field and its messages."""

    error = _enum("invalid_payload")
    errors = fields.Dict(required=True)


# `data` of the custom envelope: a canonical event whose `kind` and `occurred_at` may come from the envelope.
CANONICAL_DATA = CanonicalEventSchema(partial=("kind", "occurred_at"))


class CustomEnvelopeSchema(Schema):
    """A canonical event in the `custom` source's envelope. `data.kind`, if given, must equal `type`;
    `data.occurred_at` defaults to `timestamp`."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    timestamp = fields.DateTime(required=True)
    data = fields.Nested(CANONICAL_DATA, required=True)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Any, **examples: Any) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if examples:
        media["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {"content": {JSON: media}}


def _error(description: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, **_json(_ref("WebhookError"), **{code: {"error": code, **extra}})}


def register_components(spec: APISpec) -> None:
    """The reply schemas and the signature security schemes."""
    for name, schema in (
        ("AcceptedReply", AcceptedReplySchema),
        ("DuplicateReply", DuplicateReplySchema),
        ("IgnoredReply", IgnoredReplySchema),
        ("WebhookError", WebhookErrorSchema),
        ("InvalidPayload", InvalidPayloadSchema),
        ("CanonicalEvent", CanonicalEventSchema),
        ("CanonicalEventData", CANONICAL_DATA),
        ("CustomEnvelope", CustomEnvelopeSchema),
    ):
        spec.components.schema(name, schema=schema)
    for platform in PLATFORMS.values():
        spec.components.security_scheme(platform.openapi.scheme_name, platform.openapi.scheme)


def _responses(validated: bool) -> dict[str, Any]:
    """The answers of a webhook endpoint; `validated`: the payload is validated before it is stored (422)."""
    if validated:
        stored = "stored, validated (committed before this answer); an invalid payload is a 422 instead"
    else:
        stored = (
            "stored raw (committed before this answer). The worker then maps and validates it: the event becomes"
            " `accepted`, or `quarantined` with the errors, shown by `bridge events list --status quarantined`,"
            " `GET /admin/api/events?status=quarantined` and the dashboard's Quarantine page; an invalid"
            " authentic payload is 202 all the same"
        )
    responses: dict[str, Any] = {
        "202": {"description": stored, **_json(_ref("AcceptedReply"))},
        "200": {
            "description": "already stored (`duplicate`), or authentic but not handled (`ignored`, not stored)",
            **_json({"oneOf": [_ref("DuplicateReply"), _ref("IgnoredReply")]}),
        },
        "400": _error("the body is not a JSON object", "malformed_json", message="the body is not valid JSON"),
        "401": _error("missing or wrong signature / token; nothing stored", "invalid_signature"),
        "413": _error("the body is larger than BRIDGE_MAX_BODY", "too_large"),
        "503": {
            "description": "the database cannot take the write; the event was not stored, retry later",
            "headers": {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "seconds"}},
            **_json(_ref("WebhookError")),
        },
    }
    if validated:
        responses["422"] = {"description": "the canonical payload fails validation", **_json(_ref("InvalidPayload"))}
    return responses


def _operation(platform: Platform) -> dict[str, Any]:
    source, doc = platform.name, platform.openapi
    example = doc.example
    body_schema = _ref(doc.body_schema) if doc.body_schema else {"type": "object"}
    parameters = [
        {"in": "header", "name": name, "required": required, "description": text, "schema": {"type": "string"}}
        for name, required, text in doc.headers
    ]
    return {
        "tags": ["webhooks"],
        "operationId": f"webhook_{source}",
        "summary": f"Receive a {source} webhook",
        "description": doc.description
        + " Signatures are checked over the raw bytes before anything is parsed; a 2xx means the event is"
        " committed.",
        "security": [{doc.scheme_name: []}],
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": body_schema,
                    "examples": {example["fixture"].removesuffix(".json"): {
                        "summary": example["summary"], "value": example["value"]}},
                }
            },
        },
        "responses": _responses(platform.source.rejects_invalid),
    }  # fmt: skip


def add_paths(spec: APISpec) -> None:
    """`POST /webhooks/<source>` for every source, and the unknown-source answer."""
    for source, platform in PLATFORMS.items():
        spec.path(path=f"/webhooks/{source}", operations={"post": _operation(platform)})
    # Any other name is 404. The known names resolve to the same route, so this path answers what they do.
    responses = {**_responses(False), **_responses(True), "404": _error("no such source", "unknown_source")}
    responses["202"] = _responses(False)["202"]
    spec.path(
        path="/webhooks/{source}",
        operations={
            "post": {
                "tags": ["webhooks"],
                "operationId": "webhook_unknown_source",
                "summary": "Any other source name: 404 (the sources above answer as documented on their paths)",
                "parameters": [{"in": "path", "name": "source", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"content": {JSON: {"schema": {"type": "object"}}}},
                "responses": responses,
            }
        },
    )
