"""The webhook endpoints in the OpenAPI document: one path per source, every answer of the response table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import EXCLUDE, Schema, fields, validate

from bridge.canonical import KINDS, CanonicalEventSchema
from bridge.platforms import SOURCES
from bridge.web.openapi_examples import EXAMPLES

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
    """Authentic, but a topic or status the bridge does not handle (or WooCommerce's ping); not stored."""

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


SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "shopifyHmac": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Shopify-Hmac-Sha256",
        "description": "base64 HMAC-SHA256 of the raw body with a BRIDGE_SHOPIFY_SECRET",
    },
    "woocommerceSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-WC-Webhook-Signature",
        "description": "base64 HMAC-SHA256 of the raw body with a BRIDGE_WOOCOMMERCE_SECRET",
    },
    "ecartapiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "a BRIDGE_ECARTAPI_WEBHOOK_TOKEN in Authorization, after `Bearer ` or bare",
    },
    "standardWebhooks": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` with a BRIDGE_WEBHOOK_SECRET"
        " (a space-separated list is accepted); `webhook-id` and `webhook-timestamp` (±5 min) are required too",
    },
}
SOURCE_SECURITY = {
    "shopify": "shopifyHmac",
    "woocommerce": "woocommerceSignature",
    "ecartapi": "ecartapiToken",
    "custom": "standardWebhooks",
}
SOURCE_HEADERS: dict[str, list[tuple[str, bool, str]]] = {
    "shopify": [
        ("X-Shopify-Topic", True, "`checkouts/create`, `checkouts/update`, `orders/paid`, `orders/cancelled`, "
         "`refunds/create` are handled; others are answered `ignored`"),
        ("X-Shopify-Webhook-Id", True, "the dedupe key"),
        ("X-Shopify-Shop-Domain", False, "the store"),
    ],
    "woocommerce": [
        ("X-WC-Webhook-Topic", True, "`order.created` or `order.updated`; others are answered `ignored`"),
        ("X-WC-Webhook-Source", False, "the store's site URL (part of the dedupe key)"),
    ],
    "ecartapi": [],
    "custom": [
        ("webhook-id", True, "the message id (the dedupe key)"),
        ("webhook-timestamp", True, "Unix seconds; within 5 minutes of the bridge's clock"),
    ],
}  # fmt: skip
DESCRIPTIONS = {
    "shopify": "Shopify webhooks (JSON): checkouts, paid / cancelled orders, refunds. The body is the bare REST"
    " resource.",
    "woocommerce": "WooCommerce order webhooks (API v3). The unsigned form-encoded `webhook_id=N` ping sent when a"
    " webhook is saved is answered `200 ignored` and not stored.",
    "ecartapi": "EcartAPI order webhooks: the unified order object, bare or in `order` / `orders`.",
    "custom": "Any other store: canonical events in a Standard Webhooks envelope. Invalid payloads get `422`.",
}


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
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)


def _responses(source: str) -> dict[str, Any]:
    if source == "custom":
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
    if source == "custom":
        responses["422"] = {"description": "the canonical payload fails validation", **_json(_ref("InvalidPayload"))}
    return responses


def _operation(source: str) -> dict[str, Any]:
    example = EXAMPLES[source]
    body_schema = _ref("CustomEnvelope") if source == "custom" else {"type": "object"}
    parameters = [
        {"in": "header", "name": name, "required": required, "description": text, "schema": {"type": "string"}}
        for name, required, text in SOURCE_HEADERS[source]
    ]
    return {
        "tags": ["webhooks"],
        "operationId": f"webhook_{source}",
        "summary": f"Receive a {source} webhook",
        "description": DESCRIPTIONS[source]
        + " Signatures are checked over the raw bytes before anything is parsed; a 2xx means the event is"
        " committed.",
        "security": [{SOURCE_SECURITY[source]: []}],
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
        "responses": _responses(source),
    }  # fmt: skip


def add_paths(spec: APISpec) -> None:
    """`POST /webhooks/<source>` for every source, and the unknown-source answer."""
    for source in SOURCES:
        spec.path(path=f"/webhooks/{source}", operations={"post": _operation(source)})
    # Any other name is 404. The known names resolve to the same route, so this path answers what they do.
    responses = {**_responses("shopify"), **_responses("custom"), "404": _error("no such source", "unknown_source")}
    responses["202"] = _responses("shopify")["202"]
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
