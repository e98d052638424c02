"""EcartAPI's webhook endpoint in the OpenAPI document: bearer token, a paid unified order.

The example is a fixture of tests/platforms/ecartapi/fixtures/ trimmed to the keys the bridge reads: it loads into
the same canonical event as the whole fixture (tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc

OPENAPI = OpenAPIDoc(
    scheme_name="ecartapiToken",
    scheme={
        "type": "http",
        "scheme": "bearer",
        "description": "a BRIDGE_ECARTAPI_WEBHOOK_TOKEN in Authorization, after `Bearer ` or bare",
    },
    description="EcartAPI order webhooks: the unified order object, bare or in `order` / `orders`.",
    headers=(),
    example={
        "fixture": "order__paid.json",
        "topic": None,
        "summary": "A paid order (the unified order object, `status.ecartapi: paid`)",
        "value": {
            "id": "5912345678902",
            "number": "1187",
            "currency": "MXN",
            "discountsCoupon": {"codeCupon": "SENDERO15", "discountAmount": "641.55"},
            "totals": {
                "subtotal": "3635.45",
                "total": "3784.45",
                "tax": "521.99",
                "discount": "641.55",
                "shipping": "149.00",
            },
            "status": {"ecartapi": "paid"},
            "customer": {
                "id": "7412589630147",
                "email": "valeria.montes@example.com.mx",
                "firstName": "Valeria",
                "lastName": "Montes",
                "phone": "+525555012345",
            },
            "billingAddress": {"firstName": "Valeria", "lastName": "Montes", "phone": "+525555012345"},
            "shippingMethod": "Envío estándar (3 a 5 días hábiles)",
            "items": [
                {
                    "productId": "8634120987654",
                    "sku": "SND-CAMP-2P-VRD",
                    "name": "Casa de campaña ultraligera 2 personas - Verde bosque",
                    "quantity": "1",
                    "price": "3499.00",
                    "imageUrl": "https://cdn.shopify.com/s/files/1/0712/3456/7890/files/casa-campana-2p-verde.jpg?v=1727801234",
                },
                {
                    "productId": "8634121020422",
                    "sku": "SND-LAMP-400",
                    "name": "Lámpara frontal recargable 400 lm",
                    "quantity": "2",
                    "price": "389.00",
                    "imageUrl": "https://cdn.shopify.com/s/files/1/0712/3456/7890/files/lampara-frontal-400lm.jpg?v=1727801311",
                },
            ],
            "dates": {
                "createdAt": "2026-10-20T11:24:05-06:00",
                "updatedAt": "2026-10-20T11:24:09-06:00",
                "paidAt": "2026-10-20T11:24:05-06:00",
            },
            "checkoutId": "38012345678901",
        },
    },
)
