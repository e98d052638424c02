"""Shopify's webhook endpoint in the OpenAPI document: HMAC header, topic headers, a paid order.

The example is a fixture of tests/platforms/shopify/fixtures/ trimmed to the keys the bridge reads: it loads into
the same canonical event as the whole fixture (tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc

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
    example={
        "fixture": "orders_paid__basic.json",
        "topic": "orders/paid",
        "summary": "A paid order (`X-Shopify-Topic: orders/paid`)",
        "value": {
            "id": 5874120638518,
            "checkout_token": "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3",
            "created_at": "2026-10-14T15:02:11-04:00",
            "currency": "USD",
            "discount_codes": [{"code": "TRAIL15", "amount": "42.90"}],
            "order_number": 1042,
            "order_status_url": "https://acme-outdoor.myshopify.com/68947232822/orders/e61b7d3f09a24c85b7f1d2e9a0c36b4f/authenticate?key=a4c1e9f27b0d5836e2f9c1a7b4d08e65",
            "processed_at": "2026-10-14T15:02:10-04:00",
            "subtotal_price": "243.10",
            "total_discounts": "42.90",
            "total_price": "273.72",
            "total_tax": "20.67",
            "updated_at": "2026-10-14T15:02:14-04:00",
            "customer": {
                "id": 7301482659126,
                "email": "maya.okafor@example.com",
                "first_name": "Maya",
                "last_name": "Okafor",
                "phone": "+17185550142",
                "email_marketing_consent": {"state": "subscribed"},
            },
            "billing_address": {"first_name": "Maya", "last_name": "Okafor", "phone": "+17185550142"},
            "line_items": [
                {
                    "price": "249.00",
                    "product_id": 8123456789014,
                    "quantity": 1,
                    "sku": "ACM-TENT-2P-GRN",
                    "title": "Summit 2-Person Backpacking Tent",
                    "variant_title": "Forest Green",
                    "vendor": "Acme Outdoor",
                },
                {
                    "price": "18.50",
                    "product_id": 8123456791126,
                    "quantity": 2,
                    "sku": "ACM-SOCK-MER-M-CH",
                    "title": "Merino Trail Socks",
                    "variant_title": "M / Charcoal",
                    "vendor": "Acme Outdoor",
                },
            ],
            "shipping_lines": [{"price": "9.95", "title": "Standard Shipping"}],
        },
    },
)
