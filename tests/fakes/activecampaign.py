"""A strict fake of ActiveCampaign's Deep Data API v3 (connections, ecomCustomers, ecomOrders).

Behaviour follows /work/shared/reference/activecampaign-ecartapi.md; where the real API is undocumented the
fake is deliberately *stricter* than AC probably is (see ``FakeActiveCampaign`` docstring), so a client
that passes against it is conservative against the real service.

Run standalone (for benchmarks)::

    python -m tests.fakes.activecampaign --port 0 --rate 5 --token T [--retry-after 1] [--preload-connection]

prints ``READY <url>`` once listening, serves until SIGTERM/SIGINT, then prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import request
from werkzeug.wrappers import Request, Response

from . import activecampaign_contacts, activecampaign_graphql
from .base import FakeService, json_response, parse_json_body

#: AC renders dates in its own zone (reference §9.10): same instant, different offset than sent.
AC_ZONE = timezone(timedelta(hours=-5))

STATE_PENDING, STATE_COMPLETED, STATE_ABANDONED, STATE_RECOVERED, STATE_WAITING = 0, 1, 2, 3, 4

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_DIGITS_RE = re.compile(r"^[0-9]+$")

ORDER_REQUIRED = ("email", "totalPrice", "currency", "connectionid", "customerid", "externalCreatedDate")
PRODUCT_REQUIRED = ("externalid", "name", "price", "quantity")
PRODUCT_OPTIONAL = ("category", "sku", "description", "imageUrl", "productUrl")
DISCOUNT_REQUIRED = ("name", "type", "discountAmount")
CONNECTION_REQUIRED = ("service", "externalid", "name", "logoUrl", "linkUrl")
CUSTOMER_REQUIRED = ("connectionid", "externalid", "email")
MONEY_FIELDS = ("totalPrice", "shippingAmount", "taxAmount", "discountAmount")
CUSTOMER_UNIQUE_RULES = ("email", "externalid", "both")


class _Invalid(Exception):
    """A field value failed validation; ``pointer`` is relative to the field (e.g. ``/0/price``)."""

    def __init__(self, detail: str, sub: str = "", code: str = "field_invalid") -> None:
        super().__init__(detail)
        self.detail = detail
        self.sub = sub
        self.code = code


def ac_error(code: str, field: str, title: str | None = None, detail: str = "") -> dict[str, Any]:
    """One entry of AC's 422 ``errors`` array."""
    if title is None:
        title = {
            "field_missing": f"The {field} field is required",
            "field_invalid": f"The {field} field is invalid",
            "related_missing": f"The related {field} does not exist",
            "email_invalid": "Email address is not valid",
        }.get(code, f"The {field} field is invalid")
    return {"title": title, "detail": detail, "code": code, "source": {"pointer": f"/data/attributes/{field}"}}


def _errors(*errs: dict[str, Any], status: int = 422) -> Response:
    return json_response({"errors": list(errs)}, status)


def _bad_request(detail: str | None = None) -> Response:
    err: dict[str, Any] = {"status": 400, "title": "Bad Request"}
    if detail:
        err["detail"] = detail
    return json_response({"errors": [err]}, 400)


def _not_found(kind: str, ident: str) -> Response:
    return json_response({"message": f"No Result found for {kind} with id {ident}"}, 404)


# ---------------------------------------------------------------------------------------- validators
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def v_external_id(v: Any) -> str:
    """Store id: non-empty string or JSON integer, kept as a string."""
    if _is_int(v):
        return str(v)
    if isinstance(v, str) and v.strip():
        return v
    raise _Invalid("must be a non-empty string (or integer)")


def v_ref(v: Any) -> str:
    """Reference to an AC id: positive integer or digit string, normalised to the string AC returns."""
    if _is_int(v) and v > 0:
        return str(v)
    if isinstance(v, str) and _DIGITS_RE.match(v) and int(v) > 0:
        return str(int(v))
    raise _Invalid("must be a positive integer id")


def v_money(v: Any) -> int:
    """Minor units: JSON integer >= 0 (floats like 10.0 and strings like "1000" are rejected)."""
    if not _is_int(v):
        raise _Invalid(f"must be an integer amount in minor units (cents), got {type(v).__name__} {v!r}")
    if v < 0:
        raise _Invalid("must be >= 0")
    return v


def v_quantity(v: Any) -> int:
    """Line quantity: JSON integer >= 0."""
    if not _is_int(v) or v < 0:
        raise _Invalid(f"must be a non-negative integer, got {v!r}")
    return v


def v_currency(v: Any) -> str:
    """ISO 4217 code, three upper-case letters."""
    if not isinstance(v, str) or not _CURRENCY_RE.match(v):
        raise _Invalid(f"must be a 3-letter upper-case ISO 4217 code, got {v!r}")
    return v


def v_email(v: Any) -> str:
    """Something that looks like an email address."""
    if not isinstance(v, str) or not _EMAIL_RE.match(v.strip()):
        raise _Invalid(f"not a valid email address: {v!r}")
    return v.strip()


def parse_iso(v: Any) -> datetime:
    """Parse an ISO-8601 timestamp that carries a UTC offset (``Z`` or ``+hh:mm``); raise otherwise."""
    if not isinstance(v, str) or "T" not in v:
        raise _Invalid(f"must be an ISO-8601 date-time with offset, got {v!r}")
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise _Invalid(f"must be an ISO-8601 date-time with offset, got {v!r}") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise _Invalid(f"date-time must carry a UTC offset, got {v!r}")
    return dt


