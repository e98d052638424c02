"""The Shopify GraphQL Admin API client: `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`,
and Shopify's cost-based throttle.

A throttled query is answered HTTP 200 with `errors[].extensions.code == "THROTTLED"`; every answer carries
`extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}`. The client waits for the
bucket to refill before asking again, and before a query it knows the bucket cannot pay for."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from bridge.errors import PermanentError, RetryableError
from bridge.platforms.api_http import StoreHttp
from bridge.platforms.shopify.settings import ShopifySettings

log = logging.getLogger("bridge.platforms.shopify")
MAX_THROTTLED = 20


class QueryTooCostly(PermanentError):
    """Shopify priced the query above its single-query limit (`MAX_COST_EXCEEDED`); a smaller page may fit."""

    def __init__(self, message: str, *, cost: float | None, max_cost: float | None) -> None:
        super().__init__(message, status=200)
        self.cost, self.max_cost = cost, max_cost


class ShopifyAdmin:
    """Runs GraphQL queries against one shop."""

    def __init__(self, settings: ShopifySettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        if not settings.shopify_base_url or not settings.shopify_admin_token:
            raise PermanentError("shopify: BRIDGE_SHOPIFY_SHOP and BRIDGE_SHOPIFY_ADMIN_TOKEN are not set")
        self.url = f"{settings.shopify_base_url}/admin/api/{settings.shopify_api_version}/graphql.json"
        self.sleep = sleep
        self.http = StoreHttp(
            "shopify",
            headers={"X-Shopify-Access-Token": settings.shopify_admin_token, "Content-Type": "application/json"},
            timeout=settings.http_timeout,
            sleep=sleep,
        )
        self.available: float | None = None
        self.restore_rate: float | None = None
        self.throttled = 0  # how many THROTTLED answers were waited out (bench and tests read it)

    def query(self, document: str, variables: dict[str, Any], *, cost: int) -> dict[str, Any]:
        """The `data` of one query whose requested cost is about `cost`; waits out throttling."""
        for _ in range(MAX_THROTTLED):
            self._wait_for(cost)
            result, _headers = self.http.call("POST", self.url, json_body={"query": document, "variables": variables})
            body = result.body if isinstance(result.body, dict) else {}
            self._note_bucket(body)
            errors = body.get("errors")
            if errors and _is_throttled(errors):
                self.throttled += 1
                requested = _cost(body).get("requestedQueryCost") or cost
                wait = self._refill_time(requested)
                log.info("shopify throttled; waiting", extra={"wait": wait, "requested": requested})
                self.sleep(wait)
                continue
            too_costly = _error_with_code(errors, "MAX_COST_EXCEEDED")
            if too_costly is not None:
                extensions = too_costly["extensions"]
                raise QueryTooCostly(
                    f"shopify: {_messages(errors)}",
                    cost=_number(extensions.get("cost")) or _number(_cost(body).get("requestedQueryCost")),
                    max_cost=_number(extensions.get("maxCost")),
                )
            if errors:
                raise PermanentError(
                    f"shopify: GraphQL errors: {_messages(errors)}", status=200, body=result.text[:500]
                )
            data = body.get("data")
            if not isinstance(data, dict):
                raise PermanentError("shopify: a GraphQL answer without data", status=200, body=result.text[:500])
            return data
        raise RetryableError(f"shopify: still throttled after {MAX_THROTTLED} waits")

    def _note_bucket(self, body: dict[str, Any]) -> None:
        status = _cost(body).get("throttleStatus")
        if isinstance(status, dict):
            available, rate = status.get("currentlyAvailable"), status.get("restoreRate")
            if isinstance(available, int | float) and isinstance(rate, int | float) and rate > 0:
                self.available, self.restore_rate = float(available), float(rate)

    def _refill_time(self, needed: float) -> float:
        if self.available is None or not self.restore_rate:
            return 1.0
        return max(0.1, math.ceil((needed - self.available) / self.restore_rate * 10) / 10)

    def _wait_for(self, cost: int) -> None:
        """Before a query the last known bucket cannot pay for, wait for it to refill (not to be throttled)."""
        if self.available is not None and self.restore_rate and self.available < cost:
            wait = self._refill_time(cost)
            self.sleep(wait)
            self.available = float(cost)


def _cost(body: dict[str, Any]) -> dict[str, Any]:
    extensions = body.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    return cost if isinstance(cost, dict) else {}


def _error_with_code(errors: Any, code: str) -> dict[str, Any] | None:
    if not isinstance(errors, list):
        return None
    return next(
        (e for e in errors if isinstance(e, dict) and isinstance(e.get("extensions"), dict)
         and e["extensions"].get("code") == code),
        None,
    )  # fmt: skip


def _is_throttled(errors: Any) -> bool:
    return _error_with_code(errors, "THROTTLED") is not None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:300]
    return str(errors)[:300]
