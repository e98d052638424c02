"""WooCommerce's webhook endpoint in the OpenAPI document: signature header, topic headers, a paid order.

The example is a fixture of tests/platforms/woocommerce/fixtures/ trimmed to the keys the bridge reads: it loads into
the same canonical event as the whole fixture (tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc

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
    example={
        "fixture": "order_updated__processing.json",
        "topic": "order.updated",
        "summary": "An order paid by card (`X-WC-Webhook-Topic: order.updated`, status `processing`)",
        "value": {
            "id": 4817,
            "status": "processing",
            "currency": "USD",
            "discount_total": "10.00",
            "shipping_total": "7.50",
            "total": "104.92",
            "total_tax": "7.42",
            "customer_id": 27,
            "billing": {
                "first_name": "Nora",
                "last_name": "Lindqvist",
                "email": "nora.lindqvist@example.com",
                "phone": "(512) 555-0173",
            },
            "line_items": [
                {
                    "name": "Waxed Canvas Tote",
                    "product_id": 1456,
                    "quantity": 1,
                    "subtotal": "64.00",
                    "sku": "WCT-OLIVE",
                    "price": 57.6,
                    "image": {
                        "src": "https://shop.example-woo.com/wp-content/uploads/2026/03/waxed-canvas-tote-olive.jpg"
                    },
                },
                {
                    "name": "Enamel Camp Mug - Sage",
                    "product_id": 1470,
                    "quantity": 2,
                    "subtotal": "36.00",
                    "sku": "ECM-SAGE",
                    "price": 16.2,
                    "image": {
                        "src": "https://shop.example-woo.com/wp-content/uploads/2026/03/enamel-camp-mug-sage.jpg"
                    },
                },
            ],
            "shipping_lines": [{"method_title": "Flat rate"}],
            "coupon_lines": [{"code": "welcome10", "discount": "10.00"}],
            "refunds": [],  # every refund so far: a partial refund arrives as an order.updated listing it
            "date_created_gmt": "2026-10-14T14:12:44",
            "date_modified_gmt": "2026-10-14T14:13:02",
            "date_paid_gmt": "2026-10-14T14:13:01",
        },
    },
)