def v_date(v: Any) -> str:
    """ISO-8601 date-time with offset; the string is stored as sent."""
    parse_iso(v)
    return v


def v_past_date(v: Any) -> str:
    """Like :func:`v_date` and strictly in the past (``abandonedDate``)."""
    if parse_iso(v) >= datetime.now(UTC):
        raise _Invalid(f"must be in the past, got {v!r}")
    return v


def v_string(v: Any) -> str:
    """Any JSON string."""
    if not isinstance(v, str):
        raise _Invalid(f"must be a string, got {type(v).__name__}")
    return v


def v_nonempty(v: Any) -> str:
    """Non-empty JSON string."""
    if not isinstance(v, str) or not v.strip():
        raise _Invalid("must be a non-empty string")
    return v


def v_url(v: Any) -> str:
    """Absolute http(s) URL."""
    if not isinstance(v, str) or not re.match(r"^https?://\S+$", v):
        raise _Invalid(f"must be an absolute http(s) URL, got {v!r}")
    return v


def v_source(v: Any) -> int:
    """``source``: JSON integer 0 (historical) or 1 (real time)."""
    if not _is_int(v) or v not in (0, 1):
        raise _Invalid(f"must be the integer 0 or 1, got {v!r}")
    return v


def v_accepts_marketing(v: Any) -> str:
    """``acceptsMarketing``: "0"/"1"/0/1, stored as the string AC returns."""
    if (_is_int(v) and v in (0, 1)) or v in ("0", "1"):
        return str(v)
    raise _Invalid(f'must be "0" or "1", got {v!r}')


def _v_objects(v: Any, required: tuple[str, ...], fields: dict[str, Callable[[Any], Any]]) -> list[dict[str, Any]]:
    if not isinstance(v, list):
        raise _Invalid(f"must be an array of objects, got {type(v).__name__}")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(v):
        if not isinstance(item, dict):
            raise _Invalid("each entry must be an object", f"/{i}")
        norm: dict[str, Any] = {}
        for key, val in item.items():
            if key not in fields:
                raise _Invalid(f"unknown field {key!r}", f"/{i}/{key}")
            if val is None:
                continue
            try:
                norm[key] = fields[key](val)
            except _Invalid as exc:
                raise _Invalid(exc.detail, f"/{i}/{key}") from None
        for key in required:
            if key not in norm:
                raise _Invalid(f"{key} is required", f"/{i}/{key}", code="field_missing")
        out.append(norm)
    return out


def _discount_type(v: Any) -> str:
    if v not in ("order", "shipping"):
        raise _Invalid(f'must be "order" or "shipping", got {v!r}')
    return v


_PRODUCT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "externalid": v_external_id,
    "name": v_nonempty,
    "price": v_money,
    "quantity": v_quantity,
    **{k: v_string for k in PRODUCT_OPTIONAL},
}
_DISCOUNT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": v_nonempty,
    "type": _discount_type,
    "discountAmount": v_money,
}


def v_products(v: Any) -> list[dict[str, Any]]:
    """``orderProducts``: array of objects with externalid, name, price (int), quantity (int)."""
    return _v_objects(v, PRODUCT_REQUIRED, _PRODUCT_FIELDS)


def v_discounts(v: Any) -> list[dict[str, Any]]:
    """``orderDiscounts``: ARRAY of objects with name, type (order|shipping), discountAmount (int)."""
    return _v_objects(v, DISCOUNT_REQUIRED, _DISCOUNT_FIELDS)


ORDER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "externalid": v_external_id,
    "externalcheckoutid": v_external_id,
    "abandonedDate": v_past_date,
    "source": v_source,
    "email": v_email,
    "totalPrice": v_money,
    "currency": v_currency,
    "connectionid": v_ref,
    "customerid": v_ref,
    "externalCreatedDate": v_date,
    "externalUpdatedDate": v_date,
    "orderUrl": v_string,
    "shippingMethod": v_string,
    "orderNumber": v_string,
    "shippingAmount": v_money,
    "taxAmount": v_money,
    "discountAmount": v_money,
    "orderProducts": v_products,
    "orderDiscounts": v_discounts,
}
CUSTOMER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "connectionid": v_ref,
    "externalid": v_external_id,
    "email": v_email,
    "acceptsMarketing": v_accepts_marketing,
}
CONNECTION_FIELDS: dict[str, Callable[[Any], Any]] = {
    "service": v_nonempty,
    "externalid": v_nonempty,
    "name": v_nonempty,
    "logoUrl": v_url,
    "linkUrl": v_url,
    "listId": v_ref,
}


