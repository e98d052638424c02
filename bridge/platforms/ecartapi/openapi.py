"""EcartAPI's webhook endpoint in the OpenAPI document: bearer token, a paid unified order.

The request example (openapi_example.json beside this module) is a fixture of tests/platforms/ecartapi/fixtures/
trimmed to the keys the bridge reads: it loads into the same canonical event as the whole fixture
(tests/web/test_openapi.py checks both facts)."""

from __future__ import annotations

from bridge.platforms.platform import OpenAPIDoc, load_example

OPENAPI = OpenAPIDoc(
    scheme_name="ecartapiToken",
    scheme={
        "type": "http",
        "scheme": "bearer",
        "description": "a BRIDGE_ECARTAPI_WEBHOOK_TOKEN in Authorization, after `Bearer ` or bare",
    },
    description="EcartAPI order webhooks: the unified order object, bare or in `order` / `orders`.",
    headers=(),
    example=load_example(__name__),
)
