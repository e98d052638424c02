"""A strict fake of the EcartAPI v2 order endpoints the bridge uses (status updates).

Endpoints: ``GET /api/v2/orders`` (list by ``updatedAt[from]``/``updatedAt[to]``, paged by ``page.next``),
``PUT /api/v2/orders/{id}`` (status update), ``GET /api/v2/orders/{id}`` and ``GET /api/v2/store``
(credential check). Auth is ``Authorization: Bearer <token>`` only (the bare-token form is rejected: the
reference could not confirm it still works). Orders must be seeded with :meth:`FakeEcartAPI.seed_order`.
"""

from __future__ import annotations

import base64
import binascii
import copy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import request
from werkzeug.wrappers import Request, Response

from .base import FakeService, json_response, parse_json_body

DEFAULT_STATUSES = ("on_hold", "pending", "paid", "cancelled", "refunded")

#: status.status → (status.financial, status.ecartapi, status.ecartapiId); illustrative, the real mapping
#: is platform specific.
STATUS_MAP: dict[str, tuple[str, str, int]] = {
    "on_hold": ("pending", "pending", 1),
    "pending": ("pending", "pending", 1),
    "authorized": ("authorized", "authorized", 2),
    "paid": ("paid", "paid", 3),
    "partially_paid": ("partially_paid", "partially_paid", 4),
    "refunded": ("refunded", "refunded", 5),
    "partially_refunded": ("partially_refunded", "partially_refunded", 6),
    "cancelled": ("voided", "cancelled", 7),
    "shipped": ("paid", "shipped", 9),
}
ORDER_KEYS = ("status", "note", "notification")


def _fail(status: int, message: str) -> Response:
    return json_response({"success": False, "message": message}, status)


def _updated(order: dict[str, Any]) -> str:
    dates = order.get("dates") if isinstance(order.get("dates"), dict) else {}
    return str(dates.get("updatedAt") or order.get("updatedAt"))


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status_block(status: str) -> dict[str, Any]:
    financial, ecart, ecart_id = STATUS_MAP.get(status, ("pending", "other", 10))
    return {"status": status, "financial": financial, "ecartapi": ecart, "ecartapiId": ecart_id}


