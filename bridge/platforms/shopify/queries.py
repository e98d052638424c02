"""The GraphQL Admin API documents the bridge asks for: orders and abandoned checkouts changed in a range,
one cursor page at a time, each page cheap enough for the 1,000-point single-query limit (a long backfill's
orders go through a bulk export instead: bulk.py, with the same order fields).

Requested cost is priced the way Shopify prices it (see NODE_COST), and the page size is cut until it fits; a
`MAX_COST_EXCEEDED` answer (Shopify priced it higher after all) makes the reader ask again for fewer."""

from __future__ import annotations

MAX_QUERY_COST = 1000

_MONEY = "shopMoney { amount currencyCode }"
# `Customer.phone` is deprecated for `defaultPhoneNumber` (2025-04 on), which a guest's order does not need.
_CUSTOMER = "legacyResourceId email firstName lastName defaultPhoneNumber { phoneNumber }"
_ADDRESS = "firstName lastName phone"
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

# An order's fields, in the order Shopify answers them (the stored body's key order): the part before its line
# items and the part after, shared by the paged document and the bulk export (bridge/platforms/shopify/bulk.py).
ORDER_HEAD = f"""
      id legacyResourceId name email createdAt updatedAt processedAt cancelledAt
      displayFinancialStatus currencyCode checkoutToken statusPageUrl customerAcceptsMarketing
      phone
      customer {{ {_CUSTOMER} }}
      billingAddress {{ {_ADDRESS} }}
      shippingAddress {{ phone }}
      subtotalPriceSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalDiscountsSet {{ {_MONEY} }}
      totalShippingPriceSet {{ {_MONEY} }}
      shippingLine {{ title }}
      discountCodes"""
ORDER_TAIL = f"""
      refunds(first: 10) {{ legacyResourceId createdAt totalRefundedSet {{ {_MONEY} }} }}"""
LINE_ITEM = _LINE_ITEM

ORDERS = f"""
query StorebridgeOrders($first: Int!, $after: String, $query: String, $lineItems: Int!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{{ORDER_HEAD}
      lineItems(first: $lineItems) {{ pageInfo {{ hasNextPage endCursor }} nodes {{{_LINE_ITEM} }} }}{ORDER_TAIL}
    }}
  }}
}}
"""

ORDERS_COUNT = """
query StorebridgeOrdersCount($query: String, $limit: Int) {
  ordersCount(query: $query, limit: $limit) { count precision }
}
"""
ORDERS_COUNT_COST = 1  # one object (Count) of scalars

ABANDONED_CHECKOUTS = f"""
query StorebridgeAbandonedCheckouts($first: Int!, $after: String, $query: String, $lineItems: Int!) {{
  abandonedCheckouts(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id abandonedCheckoutUrl createdAt updatedAt completedAt discountCodes
      customer {{ {_CUSTOMER} }}
      billingAddress {{ {_ADDRESS} }}
      shippingAddress {{ phone }}
      subtotalPriceSet {{ {_MONEY} }}
      totalPriceSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      totalDiscountSet {{ {_MONEY} }}
      lineItems(first: $lineItems) {{ pageInfo {{ hasNextPage endCursor }} nodes {{{_CHECKOUT_LINE_ITEM} }} }}
    }}
  }}
}}
"""


# The rest of one order's or checkout's line items, when a page carried only the first `lineItems` of them.
MORE_LINE_ITEMS = {
    kind: f"""
query StorebridgeMoreLineItems($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    ... on {kind} {{
      lineItems(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{{fields} }} }}
    }}
  }}
}}
"""
    for kind, fields in (("Order", _LINE_ITEM), ("AbandonedCheckout", _CHECKOUT_LINE_ITEM))
}
MORE_LINE_ITEMS_PAGE = 100


def more_line_items_cost(first: int) -> int:
    """The node (1) and its line items connection (2 + `first` x 5)."""
    return 1 + 2 + first * LINE_ITEM_COST


# Shopify prices a query before running it: a scalar 0, an object 1, a connection 2 + `first` x one node
# (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). One node of the documents above:
#   order    = 1 + customer 2 + billingAddress 1 + shippingAddress 1 + five money sets x 2 + shippingLine 1
#              + lineItems (2 + lines x 5: the item, product, variant, price set x 2) + refunds 10 x 3  = 48 + 5L
#   checkout = 1 + customer 2 + billingAddress 1 + shippingAddress 1 + four money sets x 2
#              + lineItems (2 + lines x 5)                                                          = 15 + 5L
NODE_COST = {"orders": 48, "checkouts": 15}
LINE_ITEM_COST = 5


def estimated_cost(first: int, line_items: int, phase: str = "orders") -> int:
    """The requested cost of one page, priced by Shopify's rules (a connection costs 2 + `first` nodes)."""
    return 2 + first * (NODE_COST[phase] + line_items * LINE_ITEM_COST)


def fitting_page_size(wanted: int, line_items: int, phase: str = "orders") -> int:
    """The largest page size not above `wanted` whose requested cost fits the single-query limit."""
    return max(1, min(wanted, (MAX_QUERY_COST - 2) // (NODE_COST[phase] + line_items * LINE_ITEM_COST)))


def updated_filter(since: str, until: str | None) -> str:
    """Shopify's search syntax for a modification-time range (`until` exclusive)."""
    text = f"updated_at:>='{since}'"
    return f"{text} AND updated_at:<'{until}'" if until else text
