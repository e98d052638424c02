"""The fakes are strict: these tests drive them over real HTTP with ``requests``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes import FakeActiveCampaign, FakeEcartAPI, FakeServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-ac-token"
ECART_TOKEN = "test-ecart-token"
HDR = {"Api-Token": TOKEN}
PAST = "2024-05-01T10:00:00-04:00"
TIMEOUT = 5


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def ac() -> Iterator[FakeActiveCampaign]:
    """Unthrottled fake with connection 1 and one customer preloaded."""
    fake = FakeActiveCampaign(rate=None).start()
    fake.preload_connection()
    fake.preload_customer(email="alice@example.com", externalid="cust-1")
    yield fake
    fake.stop()
    assert not fake.errors, fake.errors


@pytest.fixture
def ecart() -> Iterator[FakeEcartAPI]:
    fake = FakeEcartAPI().start()
    fake.seed_order("1001")
    yield fake
    fake.stop()
    assert not fake.errors, fake.errors


def api(fake: FakeActiveCampaign, path: str) -> str:
    return f"{fake.base_url}/api/3/{path}"


def customer_id(fake: FakeActiveCampaign) -> str:
    return fake.customers()[0]["id"]


def order_body(fake: FakeActiveCampaign, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "externalid": "order-1",
        "email": "alice@example.com",
        "totalPrice": 9111,
        "currency": "USD",
        "connectionid": 1,
        "customerid": customer_id(fake),
        "externalCreatedDate": "2024-05-01T09:00:00-04:00",
        "source": 1,
        "orderProducts": [{"externalid": "P1", "name": "Pogo", "price": 4900, "quantity": 1, "sku": "POGO-12"}],
        "orderDiscounts": [{"name": "1OFF", "type": "order", "discountAmount": 100}],
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


def cart_body(fake: FakeActiveCampaign, **over: Any) -> dict[str, Any]:
    base = {"externalid": ..., "externalcheckoutid": "chk-1", "abandonedDate": PAST}
    base.update(over)
    return order_body(fake, **base)


def post_order(fake: FakeActiveCampaign, body: dict[str, Any]) -> requests.Response:
    return requests.post(api(fake, "ecomOrders"), json={"ecomOrder": body}, headers=HDR, timeout=TIMEOUT)


def codes(resp: requests.Response) -> list[tuple[str, str]]:
    return [(e["code"], e["source"]["pointer"]) for e in resp.json()["errors"]]


# ------------------------------------------------------------------------------------------- harness
def test_server_harness_serves_and_stops_promptly() -> None:
    from flask import Flask

    app = Flask("t")
    app.add_url_rule("/ping", "ping", lambda: "pong")
    with FakeServer(app) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        assert requests.get(srv.url + "/ping", timeout=TIMEOUT).text == "pong"
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 1.0
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(srv.url + "/ping", timeout=TIMEOUT)


def test_concurrent_connections(ac: FakeActiveCampaign) -> None:
    def create(i: int) -> requests.Response:
        body = {"connectionid": "1", "externalid": f"c{i}", "email": f"u{i}@example.com"}
        return requests.post(api(ac, "ecomCustomers"), json={"ecomCustomer": body}, headers=HDR, timeout=TIMEOUT)

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(create, range(80)))
    assert [r.status_code for r in results] == [201] * 80
    assert len({r.json()["ecomCustomer"]["id"] for r in results}) == 80


# ------------------------------------------------------------------------------------------- AC auth/shape
@pytest.mark.parametrize("headers", [{}, {"Api-Token": "wrong"}, {"Authorization": f"Bearer {TOKEN}"}])
def test_ac_auth_403(ac: FakeActiveCampaign, headers: dict[str, str]) -> None:
    r = requests.get(api(ac, "ecomOrders"), headers=headers, timeout=TIMEOUT)
    assert r.status_code == 403
    assert r.json() == {
        "errors": [{"status": 403, "title": "Forbidden", "detail": "You do not have permission to perform this action"}]
    }
    assert ac.calls(status=403)[0].headers.get("Api-Token") == headers.get("Api-Token")


@pytest.mark.parametrize(
    "data",
    [b"not json", b"", json.dumps({"order": {}}).encode(), json.dumps({"ecomOrder": []}).encode(), b"[1]"],
)
def test_ac_bad_body_400(ac: FakeActiveCampaign, data: bytes) -> None:
    r = requests.post(
        api(ac, "ecomOrders"), data=data, headers={**HDR, "Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert r.status_code == 400
    assert r.json() == {"errors": [{"status": 400, "title": "Bad Request"}]}
    assert ac.orders() == []


def test_ac_unknown_path_404(ac: FakeActiveCampaign) -> None:
    assert requests.get(api(ac, "ecomOrderz"), headers=HDR, timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{ac.base_url}/api/2/ecomOrders", headers=HDR, timeout=TIMEOUT).status_code == 404


# ------------------------------------------------------------------------------------------- connections/customers
def test_connections_create_duplicate_filter(ac: FakeActiveCampaign) -> None:
    conn = {"service": "storebridge", "externalid": "other.example", "name": "Other", "logoUrl": "https://o/l.png",
            "linkUrl": "https://o/"}  # fmt: skip
    r = requests.post(api(ac, "connections"), json={"connection": conn}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 201 and r.json()["connection"]["id"] == "2"
    r = requests.post(api(ac, "connections"), json={"connection": conn}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 422 and codes(r)[0][0] == "duplicate"
    r = requests.post(api(ac, "connections"), json={"connection": {**conn, "linkUrl": None}}, headers=HDR,
                      timeout=TIMEOUT)  # fmt: skip
    assert r.status_code == 422 and codes(r) == [("field_missing", "/data/attributes/linkUrl")]
    params = {"filters[service]": "storebridge", "filters[externalid]": "other.example"}
    r = requests.get(api(ac, "connections"), params=params, headers=HDR, timeout=TIMEOUT)
    assert [c["id"] for c in r.json()["connections"]] == ["2"] and r.json()["meta"] == {"total": "1"}
    assert requests.get(api(ac, "connections/2"), headers=HDR, timeout=TIMEOUT).json()["connection"]["name"] == "Other"
    r = requests.get(api(ac, "connections/9"), headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 404 and r.json() == {"message": "No Result found for Connection with id 9"}


def test_customers_rules(ac: FakeActiveCampaign) -> None:
    def post(body: dict[str, Any]) -> requests.Response:
        return requests.post(api(ac, "ecomCustomers"), json={"ecomCustomer": body}, headers=HDR, timeout=TIMEOUT)

    r = post({"connectionid": "1", "externalid": "cust-2", "email": "bob@example.com", "acceptsMarketing": "1"})
    assert r.status_code == 201
    cust = r.json()["ecomCustomer"]
    assert cust["connectionid"] == "1" and isinstance(cust["id"], str) and cust["acceptsMarketing"] == "1"
    # duplicates: same externalid, or same email (case-insensitive) on the connection
    assert codes(post({"connectionid": 1, "externalid": "cust-2", "email": "x@example.com"}))[0][0] == "duplicate"
    assert codes(post({"connectionid": 1, "externalid": "zz", "email": "BOB@example.com"}))[0][0] == "duplicate"
    assert codes(post({"connectionid": 1, "externalid": "zz", "email": "not-an-email"})) == [
        ("email_invalid", "/data/attributes/email")
    ]
    assert codes(post({"connectionid": 99, "externalid": "zz", "email": "z@example.com"})) == [
        ("related_missing", "/data/attributes/connectionid")
    ]
    assert ("field_missing", "/data/attributes/externalid") in codes(post({"connectionid": 1, "email": "z@e.com"}))
    assert codes(post({"connectionid": 1, "externalid": "q", "email": "q@e.com", "acceptsMarketing": True}))[0][0] == (
        "field_invalid"
    )
    # filters (AND-ed), email case-insensitive
    q = {"filters[email]": "Bob@Example.com", "filters[connectionid]": "1"}
    r = requests.get(api(ac, "ecomCustomers"), params=q, headers=HDR, timeout=TIMEOUT)
    assert [c["id"] for c in r.json()["ecomCustomers"]] == [cust["id"]] and r.json()["meta"]["total"] == "1"
    q = {"filters[email]": "bob@example.com", "filters[connectionid]": "2"}
    assert requests.get(api(ac, "ecomCustomers"), params=q, headers=HDR, timeout=TIMEOUT).json()["ecomCustomers"] == []
    r = requests.get(api(ac, "ecomCustomers"), params={"filters[mail]": "x"}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 400
    # GET/PUT one, 404
    url = api(ac, f"ecomCustomers/{cust['id']}")
    r = requests.put(url, json={"ecomCustomer": {"acceptsMarketing": 0}}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["ecomCustomer"]["acceptsMarketing"] == "0"
    assert requests.get(url, headers=HDR, timeout=TIMEOUT).json()["ecomCustomer"]["email"] == "bob@example.com"
    r = requests.get(api(ac, "ecomCustomers/5"), headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 404 and r.json() == {"message": "No Result found for EcomCustomer with id 5"}


# ------------------------------------------------------------------------------------------- ecomOrders create
def test_order_create_success_shape(ac: FakeActiveCampaign) -> None:
    r = post_order(ac, order_body(ac, taxAmount=500, shippingAmount=200, orderNumber="1001", orderUrl="https://s/o"))
    assert r.status_code == 201, r.text
    body = r.json()
    o = body["ecomOrder"]
    assert isinstance(o["id"], str) and o["state"] == 1 and o["totalPrice"] == 9111
    assert o["connectionid"] == "1" and o["customerid"] == customer_id(ac)
    assert o["orderProducts"] == [body["ecomOrderProducts"][0]["id"]]
    assert body["ecomOrderProducts"][0]["price"] == 4900
    assert body["ecomOrderDiscounts"][0]["discountAmount"] == "100"
    assert o["externalCreatedDate"] == "2024-05-01T08:00:00-05:00"  # same instant, AC's own zone
    stored = ac.orders()
    assert len(stored) == 1 and stored[0]["externalid"] == "order-1" and stored[0]["taxAmount"] == 500


def test_cart_create(ac: FakeActiveCampaign) -> None:
    r = post_order(ac, cart_body(ac))
    assert r.status_code == 201, r.text
    assert r.json()["ecomOrder"]["state"] == 2 and r.json()["ecomOrder"]["externalid"] is None


@pytest.mark.parametrize(
    "field", ["email", "totalPrice", "currency", "connectionid", "customerid", "externalCreatedDate"]
)
@pytest.mark.parametrize("kind", ["order", "cart"])
def test_required_field_missing(ac: FakeActiveCampaign, field: str, kind: str) -> None:
    body = order_body(ac) if kind == "order" else cart_body(ac)
    del body[field]
    r = post_order(ac, body)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err == {
        "title": f"The {field} field is required",
        "detail": "",
        "code": "field_missing",
        "source": {"pointer": f"/data/attributes/{field}"},
    }
    assert ac.orders() == []


@pytest.mark.parametrize(
    ("over", "missing"),
    [
        ({"externalid": ..., "externalcheckoutid": ..., "abandonedDate": ...}, "externalid"),
        ({"externalid": ..., "externalcheckoutid": "chk-9"}, "abandonedDate"),
        ({"externalid": ..., "abandonedDate": PAST}, "externalcheckoutid"),
    ],
)
def test_cart_or_order_shape_required(ac: FakeActiveCampaign, over: dict[str, Any], missing: str) -> None:
    r = post_order(ac, order_body(ac, **over))
    assert r.status_code == 422 and codes(r) == [("field_missing", f"/data/attributes/{missing}")]


@pytest.mark.parametrize(
    ("over", "pointer"),
    [
        ({"totalPrice": 91.11}, "totalPrice"),
        ({"totalPrice": 9111.0}, "totalPrice"),
        ({"totalPrice": "9111"}, "totalPrice"),
        ({"totalPrice": -1}, "totalPrice"),
        ({"totalPrice": True}, "totalPrice"),
        ({"taxAmount": 1.5}, "taxAmount"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"email": "nope"}, "email"),
        ({"source": "1"}, "source"),
        ({"externalCreatedDate": "2024-05-01T09:00:00"}, "externalCreatedDate"),
        ({"externalCreatedDate": "2024-05-01"}, "externalCreatedDate"),
        ({"connectionid": "abc"}, "connectionid"),
        ({"orderDiscounts": {"discountAmount": 100}}, "orderDiscounts"),
        ({"orderDiscounts": [{"name": "X", "type": "cart", "discountAmount": 1}]}, "orderDiscounts/0/type"),
        ({"orderProducts": [{"externalid": "P", "name": "N", "price": 49.0, "quantity": 1}]}, "orderProducts/0/price"),
        (
            {"orderProducts": [{"externalid": "P", "name": "N", "price": 49, "quantity": 1.0}]},
            "orderProducts/0/quantity",
        ),
        ({"orderProducts": {"externalid": "P"}}, "orderProducts"),
        ({"abandoned_date": PAST}, "abandoned_date"),
        ({"abandonedDate": PAST}, "abandonedDate"),  # an order (externalid) is not a cart
    ],
)
def test_invalid_values(ac: FakeActiveCampaign, over: dict[str, Any], pointer: str) -> None:
    r = post_order(ac, order_body(ac, **over))
    assert r.status_code == 422, r.text
    assert ("field_invalid", f"/data/attributes/{pointer}") in codes(r)
    assert ac.orders() == []


def test_product_required_field(ac: FakeActiveCampaign) -> None:
    r = post_order(ac, order_body(ac, orderProducts=[{"externalid": "P", "name": "N", "quantity": 1}]))
    assert codes(r) == [("field_missing", "/data/attributes/orderProducts/0/price")]


def test_cart_future_abandoned_date_rejected(ac: FakeActiveCampaign) -> None:
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    r = post_order(ac, cart_body(ac, abandonedDate=future))
    assert r.status_code == 422 and codes(r) == [("field_invalid", "/data/attributes/abandonedDate")]


def test_related_missing(ac: FakeActiveCampaign) -> None:
    assert codes(post_order(ac, order_body(ac, connectionid=7))) == [
        ("related_missing", "/data/attributes/connectionid")
    ]
    assert codes(post_order(ac, order_body(ac, customerid=424242))) == [
        ("related_missing", "/data/attributes/customerid")
    ]
    other = ac.preload_connection(externalid="other.example")
    other_cust = ac.preload_customer(email="carol@example.com", connectionid=other)
    # a customer of another connection does not count
    assert codes(post_order(ac, order_body(ac, customerid=other_cust))) == [
        ("related_missing", "/data/attributes/customerid")
    ]


def test_duplicates(ac: FakeActiveCampaign) -> None:
    assert post_order(ac, order_body(ac)).status_code == 201
    r = post_order(ac, order_body(ac))
    assert r.status_code == 422
    assert r.json() == {
        "errors": [
            {
                "title": "Duplicate entry for externalid 'order-1'",
                "detail": "",
                "code": "duplicate",
                "source": {"pointer": "/data/attributes/externalid"},
            }
        ]
    }
    assert post_order(ac, cart_body(ac)).status_code == 201
    r = post_order(ac, cart_body(ac))
    assert r.status_code == 422 and codes(r) == [("duplicate", "/data/attributes/externalcheckoutid")]
    # an order carrying the cart's checkout id is a duplicate too (convert carts with PUT)
    r = post_order(ac, order_body(ac, externalid="order-2", externalcheckoutid="chk-1"))
    assert r.status_code == 422 and codes(r) == [("duplicate", "/data/attributes/externalcheckoutid")]
    # same ids on another connection are fine
    other = ac.preload_connection(externalid="other.example")
    cust = ac.preload_customer(email="alice@example.com", connectionid=other)
    assert post_order(ac, order_body(ac, connectionid=other, customerid=cust)).status_code == 201
    assert len(ac.orders()) == 3


# ------------------------------------------------------------------------------------------- PUT / GET
def test_cart_to_order_conversion(ac: FakeActiveCampaign) -> None:
    cart_id = post_order(ac, cart_body(ac)).json()["ecomOrder"]["id"]
    url = api(ac, f"ecomOrders/{cart_id}")
    update = {"externalid": "order-77", "orderNumber": "77", "totalPrice": 9000, "currency": "USD"}
    r = requests.put(url, json={"ecomOrder": update}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    o = r.json()["ecomOrder"]
    assert o["id"] == cart_id and o["state"] == 3 and o["externalid"] == "order-77" and o["totalPrice"] == 9000
    assert [x["id"] for x in ac.orders()] == [cart_id] and ac.order(cart_id)["state"] == 3
    # GET renders numerics as strings
    got = requests.get(url, headers=HDR, timeout=TIMEOUT).json()["ecomOrder"]
    assert got["state"] == "3" and got["totalPrice"] == "9000" and got["id"] == cart_id
    # PUT type checks and duplicate externalid against another record
    assert codes(requests.put(url, json={"ecomOrder": {"totalPrice": 1.5}}, headers=HDR, timeout=TIMEOUT)) == [
        ("field_invalid", "/data/attributes/totalPrice")
    ]
    other_id = post_order(ac, order_body(ac, externalid="order-88")).json()["ecomOrder"]["id"]
    r = requests.put(url, json={"ecomOrder": {"externalid": "order-88"}}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 422 and codes(r) == [("duplicate", "/data/attributes/externalid")]
    # re-sending its own externalid is not a duplicate
    r = requests.put(api(ac, f"ecomOrders/{other_id}"), json={"ecomOrder": {"externalid": "order-88"}},
                     headers=HDR, timeout=TIMEOUT)  # fmt: skip
    assert r.status_code == 200 and r.json()["ecomOrder"]["state"] == 1
    # a cart update without externalid stays a cart
    cart2 = post_order(ac, cart_body(ac, externalcheckoutid="chk-2")).json()["ecomOrder"]["id"]
    r = requests.put(api(ac, f"ecomOrders/{cart2}"), json={"ecomOrder": {"totalPrice": 5}}, headers=HDR,
                     timeout=TIMEOUT)  # fmt: skip
    assert r.json()["ecomOrder"]["state"] == 2


def test_order_404_shape(ac: FakeActiveCampaign) -> None:
    for method in ("GET", "PUT", "DELETE"):
        r = requests.request(method, api(ac, "ecomOrders/99"), json={"ecomOrder": {}}, headers=HDR, timeout=TIMEOUT)
        assert r.status_code == 404
        assert r.json() == {"message": "No Result found for EcomOrder with id 99"}


def test_order_filters_and_pagination(ac: FakeActiveCampaign) -> None:
    ids = [post_order(ac, order_body(ac, externalid=f"o-{i}")).json()["ecomOrder"]["id"] for i in range(25)]
    cart = post_order(ac, cart_body(ac, externalcheckoutid="chk-x")).json()["ecomOrder"]["id"]

    def get(**params: str) -> dict[str, Any]:
        q = {k if k in ("limit", "offset") else f"filters[{k}]": v for k, v in params.items()}
        r = requests.get(api(ac, "ecomOrders"), params=q, headers=HDR, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return r.json()

    r = get(connectionid="1", externalid="o-3")
    assert [o["id"] for o in r["ecomOrders"]] == [ids[3]] and r["meta"] == {"total": "1"}
    assert r["ecomOrders"][0]["totalPrice"] == "9111"
    assert [o["id"] for o in get(externalcheckoutid="chk-x")["ecomOrders"]] == [cart]
    assert get(state="2")["meta"]["total"] == "1"
    assert get(email="ALICE@example.com", customerid=customer_id(ac))["meta"]["total"] == "26"
    assert get(connectionid="2")["ecomOrders"] == []
    page = get(connectionid="1")
    assert len(page["ecomOrders"]) == 20 and page["meta"]["total"] == "26"
    assert len(get(connectionid="1", limit="100", offset="20")["ecomOrders"]) == 6
    r = requests.get(api(ac, "ecomOrders"), params={"filters[checkoutid]": "chk-x"}, headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 400


# ------------------------------------------------------------------------------------------- rate limit
def test_rate_limit_sliding_window() -> None:
    with FakeActiveCampaign(rate=5, retry_after=1) as fake:
        t0 = time.monotonic()
        rs = [requests.get(api(fake, "ecomOrders"), headers=HDR, timeout=TIMEOUT) for _ in range(7)]
        assert time.monotonic() - t0 < 1.0
        limited = [r for r in rs if r.status_code == 429]
        assert len(limited) >= 2
        assert all(r.headers["Retry-After"] == "1" and r.json() == {"message": "Too Many Requests"} for r in limited)
        assert fake.count_429 == len(limited)
        assert fake.peak_in_window == 7
        time.sleep(1.1)
        assert requests.get(api(fake, "ecomOrders"), headers=HDR, timeout=TIMEOUT).status_code == 200
        # another token has its own window; wrong tokens are limited too, then answered 403
        assert requests.get(api(fake, "ecomOrders"), headers={"Api-Token": "x"}, timeout=TIMEOUT).status_code == 403


def test_force_429(ac: FakeActiveCampaign) -> None:
    ac.force_429(count=2, retry_after=7)
    rs = [post_order(ac, order_body(ac)) for _ in range(3)]
    assert [r.status_code for r in rs] == [429, 429, 201]
    assert rs[0].headers["Retry-After"] == "7"
    assert ac.count_429 == 2 and len(ac.orders()) == 1
    assert [c.outcome for c in ac.calls(method="POST")] == ["forced_429", "forced_429", "ok"]


# ------------------------------------------------------------------------------------------- failure injection
def test_fail_next(ac: FakeActiveCampaign) -> None:
    ac.fail_next(503, count=2, path_prefix="/api/3/ecomOrders", headers={"Retry-After": "3"})
    assert requests.get(api(ac, "ecomCustomers"), headers=HDR, timeout=TIMEOUT).status_code == 200  # no match
    r = post_order(ac, order_body(ac))
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    assert post_order(ac, order_body(ac)).status_code == 503
    assert ac.orders() == []  # state untouched
    assert post_order(ac, order_body(ac)).status_code == 201
    ac.fail_next(500, body="<html>oops</html>", method="GET")
    r = requests.get(api(ac, "ecomOrders"), headers=HDR, timeout=TIMEOUT)
    assert r.status_code == 500 and r.text == "<html>oops</html>"
    assert ac.pending_rules() == 0
    assert len(ac.calls(status=503)) == 2 and ac.calls(status=503)[0].json["ecomOrder"]["externalid"] == "order-1"


def test_hold_next_after_commit(ac: FakeActiveCampaign) -> None:
    hold = ac.hold_next()
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.setdefault("r", post_order(ac, order_body(ac))))
    t.start()
    assert hold.wait(timeout=TIMEOUT)
    time.sleep(0.1)
    assert t.is_alive() and "r" not in result
    assert len(ac.orders()) == 1  # committed while the client waits
    assert ac.calls(method="POST")[0].outcome == "held" and ac.calls(method="POST")[0].status == 201
    ac.release()
    t.join(TIMEOUT)
    assert result["r"].status_code == 201


def test_hold_before_commit(ac: FakeActiveCampaign) -> None:
    hold = ac.hold_next(after_commit=False)
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.setdefault("r", post_order(ac, order_body(ac))))
    t.start()
    assert hold.wait(timeout=TIMEOUT)
    assert ac.orders() == []
    hold.release()
    t.join(TIMEOUT)
    assert result["r"].status_code == 201 and len(ac.orders()) == 1


def test_drop_next(ac: FakeActiveCampaign) -> None:
    ac.drop_next()
    with pytest.raises(requests.exceptions.ConnectionError):
        post_order(ac, order_body(ac))
    assert len(ac.orders()) == 1  # applied before the connection was dropped
    rec = ac.calls(method="POST")[0]
    assert (rec.status, rec.applied_status, rec.outcome) == (0, 201, "dropped")
    # the server keeps working; the retry meets the duplicate
    assert codes(post_order(ac, order_body(ac))) == [("duplicate", "/data/attributes/externalid")]


def test_stop_while_held_drops_and_restart_keeps_state(ac: FakeActiveCampaign) -> None:
    hold = ac.hold_next()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            post_order(ac, order_body(ac))
        except requests.exceptions.ConnectionError as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    assert hold.wait(timeout=TIMEOUT)
    url = ac.base_url
    t0 = time.monotonic()
    ac.stop()
    assert time.monotonic() - t0 < 1.0
    t.join(TIMEOUT)
    assert len(errors) == 1
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api(ac, "ecomOrders"), headers=HDR, timeout=TIMEOUT)
    ac.start()
    assert ac.base_url == url
    r = requests.get(api(ac, "ecomOrders"), headers=HDR, timeout=TIMEOUT)
    assert r.json()["meta"]["total"] == "1"


def test_reset(ac: FakeActiveCampaign) -> None:
    post_order(ac, order_body(ac))
    ac.fail_next(500)
    ac.reset()
    assert ac.orders() == [] and ac.requests == [] and ac.connections() == [] and ac.pending_rules() == 0


# ------------------------------------------------------------------------------------------- EcartAPI
def ecart_put(fake: FakeEcartAPI, order_id: str, body: Any, token: str | None = ECART_TOKEN) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
    return requests.put(f"{fake.base_url}/api/v2/orders/{order_id}", headers=headers, timeout=TIMEOUT, **kwargs)


def paid() -> dict[str, Any]:
    return {"order": {"status": {"status": "paid"}}}


def test_ecart_auth(ecart: FakeEcartAPI) -> None:
    for token in (None, "wrong"):
        r = ecart_put(ecart, "1001", paid(), token=token)
        assert r.status_code == 401 and r.json() == {"success": False, "message": "Invalid token"}
    r = requests.put(f"{ecart.base_url}/api/v2/orders/1001", json=paid(),
                     headers={"Authorization": "test-ecart-token"}, timeout=TIMEOUT)  # fmt: skip
    assert r.status_code == 401  # bare token not accepted
    assert ecart.statuses("1001") == []


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        {"status": {"status": "paid"}},
        {"order": {"status": "paid"}},
        {"order": {"status": {"status": "shipped"}}},
        {"order": {"status": {"status": "PAID"}}},
        {"order": {"status": {"status": "paid"}, "colour": "red"}},
        {"orders": {"status": {"status": "paid"}}},
    ],
)
def test_ecart_400(ecart: FakeEcartAPI, body: Any) -> None:
    r = ecart_put(ecart, "1001", body)
    assert r.status_code == 400 and r.json()["success"] is False and r.json()["message"]
    assert ecart.order("1001")["status"]["status"] == "pending"


def test_ecart_404_and_200(ecart: FakeEcartAPI) -> None:
    r = ecart_put(ecart, "999", paid())
    assert r.status_code == 404 and r.json() == {"success": False, "message": "Order not found"}
    r = ecart_put(ecart, "1001", paid())
    assert r.status_code == 200
    order = r.json()["order"]
    assert r.json()["success"] is True and order["id"] == "1001"
    assert order["status"] == {"status": "paid", "financial": "paid", "ecartapi": "paid", "ecartapiId": 3}
    assert order["totals"]["total"] == "36.39" and order["updatedAt"]
    assert ecart_put(ecart, "1001", {"order": {"status": {"status": "refunded"}}}).status_code == 200
    assert ecart.statuses("1001") == ["paid", "refunded"]
    g = requests.get(f"{ecart.base_url}/api/v2/orders/1001", headers={"Authorization": "Bearer test-ecart-token"},
                     timeout=TIMEOUT)  # fmt: skip
    assert g.json()["order"]["status"]["status"] == "refunded"
    s = requests.get(f"{ecart.base_url}/api/v2/store", headers={"Authorization": "Bearer test-ecart-token"},
                     timeout=TIMEOUT)  # fmt: skip
    assert s.status_code == 200 and s.json()["success"] is True and set(s.json()["store"]) >= {"id", "name", "platform"}
    assert requests.get(f"{ecart.base_url}/api/v2/store", timeout=TIMEOUT).status_code == 401


def test_ecart_plural_and_injection() -> None:
    with FakeEcartAPI(wrap_plural=True, allowed_statuses=("paid",)) as fake:
        fake.seed_order(5, status="pending", totals={"total": "10.00"})
        r = ecart_put(fake, "5", paid())
        assert r.status_code == 200 and "order" not in r.json() and r.json()["orders"]["status"]["status"] == "paid"
        assert r.json()["orders"]["totals"]["total"] == "10.00"
        assert ecart_put(fake, "5", {"order": {"status": {"status": "refunded"}}}).status_code == 400
        fake.fail_next(502)
        r = ecart_put(fake, "5", paid())
        assert r.status_code == 502 and r.json()["success"] is False
        fake.drop_next(method="PUT")
        with pytest.raises(requests.exceptions.ConnectionError):
            ecart_put(fake, "5", paid())
        assert fake.statuses("5") == ["paid", "paid"]
        hold = fake.hold_next(method="PUT")
        t = threading.Thread(target=ecart_put, args=(fake, "5", paid()))
        t.start()
        assert hold.wait(timeout=TIMEOUT) and fake.statuses("5") == ["paid"] * 3
        fake.release()
        t.join(TIMEOUT)
        assert [c.status for c in fake.calls(method="PUT")] == [200, 400, 502, 0, 200]


# ------------------------------------------------------------------------------------------- standalone process
def test_standalone_process_ready_and_summary() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.activecampaign", "--port", "0", "--rate", "5", "--token", "T",
         "--preload-connection"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), line + (proc.stderr.read() if proc.poll() else "")
        url = line.split(" ", 1)[1]
        r = requests.get(f"{url}/api/3/connections/1", headers={"Api-Token": "T"}, timeout=TIMEOUT)
        assert r.status_code == 200
        assert requests.get(f"{url}/api/3/ecomOrders", headers={"Api-Token": "x"}, timeout=TIMEOUT).status_code == 403
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    summary = json.loads(out.strip().splitlines()[-1])
    assert proc.returncode == 0
    assert summary["by_status"] == {"200": 1, "403": 1} and summary["requests"] == 2
    assert summary["count_429"] == 0 and summary["orders"] == 0 and summary["connections"] == 1


def test_wait_calls_and_counters(ac: FakeActiveCampaign) -> None:
    timer = threading.Timer(0.1, lambda: post_order(ac, order_body(ac)))
    timer.start()
    t0 = time.monotonic()
    (rec,) = ac.wait_calls(1, method="POST", path_prefix="/api/3/ecomOrders", status=201, timeout=TIMEOUT)
    assert time.monotonic() - t0 < 2 and rec.json["ecomOrder"]["externalid"] == "order-1"
    assert rec.headers["Api-Token"] == TOKEN and rec.wall > 0 and rec.at > 0
    timer.join()
    with pytest.raises(TimeoutError):
        ac.wait_calls(1, method="DELETE", timeout=0.1)
    ac.fail_next(429, headers={"Retry-After": "5"})
    assert requests.get(api(ac, "ecomOrders"), headers=HDR, timeout=TIMEOUT).status_code == 429
    assert ac.count_429 == 1 and ac.status_counts[201] == 1
    # "" = any path for hold/drop
    ac.drop_next(method="GET", path_prefix="")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(api(ac, "ecomCustomers"), headers=HDR, timeout=TIMEOUT)
