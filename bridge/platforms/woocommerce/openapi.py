"""WooCommerce's webhook endpoint in the OpenAPI document: signature header, topic headers, a paid order.

The request example (openapi_example.json beside this module) is a fixture of tests/platforms/woocommerce/fixtures/
trimmed to the keys the bridge reads: it loads into the same canonical event as the whole fixture
(tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc, load_example

OPENAPI = OpenAPIDoc(
    scheme_name="woocommerceSignature",
    scheme={
        "type": "apiKey",
        "in": "header",
        "name": "X-WC-Webhook-Signature",
        "description": "base64 HMAC-SHA256 of the raw body with a BRIDGE_WOOCOMMERCE_SECRET",
    },
    description="WooCommerce order webhooks (API v3). The unsigned form-encoded `webhook_id=N` ping sent when a"
    " webhook is saved is answered `200 ignored` and not stored.",
    headers=(
        ("X-WC-Webhook-Topic", True, "`order.created` or `order.updated`; others are answered `ignored`"),
        ("X-WC-Webhook-Source", False, "the store's site URL (part of the dedupe key)"),
    ),
    example=load_example(__name__),
)
