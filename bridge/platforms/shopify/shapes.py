"""The canonical shapes Shopify's two payloads share: a REST webhook body (snake_case, money as strings) and a
GraphQL Admin API node (camelCase, money in `*Set.shopMoney`, `gid://` ids) describe the same customer, line
item and purchase. Each side reads its own keys (webhook_mapping.py, api_schemas.py) and hands the values to
one function here, so the webhook and the reconciled copy of one order map alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.platforms.mapping import MoneyConverter, first


def customer(
    *,
    external_id: Any,
    email: Any,
    first_name: Any,
    last_name: Any,
    phones: Iterable[Any],
    accepts_marketing: Any,
) -> dict[str, Any]:
    """A known customer; `phones` in order of preference (the customer's own first, then the order's)."""
    return {
        "external_id": external_id,
        "email": first(email),
        "first_name": first_name,
        "last_name": last_name,
        "phone": first(*phones),
        "accepts_marketing": accepts_marketing,
    }


def line_item(
    item: dict[str, Any],
    *,
    ids: Iterable[Any],
    variant_title: Any,
    price: Any,
    convert: MoneyConverter,
    index: int,
    price_path: str,
) -> dict[str, Any]:
    """One line item: its id is the first of `ids` (product, variant, line, …) that is set, else its position;
    `item`'s own `sku`, `title` / `name`, `vendor` and `quantity` are read as both payloads name them."""
    return {
        "external_id": first(*ids, f"line-{index + 1}"),
        "sku": first(item.get("sku")),
        "name": first(item.get("title"), item.get("name"), "Item"),
        "description": first(variant_title),
        "category": first(item.get("vendor")),
        "quantity": item["quantity"],
        "unit_price": convert(price, price_path),
    }