class FakeEcartAPI(FakeService):
    """Strict in-memory EcartAPI (v2) for order status updates, served on a real loopback port."""

    name = "ecartapi"

    def __init__(
        self,
        token: str = "test-ecart-token",  # noqa: S107 - fake credential
        allowed_statuses: tuple[str, ...] = DEFAULT_STATUSES,
        *,
        wrap_plural: bool = False,
        store: dict[str, Any] | None = None,
        rate: float | None = None,
        retry_after: int = 1,
        record: bool = True,
    ) -> None:
        """Create the fake; ``wrap_plural=True`` answers under ``orders`` (Magento variant) not ``order``."""
        super().__init__(rate=rate, retry_after=retry_after, record=record)
        self.token = token
        self.allowed_statuses = tuple(allowed_statuses)
        self.wrap_plural = wrap_plural
        self.next_as_url = False  # True: `page.next` is the next page's full URL instead of a token
        self.store = store or {"id": "store-1", "name": "Example Store", "platform": "magento2"}
        self._reset_state()
        f = self.flask
        f.add_url_rule("/api/v2/orders", "orders_list", self._orders_list, methods=["GET"])
        f.add_url_rule("/api/v2/orders/<order_id>", "order_put", self._order_put, methods=["PUT"])
        f.add_url_rule("/api/v2/orders/<order_id>", "order_get", self._order_get, methods=["GET"])
        f.add_url_rule("/api/v2/store", "store_get", self._store_get, methods=["GET"])

    @property
    def base_url(self) -> str:
        """Server URL without ``/api/v2`` (what ``BRIDGE_ECART_URL`` takes)."""
        return self.url

    def start(self) -> FakeEcartAPI:
        """Start serving; returns ``self``."""
        super().start()
        return self

    def __enter__(self) -> FakeEcartAPI:
        return self.start()

    # ------------------------------------------------------------------ helpers
    def seed_order(self, order_id: str | int, **fields: Any) -> dict[str, Any]:
        """Create (or replace) order ``order_id``; ``status="paid"`` may be given as a plain string.

        Any other field overrides the default unified-order fields (``totals`` is merged).
        Returns a copy of the stored unified order.
        """
        oid = str(order_id)
        status = fields.pop("status", "pending")
        status_block = _status_block(status) if isinstance(status, str) else dict(status)
        totals = {"subtotal": "30.00", "tax": "4.80", "shipping": "1.59", "discount": "0.00", "total": "36.39"}
        totals.update(fields.pop("totals", {}))
        now = _now()
        order: dict[str, Any] = {
            "id": oid,
            "name": f"#{oid}",
            "email": "alice@example.com",
            "currency": "USD",
            "status": status_block,
            "payment": {"method": "card", "status": status_block["financial"]},
            "totals": totals,
            "items": [],
            "createdAt": now,
            "updatedAt": now,
        }
        order.update(fields)
        with self._lock:
            self._orders[oid] = order
            self._history.setdefault(oid, [])
            return copy.deepcopy(order)

    def order(self, order_id: str | int) -> dict[str, Any] | None:
        """The stored unified order (copy) or ``None``."""
        with self._lock:
            o = self._orders.get(str(order_id))
            return copy.deepcopy(o) if o else None

    def orders(self) -> list[dict[str, Any]]:
        """All stored orders (copies)."""
        with self._lock:
            return copy.deepcopy(list(self._orders.values()))

    def statuses(self, order_id: str | int) -> list[str]:
        """Statuses successfully set on ``order_id`` by PUTs, in order."""
        with self._lock:
            return list(self._history.get(str(order_id), []))

    # ------------------------------------------------------------------ hooks
    def _reset_state(self) -> None:
        self._orders: dict[str, dict[str, Any]] = {}
        self._history: dict[str, list[str]] = {}

    def _default_hold_prefix(self) -> str | None:
        return "/api/v2/orders"

    def _rate_key(self, request: Request) -> str:
        return request.headers.get("Authorization", "")

    def _check_auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _fail(401, "Invalid token")
        return None

    def _error_body(self, status: int) -> Any:
        return {"success": False, "message": f"Injected error {status}"}

    def _too_many_body(self) -> Any:
        return {"success": False, "message": "Too Many Requests"}

    def _not_found_body(self, request: Request) -> Any:
        return {"success": False, "message": "Not Found"}

    def _bad_method_body(self, request: Request) -> Any:
        return {"success": False, "message": "Method Not Allowed"}

    # ------------------------------------------------------------------ routes
    def _wrap(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"success": True, ("orders" if self.wrap_plural else "order"): copy.deepcopy(order)}

    def _order_put(self, order_id: str) -> Response:
        ok, data = parse_json_body(request.get_data())
        if not ok:
            return _fail(400, "Body must be JSON")
        if not isinstance(data, dict) or set(data) != {"order"} or not isinstance(data["order"], dict):
            return _fail(400, 'Body must be {"order": {...}}')
        body = data["order"]
        unknown = set(body) - set(ORDER_KEYS)
        if unknown:
            return _fail(400, f"Unknown order fields: {', '.join(sorted(unknown))}")
        status_obj = body.get("status")
        if not isinstance(status_obj, dict) or set(status_obj) != {"status"}:
            return _fail(400, 'order.status must be {"status": "<status>"}')
        status = status_obj["status"]
        if not isinstance(status, str) or status not in self.allowed_statuses:
            return _fail(400, f"Invalid status {status!r}; allowed: {', '.join(self.allowed_statuses)}")
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                return _fail(404, "Order not found")
            order["status"] = _status_block(status)
            order["payment"]["status"] = order["status"]["financial"]
            for key in ("note", "notification"):
                if key in body:
                    order[key] = body[key]
            order["updatedAt"] = _now()
            self._history.setdefault(order_id, []).append(status)
            return json_response(self._wrap(order))

    def _order_get(self, order_id: str) -> Response:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                return _fail(404, "Order not found")
            return json_response(self._wrap(order))

    def _orders_list(self) -> Response:
        """`GET /api/v2/orders?updatedAt[from]=…&updatedAt[to]=…&limit=N&page=<page.next>`: both bounds or
        neither (400 otherwise), `limit` 1..100, oldest update first; `page.next` is the token of the next page
        (null on the last)."""
        args = request.args
        bounds = [args.get("updatedAt[from]"), args.get("updatedAt[to]")]
        if (bounds[0] is None) != (bounds[1] is None):
            return _fail(400, "updatedAt[from] and updatedAt[to] must be sent together")
        try:
            limit = int(args.get("limit", "50"))
            start = int(base64.urlsafe_b64decode(args["page"]).decode()) if "page" in args else 0
        except (ValueError, binascii.Error):
            return _fail(400, "Invalid limit or page")
        if not 1 <= limit <= 100:
            return _fail(400, "limit must be between 1 and 100")
        try:
            low, high = (_instant(b) for b in bounds) if bounds[0] is not None else (None, None)
        except ValueError:
            return _fail(400, "Invalid updatedAt range")
        with self._lock:
            pool = [copy.deepcopy(o) for o in self._orders.values()]
        if low is not None and high is not None:
            pool = [o for o in pool if low <= _instant(_updated(o)) <= high]
        pool.sort(key=lambda o: (_instant(_updated(o)), o["id"]))
        chunk = pool[start : start + limit]
        following = start + limit
        token = base64.urlsafe_b64encode(str(following).encode()).decode() if following < len(pool) else None
        if token and self.next_as_url:
            token = f"{request.base_url}?{urlencode({**args, 'page': token})}"
        return json_response(
            {"success": True, "orders": chunk, "page": {"limit": limit, "total": len(pool), "next": token}}
        )

    def _store_get(self) -> Response:
        return json_response({"success": True, "store": dict(self.store)})
