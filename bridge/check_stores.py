"""`storebridge check` on the store side: the configuration itself (unknown variables), which sources can
authenticate webhooks (a platform without its secret is a warning: every webhook it sends is answered 401),
and one cheap read with each store API credential that is set (a bad Shopify Admin token should show now,
not as a failed reconciliation 15 minutes later)."""

from __future__ import annotations

import base64

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.errors import DeliveryError
from bridge.settings import Settings

#: The cheapest read the reconciliation's own scope allows (`read_orders`): one order id.
SHOPIFY_PROBE = "query { orders(first: 1) { nodes { id } } }"

_SECRET_VARIABLES = {
    "shopify": "BRIDGE_SHOPIFY_SECRET",
    "woocommerce": "BRIDGE_WOOCOMMERCE_SECRET",
    "ecartapi": "BRIDGE_ECARTAPI_WEBHOOK_TOKEN",
    "custom": "BRIDGE_WEBHOOK_SECRET",
}


def check_settings(settings: Settings) -> list[Check]:
    """A warning for each configuration problem that does not stop start-up (an unknown BRIDGE_* variable)."""
    return [Check("settings", True, warning, warn=True) for warning in settings.warnings]


def _stores_without_secret(settings: Settings) -> list[str]:
    """Platforms whose store API is configured (so the shop is clearly on it) but whose webhooks have no
    secret: the reconciliation reads the orders, but every webhook of theirs is refused."""
    missing = []
    if settings.shopify_shop and not settings.shopify_secrets:
        missing.append("shopify")
    if settings.woocommerce_url and not settings.woocommerce_secrets:
        missing.append("woocommerce")
    return missing


def check_sources(settings: Settings) -> list[Check]:
    """Which sources can authenticate webhooks: a warning when none can, or when a store whose API is set up
    has no webhook secret."""
    names = settings.sources_with_secrets
    if not names:
        variables = ", ".join(_SECRET_VARIABLES.values())
        detail = f"no webhook secret set: every webhook is answered 401 (set one of {variables})"
        return [Check("sources", True, detail, warn=True)]
    checks = [Check("sources", True, f"accepting {', '.join(names)}")]
    for platform in _stores_without_secret(settings):
        detail = f"{_SECRET_VARIABLES[platform]} is not set: every {platform} webhook is answered 401"
        checks.append(Check(f"{platform} webhooks", True, detail, warn=True))
    return checks


def check_shopify_api(settings: Settings) -> Check | None:
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


def check_woocommerce_api(settings: Settings) -> Check | None:
    """The WooCommerce consumer key and secret list one order (None when they are not set)."""
    if not (settings.woocommerce_url and settings.woocommerce_key):
        return None
    name = "woocommerce API"
    url = f"{settings.woocommerce_url}/wp-json/wc/v3/orders"
    pair = f"{settings.woocommerce_key}:{settings.woocommerce_key_secret or ''}"
    headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode(), "Accept": "application/json"}
    try:
        result = caller(settings, headers).call("GET", url, params={"per_page": "1"})
    except DeliveryError as exc:
        return Check(name, False, why(exc, url, settings))
    if result.status in (401, 403):
        return Check(name, False, rejected("BRIDGE_WOOCOMMERCE_KEY / BRIDGE_WOOCOMMERCE_KEY_SECRET", result))
    if result.status == 404:
        detail = f"no WooCommerce REST API at {settings.woocommerce_url} (HTTP 404): check BRIDGE_WOOCOMMERCE_URL"
        return Check(name, False, detail)
    if result.status != 200:
        return Check(name, False, unexpected(result, settings.woocommerce_url))
    return Check(name, True, f"keys accepted by {settings.woocommerce_url} (orders readable)")


def check_store_apis(settings: Settings) -> list[Check]:
    """One line per store API whose credentials are set."""
    return [c for c in (check_shopify_api(settings), check_woocommerce_api(settings)) if c is not None]
