"""The custom endpoint in the OpenAPI document: Standard Webhooks headers, a canonical event in its envelope.

The request example (openapi_example.json beside this module) is a fixture of tests/platforms/custom/fixtures/
trimmed to the keys the bridge reads: it loads into the same canonical event as the whole fixture
(tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc, load_example

OPENAPI = OpenAPIDoc(
    scheme_name="standardWebhooks",
    scheme={
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` with a BRIDGE_WEBHOOK_SECRET"
        " (a space-separated list is accepted); `webhook-id` and `webhook-timestamp` (±5 min) are required too",
    },
    description="Any other store: canonical events in a Standard Webhooks envelope. Invalid payloads get `422`.",
    headers=(
        ("webhook-id", True, "the message id (the dedupe key)"),
        ("webhook-timestamp", True, "Unix seconds; within 5 minutes of the bridge's clock"),
    ),
    example=load_example(__name__),
    body_schema="CustomEnvelope",
)
