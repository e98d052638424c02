"""`storebridge check` on the WooCommerce REST API: the consumer key and secret list one order."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.errors import DeliveryError

if TYPE_CHECKING:
    from bridge.settings import Settings


def check_api(settings: Settings) -> Check | None:
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
