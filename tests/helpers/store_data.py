"""Store API data for tests: many states of real-looking fixtures, with their ids and times changed."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers.env import fixture


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shopify_orders(count: int, *, start: datetime, step: timedelta = timedelta(minutes=1)) -> list[dict[str, Any]]:
    """`count` paid GraphQL orders (order__paid with ids 9000000000001…, one e-mail each)."""
    base = json.loads(fixture("shopify/graphql", "order__paid.json"))
    orders = []
    for i in range(count):
        node = copy.deepcopy(base)
        order_id = str(9000000000001 + i)
        node.update(
            id=f"gid://shopify/Order/{order_id}",
            legacyResourceId=order_id,
            name=f"#{5000 + i}",
            email=f"buyer{i}@example.com",
            checkoutToken=f"{i:032x}",
            createdAt=iso(start + i * step - timedelta(seconds=5)),
            updatedAt=iso(start + i * step),
            processedAt=iso(start + i * step - timedelta(seconds=4)),
        )
        node["customer"] = {**node["customer"], "email": f"buyer{i}@example.com", "legacyResourceId": str(700 + i)}
        orders.append(node)
    return orders


def woo_order(order_id: int, status: str, modified: datetime, email: str = "nora@example.com") -> dict[str, Any]:
    """The processing fixture as order `order_id` in `status`, modified at `modified` (UTC)."""
    order = json.loads(fixture("woocommerce", "order_updated__processing.json"))
    # One customer per e-mail address, as in a real store (AC refuses a second e-mail for an externalid).
    order.update(id=order_id, number=str(order_id), status=status, customer_id=50000 + order_id)
    order["date_modified_gmt"] = modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    order["date_modified"] = (modified - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S")
    order["billing"] = {**order["billing"], "email": email}
    return order


def ecart_order(order_id: str, updated: datetime) -> dict[str, Any]:
    """The paid EcartAPI fixture as order `order_id`, updated at `updated`."""
    order = json.loads(fixture("ecartapi", "order__paid.json"))
    order["id"] = order_id
    order["dates"] = {**order.get("dates", {}), "updatedAt": iso(updated)}
    return order