def _validate(
    payload: dict[str, Any],
    fields: dict[str, Callable[[Any], Any]],
    required: tuple[str, ...],
    *,
    allow_unknown: bool,
    email_code: str = "field_invalid",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Type-check ``payload``; null counts as absent. Returns (normalised values, AC error entries)."""
    norm: dict[str, Any] = {}
    errs: list[dict[str, Any]] = []
    for key, val in payload.items():
        if key not in fields:
            if not allow_unknown:
                errs.append(ac_error("field_invalid", key, f"Unknown field {key}", "not an attribute of this resource"))
            continue
        if val is None:
            continue
        try:
            norm[key] = fields[key](val)
        except _Invalid as exc:
            code = email_code if key == "email" else exc.code
            errs.append(ac_error(code, key + exc.sub, detail=exc.detail))
    for key in required:
        if key not in norm and not any(e["source"]["pointer"] == f"/data/attributes/{key}" for e in errs):
            errs.append(ac_error("field_missing", key))
    return norm, errs


def _rezone(value: str | None) -> str | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(AC_ZONE).isoformat(timespec="seconds")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------- the fake
class FakeActiveCampaign(FakeService):
    """Strict in-memory ActiveCampaign v3 Deep Data API served on a real loopback port.

    Choices beyond what the reference documents (all stricter than, or equal to, what AC is known to do):

    * unknown attributes in a create/update body → 422 ``field_invalid`` (catches ``abandoned_date``
      typos); pass ``allow_unknown_fields=True`` to ignore them instead;
    * ``null`` counts as "absent" for every attribute;
    * money and quantities must be JSON integers (no floats, no numeric strings); ``currency`` must be
      upper case; ``source`` the integer 0/1; ``connectionid``/``customerid`` an int or digit string;
    * an order (``externalid``) may not also carry ``abandonedDate`` on create; posting an order whose
      ``externalcheckoutid`` belongs to an existing cart of the connection is a 422 duplicate (convert
      carts with ``PUT`` instead);
    * unknown ``filters[...]`` on list endpoints → 400 (real AC probably ignores them silently, which
      would return unfiltered rows); lists paginate with ``limit`` (default 20, max 100) and ``offset``;
    * invalid customer email → 422 code ``email_invalid`` (as MAGE issue #105 saw); on orders
      ``field_invalid``;
    * dates come back re-zoned to UTC-05:00 (same instant), create/PUT responses carry ints, GET
      responses numeric strings.
    """

    name = "activecampaign"
    order_id_start = 50001
    customer_id_start = 10001
    connection_id_start = 1

    def __init__(
        self,
        token: str = "test-ac-token",  # noqa: S107 - fake credential
        rate: float | None = 5.0,
        retry_after: int = 1,
        *,
        allow_unknown_fields: bool = False,
        record: bool = True,
        customer_unique: str = "both",
    ) -> None:
        """Create the fake (call ``start()`` or use it as a context manager to serve).

        ``customer_unique`` is the ecomCustomer uniqueness rule per connection, which AC does not document
        (reference ac-integrations.md §3): ``"email"``, ``"externalid"`` or ``"both"`` (the strictest)."""
        super().__init__(rate=rate, retry_after=retry_after, record=record)
        if customer_unique not in CUSTOMER_UNIQUE_RULES:
            raise ValueError(f"customer_unique must be one of {CUSTOMER_UNIQUE_RULES}")
        self.token = token
        self.allow_unknown_fields = allow_unknown_fields
        self.customer_unique = customer_unique
        self._reset_state()
        f = self.flask
        f.add_url_rule("/api/3/connections", "conn_create", self._conn_create, methods=["POST"])
        f.add_url_rule("/api/3/connections", "conn_list", self._conn_list, methods=["GET"])
        f.add_url_rule("/api/3/connections/<ident>", "conn_get", self._conn_get, methods=["GET"])
        f.add_url_rule("/api/3/ecomCustomers", "cust_create", self._cust_create, methods=["POST"])
        f.add_url_rule("/api/3/ecomCustomers", "cust_list", self._cust_list, methods=["GET"])
        f.add_url_rule("/api/3/ecomCustomers/<ident>", "cust_get", self._cust_get, methods=["GET"])
        f.add_url_rule("/api/3/ecomCustomers/<ident>", "cust_put", self._cust_put, methods=["PUT"])
        f.add_url_rule("/api/3/ecomCustomers/<ident>", "cust_del", self._cust_delete, methods=["DELETE"])
        f.add_url_rule("/api/3/ecomOrders", "order_create", self._order_create, methods=["POST"])
        f.add_url_rule("/api/3/ecomOrders", "order_list", self._order_list, methods=["GET"])
        f.add_url_rule("/api/3/ecomOrders/<ident>", "order_get", self._order_get, methods=["GET"])
        f.add_url_rule("/api/3/ecomOrders/<ident>", "order_put", self._order_put, methods=["PUT"])
        f.add_url_rule("/api/3/ecomOrders/<ident>", "order_del", self._order_delete, methods=["DELETE"])
        f.add_url_rule(
            "/api/3/ecomOrders/<ident>/orderProducts", "order_products", self._order_products, methods=["GET"]
        )
        self.contact_book = activecampaign_contacts.install(self)  # contacts, contactLists, lists
        self.graphql = activecampaign_graphql.install(self)  # POST /api/3/ecom/graphql

    # ------------------------------------------------------------------ public helpers
    @property
    def base_url(self) -> str:
        """Server URL without ``/api/3`` (what ``BRIDGE_AC_URL`` takes)."""
        return self.url

    def start(self) -> FakeActiveCampaign:
        """Start serving; returns ``self``."""
        super().start()
        return self

    def __enter__(self) -> FakeActiveCampaign:
        return self.start()

    def orders(self, **match: Any) -> list[dict[str, Any]]:
        """Stored ecomOrders (deep copies, ids ascending), optionally only those whose fields equal ``match``.

        Records hold native types: ``id``/``connectionid``/``customerid`` strings, ``state`` and money
        ints, dates as the strings the client sent, ``orderProducts``/``orderDiscounts`` as full objects,
        plus ``createdDate``/``updatedDate`` and ``puts`` (number of successful PUTs).
        """
        return self._select(self._orders, match)

    def customers(self, **match: Any) -> list[dict[str, Any]]:
        """Stored ecomCustomers (deep copies), optionally filtered by equality on fields."""
        return self._select(self._customers, match)

    def connections(self, **match: Any) -> list[dict[str, Any]]:
        """Stored connections (deep copies), optionally filtered by equality on fields."""
        return self._select(self._connections, match)

    def order(self, ident: str | int) -> dict[str, Any] | None:
        """One stored ecomOrder by AC id (deep copy) or ``None``."""
        with self._lock:
            rec = self._orders.get(str(ident))
            return copy.deepcopy(rec) if rec else None

    def preload_connection(self, service: str = "storebridge", externalid: str = "shop.example", **fields: Any) -> str:
        """Create (or find) a connection directly in the store, bypassing HTTP; returns its id."""
        with self._lock:
            for c in self._connections.values():
                if c["service"] == service and c["externalid"] == externalid:
                    return c["id"]
            payload = {
                "service": service,
                "externalid": externalid,
                "name": fields.pop("name", "Example Shop"),
                "logoUrl": fields.pop("logoUrl", "https://shop.example/logo.png"),
                "linkUrl": fields.pop("linkUrl", "https://shop.example/"),
                **fields,
            }
            status, body = self._create_connection(payload)
        if status != 201:
            raise ValueError(f"preload_connection rejected: {body}")
        return body["connection"]["id"]

    def preload_customer(
        self,
        email: str = "alice@example.com",
        externalid: str | None = None,
        connectionid: str | int | None = None,
        acceptsMarketing: str | int | None = None,
    ) -> str:
        """Create an ecomCustomer directly (default connection: the first one, created if none); returns id."""
        if connectionid is None:
            with self._lock:
                first = next(iter(self._connections), None)
            connectionid = first if first is not None else self.preload_connection()
        payload: dict[str, Any] = {"connectionid": connectionid, "externalid": externalid or email, "email": email}
        if acceptsMarketing is not None:
            payload["acceptsMarketing"] = acceptsMarketing
        with self._lock:
            status, body = self._create_customer(payload)
        if status != 201:
            raise ValueError(f"preload_customer rejected: {body}")
        return body["ecomCustomer"]["id"]

    def preload_order(self, **fields: Any) -> str:
        """Create an ecomOrder/cart directly, with the same validation as ``POST``; returns its id."""
        with self._lock:
            status, body = self._create_order(fields)
        if status != 201:
            raise ValueError(f"preload_order rejected: {body}")
        return body["ecomOrder"]["id"]

    def summary(self) -> dict[str, Any]:
        """Counters for reports: requests by status, 429s, stored objects, peak requests in 1 s."""
        with self._lock:
            states: dict[str, int] = {}
            for o in self._orders.values():
                states[str(o["state"])] = states.get(str(o["state"]), 0) + 1
            return {
                "requests": sum(self.status_counts.values()),
                "by_status": {str(k): v for k, v in sorted(self.status_counts.items())},
                "count_429": self.count_429,
                "orders": len(self._orders),
                "orders_by_state": states,
                "customers": len(self._customers),
                "connections": len(self._connections),
                "peak_in_window": self.peak_in_window,
                "errors": len(self.errors),
            }

    # ------------------------------------------------------------------ hooks
    def _reset_state(self) -> None:
        if hasattr(self, "contact_book"):
            self.contact_book.reset()
        if hasattr(self, "graphql"):
            self.graphql.reset()
        self._connections: dict[str, dict[str, Any]] = {}
        self._customers: dict[str, dict[str, Any]] = {}
        self._cust_by_ext: dict[tuple[str, str], set[str]] = {}
        self._cust_by_email: dict[tuple[str, str], set[str]] = {}
        self._orders: dict[str, dict[str, Any]] = {}
        self._order_by_ext: dict[tuple[str, str], str] = {}
        self._order_by_chk: dict[tuple[str, str], str] = {}
        self._next_conn = self.connection_id_start
        self._next_cust = self.customer_id_start
        self._next_order = self.order_id_start
        self._next_product = 1
        self._next_discount = 1

    def _default_hold_prefix(self) -> str | None:
        return "/api/3/ecomOrders"

    def _rate_key(self, request: Request) -> str:
        return request.headers.get("Api-Token", "")

    def _check_auth(self, request: Request) -> Response | None:
        if request.headers.get("Api-Token") != self.token:
            return json_response(
                {
                    "errors": [
                        {
                            "status": 403,
                            "title": "Forbidden",
                            "detail": "You do not have permission to perform this action",
                        }
                    ]
                },
                403,
            )
        return None

    def _error_body(self, status: int) -> Any:
        if status == 429:
            return {"message": "Too Many Requests"}
        return {"message": f"Server error {status}"} if status >= 500 else {"errors": [{"status": status}]}

    # ------------------------------------------------------------------ plumbing
    def _select(self, table: dict[str, dict[str, Any]], match: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            rows = [r for r in table.values() if all(r.get(k) == v for k, v in match.items())]
            return copy.deepcopy(sorted(rows, key=lambda r: int(r["id"])))

    @staticmethod
    def _body(wrapper: str) -> tuple[dict[str, Any] | None, Response | None]:
        ok, data = parse_json_body(request.get_data())
        if not ok or not isinstance(data, dict) or not isinstance(data.get(wrapper), dict):
            return None, _bad_request()
        return data[wrapper], None

    def _list(
        self,
        rows: list[dict[str, Any]],
        filters: dict[str, Callable[[dict[str, Any], str], bool]],
        key: str,
        render: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Response:
        limit, offset = 20, 0
        active: list[tuple[Callable[[dict[str, Any], str], bool], str]] = []
        for arg, value in request.args.items():
            if arg.startswith("filters[") and arg.endswith("]"):
                name = arg[len("filters[") : -1]
                if name not in filters:
                    return _bad_request(f"Unknown filter {name}")
                active.append((filters[name], value))
            elif arg in ("limit", "offset"):
                if not _DIGITS_RE.match(value):
                    return _bad_request(f"{arg} must be a non-negative integer")
                if arg == "limit":
                    limit = min(int(value), 100) or 20
                else:
                    offset = int(value)
        matched = [r for r in rows if all(pred(r, v) for pred, v in active)]
        matched.sort(key=lambda r: int(r["id"]))
        page = matched[offset : offset + limit]
        return json_response({key: [render(r) for r in page], "meta": {"total": str(len(matched))}})

    @staticmethod
    def _eq(field: str, *, lower: bool = False, ref: bool = False) -> Callable[[dict[str, Any], str], bool]:
        def pred(row: dict[str, Any], value: str) -> bool:
            have = row.get(field)
            if have is None:
                return False
            if ref:
                return _DIGITS_RE.match(value) is not None and str(have) == str(int(value))
            if lower:
                return str(have).lower() == value.lower()
            return str(have) == value

        return pred

    # ------------------------------------------------------------------ connections
    def _render_conn(self, c: dict[str, Any], strings: bool) -> dict[str, Any]:
        out = dict(c)
        for k in ("createdDate", "updatedDate"):
            out[k] = _rezone(c[k])
        out["links"] = {"customers": f"/api/3/connections/{c['id']}/customers"}
        if strings:
            out["status"], out["syncStatus"] = str(c["status"]), str(c["syncStatus"])
        return out

    def _create_connection(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        norm, errs = _validate(payload, CONNECTION_FIELDS, CONNECTION_REQUIRED, allow_unknown=self.allow_unknown_fields)
        if errs:
            return 422, {"errors": errs}
        for c in self._connections.values():
            if c["service"] == norm["service"] and c["externalid"] == norm["externalid"]:
                title = f"Duplicate entry for service {norm['service']!r} and externalid {norm['externalid']!r}"
                return 422, {"errors": [ac_error("duplicate", "externalid", title)]}
        ident = str(self._next_conn)
        self._next_conn += 1
        now = _now_iso()
        rec = {
            "id": ident,
            **norm,
            "status": 1,
            "syncStatus": 0,
            "isInternal": 0,
            "createdDate": now,
            "updatedDate": now,
        }
        self._connections[ident] = rec
        return 201, {"connection": self._render_conn(rec, strings=False)}

    def _conn_create(self) -> Response:
        payload, bad = self._body("connection")
        if bad is not None:
            return bad
        assert payload is not None
        with self._lock:
            status, body = self._create_connection(payload)
        return json_response(body, status)

    def _conn_list(self) -> Response:
        with self._lock:
            rows = list(self._connections.values())
            return self._list(
                rows,
                {"service": self._eq("service"), "externalid": self._eq("externalid")},
                "connections",
                lambda c: self._render_conn(c, strings=True),
            )

    def _conn_get(self, ident: str) -> Response:
        with self._lock:
            c = self._connections.get(ident)
            if c is None:
                return _not_found("Connection", ident)
            return json_response({"connection": self._render_conn(c, strings=True)})

    # ------------------------------------------------------------------ ecomCustomers
    def _render_cust(self, c: dict[str, Any], strings: bool) -> dict[str, Any]:
        out = {k: v for k, v in c.items() if k not in ("createdDate", "updatedDate")}
        orders = [o for o in self._orders.values() if o["customerid"] == c["id"] and o["state"] in (1, 3)]
        revenue = sum(o["totalPrice"] for o in orders)
        out.update(
            {
                "connection": c["connectionid"],
                "totalRevenue": str(revenue),
                "totalOrders": str(len(orders)),
                "avgRevenuePerOrder": str(revenue // len(orders)) if orders else "0",
                "tstamp": _rezone(c["updatedDate"]),
                "links": {"connection": f"/api/3/ecomCustomers/{c['id']}/connection"},
            }
        )
        return out

    # The customer indexes keep lookups by (connection, externalid) and (connection, email) constant-time: a
    # linear scan per order made a 10,000-customer backfill the fake's own bottleneck (calls past 10 s).
    def _index_customer(self, c: dict[str, Any]) -> None:
        if c.get("externalid") is not None:
            self._cust_by_ext.setdefault((c["connectionid"], c["externalid"]), set()).add(c["id"])
        if c.get("email"):
            self._cust_by_email.setdefault((c["connectionid"], c["email"].lower()), set()).add(c["id"])

    def _unindex_customer(self, c: dict[str, Any]) -> None:
        if c.get("externalid") is not None:
            self._cust_by_ext.get((c["connectionid"], c["externalid"]), set()).discard(c["id"])
        if c.get("email"):
            self._cust_by_email.get((c["connectionid"], c["email"].lower()), set()).discard(c["id"])

    def customer_ids(self, conn: str, *, ext: str | None = None, email: str | None = None) -> list[str]:
        """Ids (ascending) of the customers on `conn` whose externalid is `ext` or whose email is `email`."""
        found: set[str] = set()
        if ext is not None:
            found |= self._cust_by_ext.get((conn, ext), set())
        if email:
            found |= self._cust_by_email.get((conn, email.lower()), set())
        return sorted(found, key=int)

    def _customer_conflict(
        self, conn: str, ext: str | None, email: str | None, skip: str | None
    ) -> dict[str, Any] | None:
        for ident in self.customer_ids(conn, ext=ext, email=email):
            c = self._customers[ident]
            if c["id"] == skip:
                continue
            if self.customer_unique != "email" and ext is not None and c["externalid"] == ext:
                return ac_error("duplicate", "externalid", f"Duplicate entry for externalid {ext!r}")
            if self.customer_unique != "externalid" and email is not None and c["email"].lower() == email.lower():
                return ac_error("duplicate", "email", f"Duplicate entry for email {email!r}")
        return None

    def _create_customer(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        norm, errs = _validate(
            payload,
            CUSTOMER_FIELDS,
            CUSTOMER_REQUIRED,
            allow_unknown=self.allow_unknown_fields,
            email_code="email_invalid",
        )
        if errs:
            return 422, {"errors": errs}
        if norm["connectionid"] not in self._connections:
            return 422, {"errors": [ac_error("related_missing", "connectionid")]}
        dup = self._customer_conflict(norm["connectionid"], norm["externalid"], norm["email"], None)
        if dup:
            return 422, {"errors": [dup]}
        ident = str(self._next_cust)
        self._next_cust += 1
        now = _now_iso()
        rec = {
            "id": ident,
            "connectionid": norm["connectionid"],
            "externalid": norm["externalid"],
            "email": norm["email"],
            "acceptsMarketing": norm.get("acceptsMarketing"),
            "createdDate": now,
            "updatedDate": now,
        }
        self._customers[ident] = rec
        self._index_customer(rec)
        return 201, {"ecomCustomer": self._render_cust(rec, strings=False)}

    def _cust_create(self) -> Response:
        payload, bad = self._body("ecomCustomer")
        if bad is not None:
            return bad
        assert payload is not None
        with self._lock:
            status, body = self._create_customer(payload)
        return json_response(body, status)

    def _cust_list(self) -> Response:
        with self._lock:
            return self._list(
                list(self._customers.values()),
                {
                    "email": self._eq("email", lower=True),
                    "externalid": self._eq("externalid"),
                    "connectionid": self._eq("connectionid", ref=True),
                },
                "ecomCustomers",
                lambda c: self._render_cust(c, strings=True),
            )

    def _cust_get(self, ident: str) -> Response:
        with self._lock:
            c = self._customers.get(ident)
            if c is None:
                return _not_found("EcomCustomer", ident)
            return json_response({"ecomCustomer": self._render_cust(c, strings=True)})

    def _cust_put(self, ident: str) -> Response:
        payload, bad = self._body("ecomCustomer")
        if bad is not None:
            return bad
        assert payload is not None
        with self._lock:
            c = self._customers.get(ident)
            if c is None:
                return _not_found("EcomCustomer", ident)
            norm, errs = _validate(
                payload, CUSTOMER_FIELDS, (), allow_unknown=self.allow_unknown_fields, email_code="email_invalid"
            )
            if errs:
                return _errors(*errs)
            conn = norm.get("connectionid", c["connectionid"])
            if conn not in self._connections:
                return _errors(ac_error("related_missing", "connectionid"))
            dup = self._customer_conflict(conn, norm.get("externalid"), norm.get("email"), ident)
            if dup:
                return _errors(dup)
            self._unindex_customer(c)
            c.update(norm)
            self._index_customer(c)
            c["updatedDate"] = _now_iso()
            return json_response({"ecomCustomer": self._render_cust(c, strings=False)})

    def _cust_delete(self, ident: str) -> Response:
        with self._lock:
            gone = self._customers.pop(ident, None)
            if gone is None:
                return _not_found("EcomCustomer", ident)
            self._unindex_customer(gone)
            return json_response({})

    # ------------------------------------------------------------------ ecomOrders
    def _render_order(self, o: dict[str, Any], strings: bool) -> dict[str, Any]:
        def num(v: Any) -> Any:
            return str(v) if strings and v is not None else v

        oid = o["id"]
        out: dict[str, Any] = {
            "id": oid,
            "externalid": o.get("externalid"),
            "externalcheckoutid": o.get("externalcheckoutid"),
            "source": None if o.get("source") is None else str(o["source"]),
            "email": o["email"],
            "currency": o["currency"],
            "connectionid": o["connectionid"],
            "customerid": o["customerid"],
            "orderUrl": o.get("orderUrl"),
            "shippingMethod": o.get("shippingMethod"),
            "orderNumber": o.get("orderNumber"),
            "totalProducts": num(len(o["orderProducts"])),
            "state": num(o["state"]),
            "abandonedDate": _rezone(o.get("abandonedDate")),
            "externalCreatedDate": _rezone(o.get("externalCreatedDate")),
            "externalUpdatedDate": _rezone(o.get("externalUpdatedDate")),
            "createdDate": _rezone(o["createdDate"]),
            "updatedDate": _rezone(o["updatedDate"]),
            "orderDate": _rezone(o.get("externalCreatedDate")),
            "tstamp": _rezone(o["updatedDate"]),
            "orderProducts": [p["id"] for p in o["orderProducts"]],
            "orderDiscounts": [d["id"] for d in o["orderDiscounts"]],
            "connection": o["connectionid"],
            "customer": o["customerid"],
            "links": {
                "connection": f"/api/3/ecomOrders/{oid}/connection",
                "customer": f"/api/3/ecomOrders/{oid}/customer",
                "orderProducts": f"/api/3/ecomOrders/{oid}/orderProducts",
                "orderDiscounts": f"/api/3/ecomOrders/{oid}/orderDiscounts",
                "orderActivities": f"/api/3/ecomOrders/{oid}/orderActivities",
            },
        }
        for k in MONEY_FIELDS:
            out[k] = num(o.get(k))
        return out

    @staticmethod
    def _render_product(p: dict[str, Any], strings: bool) -> dict[str, Any]:
        out = {k: p.get(k) for k in ("id", "orderid", *PRODUCT_REQUIRED, *PRODUCT_OPTIONAL)}
        if strings:
            out["price"], out["quantity"] = str(p["price"]), str(p["quantity"])
        return out

    def _order_envelope(self, o: dict[str, Any]) -> dict[str, Any]:
        conn = self._connections.get(o["connectionid"])
        return {
            "connections": [self._render_conn(conn, strings=False)] if conn else [],
            "ecomOrderProducts": [self._render_product(p, strings=False) for p in o["orderProducts"]],
            "ecomOrderDiscounts": [
                {
                    "id": d["id"],
                    "name": d["name"],
                    "type": d["type"],
                    "discountAmount": str(d["discountAmount"]),
                    "orderid": o["id"],
                }
                for d in o["orderDiscounts"]
            ],
            "ecomOrder": self._render_order(o, strings=False),
        }

    def _materialise_lines(self, o: dict[str, Any], norm: dict[str, Any]) -> None:
        if "orderProducts" in norm:
            products = []
            for p in norm["orderProducts"]:
                products.append({"id": str(self._next_product), "orderid": o["id"], **p})
                self._next_product += 1
            o["orderProducts"] = products
        if "orderDiscounts" in norm:
            discounts = []
            for d in norm["orderDiscounts"]:
                discounts.append({"id": str(self._next_discount), "orderid": o["id"], **d})
                self._next_discount += 1
            o["orderDiscounts"] = discounts

    def _related_errors(self, conn: str, cust: str) -> list[dict[str, Any]]:
        if conn not in self._connections:
            return [ac_error("related_missing", "connectionid", detail=f"no connection {conn}")]
        c = self._customers.get(cust)
        if c is None or c["connectionid"] != conn:
            return [ac_error("related_missing", "customerid", detail=f"no ecomCustomer {cust} on connection {conn}")]
        return []

    def _dup_errors(self, conn: str, ext: str | None, chk: str | None, skip: str | None) -> list[dict[str, Any]]:
        errs = []
        if ext is not None and self._order_by_ext.get((conn, ext), skip) != skip:
            errs.append(ac_error("duplicate", "externalid", f"Duplicate entry for externalid '{ext}'"))
        if chk is not None and self._order_by_chk.get((conn, chk), skip) != skip:
            errs.append(ac_error("duplicate", "externalcheckoutid", f"Duplicate entry for externalcheckoutid '{chk}'"))
        return errs

    def _index(self, o: dict[str, Any]) -> None:
        if o.get("externalid") is not None:
            self._order_by_ext[(o["connectionid"], o["externalid"])] = o["id"]
        if o.get("externalcheckoutid") is not None:
            self._order_by_chk[(o["connectionid"], o["externalcheckoutid"])] = o["id"]

    def _unindex(self, o: dict[str, Any]) -> None:
        if o.get("externalid") is not None:
            self._order_by_ext.pop((o["connectionid"], o["externalid"]), None)
        if o.get("externalcheckoutid") is not None:
            self._order_by_chk.pop((o["connectionid"], o["externalcheckoutid"]), None)

    def _create_order(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        norm, errs = _validate(payload, ORDER_FIELDS, ORDER_REQUIRED, allow_unknown=self.allow_unknown_fields)
        bad = {e["source"]["pointer"].split("/")[3] for e in errs}
        if "externalid" in norm:
            if "abandonedDate" in norm:
                errs.append(ac_error("field_invalid", "abandonedDate", detail="an order (externalid) is not a cart"))
        elif "externalid" not in bad:
            if "externalcheckoutid" not in norm and "externalcheckoutid" not in bad:
                errs.append(
                    ac_error("field_missing", "externalid" if "abandonedDate" not in norm else "externalcheckoutid")
                )
            elif "abandonedDate" not in norm and "abandonedDate" not in bad:
                errs.append(ac_error("field_missing", "abandonedDate"))
        if errs:
            return 422, {"errors": errs}
        conn, cust = norm["connectionid"], norm["customerid"]
        errs = self._related_errors(conn, cust) or self._dup_errors(
            conn, norm.get("externalid"), norm.get("externalcheckoutid"), None
        )
        if errs:
            return 422, {"errors": errs}
        ident = str(self._next_order)
        self._next_order += 1
        now = _now_iso()
        rec: dict[str, Any] = {
            "id": ident,
            **{k: v for k, v in norm.items() if k not in ("orderProducts", "orderDiscounts")},
            "state": STATE_COMPLETED if "externalid" in norm else STATE_ABANDONED,
            "orderProducts": [],
            "orderDiscounts": [],
            "createdDate": now,
            "updatedDate": now,
            "puts": 0,
        }
        self._materialise_lines(rec, norm)
        self._orders[ident] = rec
        self._index(rec)
        if rec["state"] == STATE_COMPLETED and rec.get("source") == 1:
            self.graphql.purchases.append(ident)  # "Makes a purchase" fires
        return 201, self._order_envelope(rec)

    def _order_create(self) -> Response:
        payload, bad = self._body("ecomOrder")
        if bad is not None:
            return bad
        assert payload is not None
        with self._lock:
            status, body = self._create_order(payload)
        return json_response(body, status)

    def _order_put(self, ident: str) -> Response:
        payload, bad = self._body("ecomOrder")
        if bad is not None:
            return bad
        assert payload is not None
        with self._lock:
            o = self._orders.get(ident)
            if o is None:
                return _not_found("EcomOrder", ident)
            norm, errs = _validate(payload, ORDER_FIELDS, (), allow_unknown=self.allow_unknown_fields)
            if errs:
                return _errors(*errs)
            conn = norm.get("connectionid", o["connectionid"])
            cust = norm.get("customerid", o["customerid"])
            errs = self._related_errors(conn, cust)
            if not errs:
                ext = norm.get("externalid", o.get("externalid"))
                chk = norm.get("externalcheckoutid", o.get("externalcheckoutid"))
                errs = self._dup_errors(conn, ext, chk, ident)
            if errs:
                return _errors(*errs)
            self._unindex(o)
            o.update({k: v for k, v in norm.items() if k not in ("orderProducts", "orderDiscounts")})
            self._materialise_lines(o, norm)
            if o["state"] == STATE_ABANDONED and o.get("externalid") is not None:
                o["state"] = STATE_RECOVERED
                if o.get("source") == 1:
                    self.graphql.purchases.append(ident)  # the cart became a real-time order
            o["updatedDate"] = _now_iso()
            o["puts"] += 1
            self._index(o)
            return json_response(self._order_envelope(o), 200)

    def _order_get(self, ident: str) -> Response:
        with self._lock:
            o = self._orders.get(ident)
            if o is None:
                return _not_found("EcomOrder", ident)
            return json_response({"ecomOrder": self._render_order(o, strings=True)})

    def _order_products(self, ident: str) -> Response:
        with self._lock:
            o = self._orders.get(ident)
            if o is None:
                return _not_found("EcomOrder", ident)
            rows = [self._render_product(p, strings=True) for p in o["orderProducts"]]
            return json_response({"ecomOrderProducts": rows, "meta": {"total": str(len(rows))}})

    def _order_delete(self, ident: str) -> Response:
        with self._lock:
            o = self._orders.pop(ident, None)
            if o is None:
                return _not_found("EcomOrder", ident)
            self._unindex(o)
            return json_response({})

    def _order_list(self) -> Response:
        with self._lock:
            return self._list(
                list(self._orders.values()),
                {
                    "connectionid": self._eq("connectionid", ref=True),
                    "externalid": self._eq("externalid"),
                    "externalcheckoutid": self._eq("externalcheckoutid"),
                    "email": self._eq("email", lower=True),
                    "customerid": self._eq("customerid", ref=True),
                    "state": self._eq("state"),
                },
                "ecomOrders",
                lambda o: self._render_order(o, strings=True),
            )


# ---------------------------------------------------------------------------------------- standalone
def main(argv: list[str] | None = None) -> int:
    """Serve a FakeActiveCampaign until SIGTERM/SIGINT; print ``READY <url>`` then a JSON summary."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.activecampaign", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", default="5", help="requests per sliding second; 0 or 'none' disables")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--token", default="test-ac-token")
    parser.add_argument("--preload-connection", action="store_true", help="create connection 1 before READY")
    parser.add_argument("--record", action="store_true", help="keep every request in memory (off by default)")
    args = parser.parse_args(argv)
    rate = None if args.rate.lower() in ("0", "none", "off") else float(args.rate)

    fake = FakeActiveCampaign(token=args.token, rate=rate, retry_after=args.retry_after, record=args.record)
    fake.server.host, fake.server.port = args.host, args.port
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    if args.preload_connection:
        fake.preload_connection()
    print(f"READY {fake.url}", flush=True)
    while not done.wait(0.2):
        pass
    fake.stop()
    summary = fake.summary()
    summary["rate"] = rate
    print(json.dumps(summary, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
