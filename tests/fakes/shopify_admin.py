"""A strict fake of the Shopify GraphQL Admin API's `orders` and `abandonedCheckouts` queries.

``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token`` (else 401 with Shopify's body).
The query must ask for exactly one of the two connections, or for ``node(id:)`` (the rest of an order's or
checkout's line items, by their own cursor); ``first`` (1..250) and ``query`` are the connection's arguments,
the nested ``lineItems(first:, after:)`` pages each node's items. Filters: ``updated_at:>='…'`` and
``updated_at:<'…'`` (the only ones supported); nodes are sorted by ``updatedAt`` then id, and ``after``
takes the opaque ``endCursor`` of the previous page.

The cost-based throttle is Shopify's (a leaky bucket, ``maximumAvailable`` points refilled at
``restoreRate`` per second): a query whose requested cost exceeds the points available is answered HTTP 200
with ``errors[].extensions.code == "THROTTLED"``; one above 1,000 points with ``MAX_COST_EXCEEDED``. Every
answer carries ``extensions.cost`` with ``throttleStatus``. Requested and actual cost are worked out from the
query document by Shopify's rules (tests/fakes/graphql_cost.py); the bucket is charged the actual cost.
:meth:`drain` empties the bucket (a throttle now).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import request
from werkzeug.wrappers import Request, Response

from . import graphql_cost, shopify_bulk
from .base import FakeService, json_response, parse_json_body

MAX_COST = 1000
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_SINCE = re.compile(r"updated_at:>='([^']+)'")
_UNTIL = re.compile(r"updated_at:<'([^']+)'")


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cursor(node: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps([node["updatedAt"], node["id"]]).encode()).decode()


def _line_items_args(field: graphql_cost.Field) -> dict[str, Any]:
    """The arguments of the `lineItems` connection asked of each node (under `nodes` or a fragment)."""
    for child in field.selection:
        if child.name == "lineItems":
            return child.args
        found = _line_items_args(child) if child.name in ("nodes", "edges", "node", "...") else {}
        if found:
            return found
    return {}


def _line_items_page(node: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """One page of a node's line items, with a cursor per item as Shopify pages nested connections."""
    items = (node.get("lineItems") or {}).get("nodes") or []
    after = args.get("after")
    start = int(base64.b64decode(after).decode().rpartition(":")[2]) + 1 if isinstance(after, str) else 0
    count = args.get("first") if isinstance(args.get("first"), int) else len(items)
    page = items[start : start + count]
    end = start + len(page) - 1
    return {
        "pageInfo": {
            "hasNextPage": start + len(page) < len(items),
            "endCursor": base64.b64encode(f"line:{end}".encode()).decode() if page else None,
        },
        "nodes": page,
    }


def _graphql_error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


