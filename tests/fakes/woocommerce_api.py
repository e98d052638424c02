"""A strict fake of the WooCommerce REST API v3 orders list: ``GET /wp-json/wc/v3/orders``.

Auth: the consumer key and secret as HTTP Basic auth, or as ``consumer_key`` / ``consumer_secret`` query
parameters; otherwise 401 ``woocommerce_rest_cannot_view``. Parameters: ``modified_after`` /
``modified_before`` (ISO-8601; read in the site's timezone unless ``dates_are_gmt=true`` or the value carries
an offset, as WooCommerce does), ``per_page`` (1..100, else 400 ``rest_invalid_param``), ``page``,
``orderby`` (id, date, modified) and ``order``. Answers carry ``X-WP-Total`` and ``X-WP-TotalPages``.
Orders are REST order bodies (the webhook fixtures under tests/platforms/woocommerce/fixtures/ are that shape).
"""

from __future__ import annotations

import base64
import copy
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import request
from werkzeug.wrappers import Request, Response

from .base import FakeService, json_response


def _rest_error(code: str, message: str, status: int, **data: Any) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status, **data}}, status)


class FakeWooCommerce(FakeService):
    """Strict in-memory WooCommerce orders list."""

    name = "woocommerce"

    def __init__(
        self,
        key: str = "ck_test_0123456789abcdef0123456789abcdef01234567",
        secret: str = "cs_test_0123456789abcdef0123456789abcdef01234567",  # noqa: S107 - fake credential
        *,
        site_offset_hours: int = -5,
        rate: float | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(rate=rate, record=record)
        self.key = key
        self.secret = secret
        self.site_zone = timezone(timedelta(hours=site_offset_hours))
        self._reset_state()
        self.flask.add_url_rule("/wp-json/wc/v3/orders", "orders", self._list, methods=["GET"])

    # ------------------------------------------------------------------ helpers
    def add_order(self, order: dict[str, Any]) -> None:
        """Store (or replace) a REST order body (needs `id` and `date_modified_gmt`)."""
        with self._lock:
            self._orders[int(order["id"])] = copy.deepcopy(order)

    # ------------------------------------------------------------------ hooks
    def _reset_state(self) -> None:
        self._orders: dict[int, dict[str, Any]] = {}

    def _default_hold_prefix(self) -> str | None:
        return "/wp-json/wc/v3/"

    def _check_auth(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                key = secret = ""
        else:
            key, secret = request.args.get("consumer_key", ""), request.args.get("consumer_secret", "")
        if key == self.key and secret == self.secret:
            return None
        if not key:
            return _rest_error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        return _rest_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)

    def _error_body(self, status: int) -> Any:
        return {"code": "internal_server_error", "message": f"Injected error {status}", "data": {"status": status}}

    def _too_many_body(self) -> Any:
        return {"code": "too_many_requests", "message": "Too Many Requests", "data": {"status": 429}}

    def _not_found_body(self, request: Request) -> Any:
        return {"code": "rest_no_route", "message": "No route was found matching the URL and request method.",
                "data": {"status": 404}}  # fmt: skip

    # ------------------------------------------------------------------ the route
    def _moment(self, text: str, gmt: bool) -> datetime | None:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC if gmt else self.site_zone)
        return value

    def _list(self) -> Response:
        args = request.args
        gmt = args.get("dates_are_gmt") in ("true", "1")
        bounds: dict[str, datetime] = {}
        for name in ("modified_after", "modified_before"):
            if name in args:
                moment = self._moment(args[name], gmt)
                if moment is None:
                    return _rest_error("rest_invalid_param", f"Invalid parameter(s): {name}", 400,
                                       params={name: "Invalid date."})  # fmt: skip
                bounds[name] = moment
        try:
            per_page, page = int(args.get("per_page", "10")), int(args.get("page", "1"))
        except ValueError:
            return _rest_error("rest_invalid_param", "Invalid parameter(s): per_page, page", 400)
        if not 1 <= per_page <= 100:
            detail = {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}
            return _rest_error("rest_invalid_param", "Invalid parameter(s): per_page", 400, params=detail)
        if page < 1:
            return _rest_error("rest_invalid_param", "Invalid parameter(s): page", 400)
        orderby = args.get("orderby", "date")
        if orderby not in ("id", "date", "modified"):
            return _rest_error("rest_invalid_param", "Invalid parameter(s): orderby", 400)
        with self._lock:
            pool = [copy.deepcopy(o) for o in self._orders.values()]

        def modified(order: dict[str, Any]) -> datetime:
            return datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC)

        if "modified_after" in bounds:
            pool = [o for o in pool if modified(o) > bounds["modified_after"]]
        if "modified_before" in bounds:
            pool = [o for o in pool if modified(o) < bounds["modified_before"]]
        keys = {"id": lambda o: o["id"], "date": lambda o: o.get("date_created_gmt") or "", "modified": modified}
        pool.sort(key=keys[orderby], reverse=args.get("order", "desc") == "desc")
        total = len(pool)
        pages = max(1, math.ceil(total / per_page)) if total else 0
        chunk = pool[(page - 1) * per_page : page * per_page]
        return json_response(chunk, 200, {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})
