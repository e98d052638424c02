"""The custom endpoint in the OpenAPI document: Standard Webhooks headers, a canonical event in its envelope.

The example is a fixture of tests/platforms/custom/fixtures/ trimmed to the keys the bridge reads: it loads into
the same canonical event as the whole fixture (tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc

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
    example={
        "fixture": "order_paid__basic.json",
        "topic": None,
        "summary": "A paid order: a canonical event in a Standard Webhooks envelope",
        "value": {
            "type": "order.paid",
            "timestamp": "2026-10-22T18:41:07Z",
            "data": {
                "store": "shop.lakeside-cycles.example",
                "occurred_at": "2026-10-22T18:41:05Z",
                "email": "aiden.brooks@example.com",
                "customer": {
                    "external_id": "cus_88415",
                    "email": "aiden.brooks@example.com",
                    "first_name": "Aiden",
                    "last_name": "Brooks",
                    "accepts_marketing": True,
                },
                "currency": "USD",
                "order_id": "LC-100482",
                "order_number": "100482",
                "checkout_id": "chk_7fa21c9e04b3d8e1",
                "order_url": "https://shop.lakeside-cycles.example/account/orders/LC-100482",
                "total": 21115,
                "subtotal": 20700,
                "tax": 1490,
                "shipping": 995,
                "discount": 2070,
                "line_items": [
                    {
                        "external_id": "prod_4410:var_9921",
                        "sku": "HLM-AERO-M-BLK",
                        "name": "Aero Road Helmet",
                        "description": "MIPS road helmet, size M, matte black",
                        "category": "Helmets",
                        "quantity": 1,
                        "unit_price": 12900,
                        "product_url": "https://shop.lakeside-cycles.example/products/aero-road-helmet?variant=9921",
                        "image_url": "https://cdn.lakeside-cycles.example/img/products/aero-road-helmet-black-800.jpg",
                    },
                    {
                        "external_id": "prod_4532:var_10217",
                        "sku": "LGT-USBC-SET",
                        "name": "USB-C Bike Light Set",
                        "description": "800 lm front / 120 lm rear, USB-C rechargeable",
                        "category": "Lights",
                        "quantity": 1,
                        "unit_price": 4900,
                        "product_url": "https://shop.lakeside-cycles.example/products/usb-c-bike-light-set",
                        "image_url": "https://cdn.lakeside-cycles.example/img/products/usb-c-light-set-800.jpg",
                    },
                    {
                        "external_id": "prod_4601:var_10388",
                        "sku": "BTL-INS-750-TEAL",
                        "name": "Insulated Bottle 750 ml",
                        "description": "Double-wall, teal",
                        "category": "Bottles",
                        "quantity": 2,
                        "unit_price": 1450,
                        "product_url": "https://shop.lakeside-cycles.example/products/insulated-bottle-750?variant=10388",
                        "image_url": "https://cdn.lakeside-cycles.example/img/products/insulated-bottle-teal-800.jpg",
                    },
                ],
                "discounts": [{"code": "RIDE10", "type": "order", "amount": 2070}],
                "shipping_method": "UPS Ground",
                "created_at": "2026-10-22T16:48:19Z",
                "updated_at": "2026-10-22T18:41:05Z",
                "completed_at": "2026-10-22T18:41:05Z",
            },
        },
    },
    body_schema="CustomEnvelope",
)