class FakeShopifyAdmin(FakeService):
    """Strict in-memory Shopify GraphQL Admin API for orders and abandoned checkouts."""

    name = "shopify-admin"

    def __init__(
        self,
        token: str = "shpat_test_0123456789abcdef",  # noqa: S107 - fake credential
        *,
        api_version: str = "2026-10",
        maximum_available: float = 1000.0,
        restore_rate: float = 50.0,
        rate: float | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(rate=rate, record=record)
        self.token = token
        self.api_version = api_version
        self.maximum_available = maximum_available
        self.restore_rate = restore_rate
        self.max_cost = MAX_COST  # Shopify's single-query limit; tests lower it to see a client adapt
        self._bucket_lock = threading.Lock()
        self.bulk = shopify_bulk.BulkOperations(self)
        self._reset_state()
        self.flask.add_url_rule(f"/admin/api/{api_version}/graphql.json", "graphql", self._graphql, methods=["POST"])

    @property
    def shop_domain(self) -> str:
        """The shop's identity when BRIDGE_SHOPIFY_SHOP is this fake's URL: host:port."""
        return self.url.partition("://")[2]

    # ------------------------------------------------------------------ helpers
    def add_order(self, node: dict[str, Any]) -> None:
        """Store (or replace) a GraphQL `Order` node (see tests/platforms/shopify/fixtures/graphql/)."""
        with self._lock:
            self._orders[node["id"]] = copy.deepcopy(node)

    def add_checkout(self, node: dict[str, Any]) -> None:
        """Store (or replace) a GraphQL `AbandonedCheckout` node."""
        with self._lock:
            self._checkouts[node["id"]] = copy.deepcopy(node)

    def drain(self) -> None:
        """Empty the cost bucket: the next query is throttled until it refills."""
        with self._bucket_lock:
            self._available = 0.0
            self._at = time.monotonic()

    @property
    def throttled(self) -> int:
        """How many queries were answered THROTTLED."""
        return self._throttled

    # ------------------------------------------------------------------ hooks
    def _reset_state(self) -> None:
        self._orders: dict[str, dict[str, Any]] = {}
        self._checkouts: dict[str, dict[str, Any]] = {}
        self._available = self.maximum_available
        self._at = time.monotonic()
        self._throttled = 0
        if hasattr(self, "bulk"):
            self.bulk.reset()

    def _default_hold_prefix(self) -> str | None:
        return "/admin/api/"

    def _rate_key(self, request: Request) -> str:
        return request.headers.get("X-Shopify-Access-Token", "")

    def _check_auth(self, request: Request) -> Response | None:
        if request.path.startswith(shopify_bulk.RESULTS):
            return self.bulk.check_download(request)  # a signed storage URL, not the API
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return json_response({"errors": INVALID_TOKEN}, 401)
        return None

    def _error_body(self, status: int) -> Any:
        return {"errors": f"Injected error {status}"}

    def _too_many_body(self) -> Any:
        return {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume."}

    def _not_found_body(self, request: Request) -> Any:
        return {"errors": "Not Found"}

    # ------------------------------------------------------------------ the bucket
    def _status(self, now: float) -> dict[str, Any]:
        self._available = min(self.maximum_available, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(self._available),
            "restoreRate": self.restore_rate,
        }

    # ------------------------------------------------------------------ the route
    def _graphql(self) -> Response:
        if request.mimetype != "application/json":
            return json_response({"errors": "Content-Type must be application/json"}, 415)
        ok, body = parse_json_body(request.get_data())
        if not ok or not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        query, variables = body["query"], body.get("variables") or {}
        try:
            root = graphql_cost.parse(query, variables)
            requested = graphql_cost.requested_cost(query, variables)
        except graphql_cost.QueryError as exc:
            return json_response({"errors": [_graphql_error(f"Parse error: {exc}", "PARSE_ERROR")]})
        if len(root) != 1 or root[0].name not in ("orders", "abandonedCheckouts", "node", *shopify_bulk.FIELDS):
            message = "This fake answers orders, abandonedCheckouts, node(id:), ordersCount and bulk queries"
            return json_response({"errors": [_graphql_error(message, "UNSUPPORTED")]})
        field = root[0]
        problem = self._bad_arguments(field)
        if problem:
            return json_response({"errors": [_graphql_error(problem, "BAD_USER_INPUT")]})
        with self._bucket_lock:
            status = self._status(time.monotonic())
            if requested > self.max_cost:
                message = f"Query cost is {requested}, which exceeds the single query max cost limit ({self.max_cost})."
                error = _graphql_error(message, "MAX_COST_EXCEEDED", cost=requested, maxCost=self.max_cost)
                cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}
                return json_response({"errors": [error], "extensions": {"cost": cost}})
            if requested > self._available:
                self._throttled += 1
                error = _graphql_error(
                    "Throttled", "THROTTLED", documentation="https://shopify.dev/api/usage/rate-limits"
                )
                cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": status}
                return json_response({"errors": [error], "extensions": {"cost": cost}})
            items = _line_items_args(field)
            if field.name in shopify_bulk.FIELDS or self.bulk.owns(field.args.get("id")):
                answer: Any = self.bulk.answer(field)
            elif field.name == "node":
                answer = self._node(field.args["id"], items)
            else:
                answer = self._connection(field.name, field.args, items)
            data = graphql_cost.project(query, variables, {field.name: answer})
            actual = graphql_cost.actual_cost(query, variables, data)
            self._available -= actual
            status = self._status(time.monotonic())
        cost = {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}
        return json_response({"data": data, "extensions": {"cost": cost}})

    @staticmethod
    def _bad_arguments(field: graphql_cost.Field) -> str | None:
        items = _line_items_args(field)
        count = items.get("first")
        if count is not None and (not isinstance(count, int) or not 0 <= count <= 250):
            return "lineItems: first must be between 0 and 250"
        if field.name == "node":
            return None if isinstance(field.args.get("id"), str) else "node: id is required"
        if field.name in shopify_bulk.FIELDS:
            return None
        first = field.args.get("first")
        if not isinstance(first, int) or not 1 <= first <= 250:
            return "first must be between 1 and 250"
        return None

    def _node(self, gid: str, items: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            stored = self._orders.get(gid) or self._checkouts.get(gid)
        if stored is None:
            return None
        node = copy.deepcopy(stored)
        node["lineItems"] = _line_items_page(node, items)
        return node

    def matching(self, name: str, search: str | None) -> list[dict[str, Any]]:
        """The stored orders (or checkouts) the search selects, sorted by `updatedAt` then id."""
        with self._lock:
            pool = list((self._orders if name == "orders" else self._checkouts).values())
        since = _SINCE.search(search or "")
        until = _UNTIL.search(search or "")
        if since:
            pool = [n for n in pool if _time(n["updatedAt"]) >= _time(since.group(1))]
        if until:
            pool = [n for n in pool if _time(n["updatedAt"]) < _time(until.group(1))]
        pool.sort(key=lambda n: (_time(n["updatedAt"]), n["id"]))
        return pool

    def _connection(self, name: str, args: dict[str, Any], items: dict[str, Any]) -> dict[str, Any]:
        first, after = args["first"], args.get("after")
        pool = self.matching(name, args.get("query"))
        if isinstance(after, str):
            last_updated, last_id = json.loads(base64.b64decode(after))
            pool = [n for n in pool if (_time(n["updatedAt"]), n["id"]) > (_time(last_updated), last_id)]
        page = [copy.deepcopy(n) for n in pool[:first]]
        for node in page:
            node["lineItems"] = _line_items_page(node, items)
        return {
            "pageInfo": {"hasNextPage": len(pool) > first, "endCursor": _cursor(page[-1]) if page else None},
            "nodes": page,
        }
