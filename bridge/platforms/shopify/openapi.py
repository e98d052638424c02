"""Shopify's webhook endpoint in the OpenAPI document: HMAC header, topic headers, a paid order.

The request example (openapi_example.json beside this module) is a fixture of tests/platforms/shopify/fixtures/
trimmed to the keys the bridge reads: it loads into the same canonical event as the whole fixture
(tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc, load_example

OPENAPI = OpenAPIDoc(
    scheme_name="shopifyHmac",
    scheme={
        "type": "apiKey",
        "in": "header",
        "name": "X-Shopify-Hmac-Sha256",
        "description": "base64 HMAC-SHA256 of the raw body with a BRIDGE_SHOPIFY_SECRET",
    },
    description="Shopify webhooks (JSON): checkouts, paid / cancelled orders, refunds. The body is the bare REST"
    " resource.",
    headers=(
        (
            "X-Shopify-Topic",
            True,
            "`checkouts/create`, `checkouts/update`, `orders/paid`, `orders/cancelled`, "
            "`refunds/create` are handled; others are answered `ignored`",
        ),
        ("X-Shopify-Webhook-Id", True, "the dedupe key"),
        ("X-Shopify-Shop-Domain", False, "the store"),
    ),
    example=load_example(__name__),
)
