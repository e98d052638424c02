"""The GraphQL Admin API documents the bridge asks for: orders and abandoned checkouts changed in a range,
one cursor page at a time (no bulk operations), each page cheap enough for the 1,000-point single-query limit.

Requested cost is estimated the way Shopify counts a connection (2 + `first` times the cost of one node); a node
here costs 1 plus its line items, and the page size is cut until the estimate fits."""

from __future__ import annotations

MAX_QUERY_COST = 1000

_MONEY = "shopMoney { amount currencyCode }"
# `AbandonedCheckoutLineItem` has no `name` or `vendor` (an order's `LineItem` has both).
_CHECKOUT_LINE_ITEM = f"""
        id sku title variantTitle quantity
        product {{ legacyResourceId }}
        variant {{ legacyResourceId }}
        originalUnitPriceSet {{ {_MONEY} }}"""
_LINE_ITEM = f"""
        id sku name title variantTitle vendor quantity
        product {{ legacyResourceId }}
        variant {{ legacyResourceId }}
        originalUnitPriceSet {{ {_MONEY} }}"""

ORDERS = f"""
query StorebridgeOrders($first: Int!, $after: String, $query: String, $lineItems: Int!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id legacyResourceId name email createdAt updatedAt processedAt cancelledAt
      displayFinancialStatus currencyCode checkoutToken statusPageUrl customerAcceptsMarketing
      customer {{ legacyResourceId email firstName lastName }}
      subtotalPriceSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalDiscountsSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }}
      shippingLine {{ title }}
      discountCodes
      lineItems(first: $lineItems) {{ nodes {{{_LINE_ITEM} }} }}
      refunds(first: 10) {{ legacyResourceId createdAt totalRefundedSet {{ {_MONEY} }} }}
    }}
  }}
}}
"""

ABANDONED_CHECKOUTS = f"""
query StorebridgeAbandonedCheckouts($first: Int!, $after: String, $query: String, $lineItems: Int!) {{
  abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id abandonedCheckoutUrl createdAt updatedAt completedAt discountCodes
      customer {{ legacyResourceId email firstName lastName }}
      subtotalPriceSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalDiscountSet {{ {_MONEY} }}
      lineItems(first: $lineItems) {{ nodes {{{_CHECKOUT_LINE_ITEM} }} }}
    }}
  }}
}}
"""


def estimated_cost(first: int, line_items: int) -> int:
    """The requested cost of one page: 2 for the connection, and per node 1 plus its line items."""
    return 2 + first * (1 + line_items)


def fitting_page_size(wanted: int, line_items: int) -> int:
    """The largest page size not above `wanted` whose estimated cost fits the single-query limit."""
    return max(1, min(wanted, (MAX_QUERY_COST - 2) // (1 + line_items)))


def updated_filter(since: str, until: str | None) -> str:
    """Shopify's search syntax for a modification-time range (`until` exclusive)."""
    text = f"updated_at:>='{since}'"
    return f"{text} AND updated_at:<'{until}'" if until else text
