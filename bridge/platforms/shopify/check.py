"""`storebridge check` on the Shopify Admin API: one cheap read with the admin token, so a bad token shows now,
not as a failed reconciliation 15 minutes later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.errors import DeliveryError

if TYPE_CHECKING:
    from bridge.settings import Settings

#: The cheapest read the reconciliation's own scope allows (`read_orders`): one order id.
SHOPIFY_PROBE = "query { orders(first: 1) { nodes { id } } }"


def check_api(settings: Settings) -> Check | None:
    """BRIDGE_SHOPIFY_SHOP and BRIDGE_SHOPIFY_ADMIN_TOKEN read one order (None when they are not set)."""
    if not (settings.shopify_base_url and settings.shopify_admin_token):
        return None
    name = "shopify admin API"
    url = f"{settings.shopify_base_url}/admin/api/{settings.shopify_api_version}/graphql.json"
    headers = {"X-Shopify-Access-Token": settings.shopify_admin_token, "Accept": "application/json"}
    try:
        result = caller(settings, headers).call("POST", url, json_body={"query": SHOPIFY_PROBE})
    except DeliveryError as exc:
        return Check(name, False, why(exc, url, settings))
    if result.status in (401, 403):
        return Check(name, False, rejected("BRIDGE_SHOPIFY_ADMIN_TOKEN", result))
    if result.status == 404:
        return Check(name, False, f"no shop at {settings.shopify_base_url} (HTTP 404): check BRIDGE_SHOPIFY_SHOP")
    if result.status != 200:
        return Check(name, False, unexpected(result, settings.shopify_base_url))
    errors = result.body.get("errors") if isinstance(result.body, dict) else None
    if errors:
        # A token without the read_orders scope is answered 200 with ACCESS_DENIED in `errors`.
        return Check(name, False, f"the token cannot read orders: {_graphql_messages(errors)}")
    return Check(name, True, f"token accepted by {settings.shopify_shop_domain} (orders readable)")


def _graphql_messages(errors: object) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:300]
    return str(errors)[:300]
