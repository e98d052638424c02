"""Shopify's compliance topics (spec §16) on SQLite and PostgreSQL, through real HTTP and signed with the
Shopify HMAC: `customers/redact` erases that customer (and the orders it lists), `shop/redact` that shop's
data, `customers/data_request` is recorded and shown on the dashboard with the export command."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from sqlalchemy import select

from bridge.privacy import email_digest
from bridge.storage.tables import privacy_requests
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers import signing
from tests.helpers.delivery import event_rows, wait_until
from tests.helpers.live_server import serve
from tests.privacy.people import ADMIN_TOKEN, Person
from tests.privacy.search import find_anywhere
from tests.privacy.test_retention import deliver

SHOP = signing.SHOP_DOMAIN


@pytest.fixture
def live(app):
    with serve(app) as url:
        yield url


def send(live: str, topic: str, document: dict, *, webhook_id: str | None = None) -> requests.Response:
    body = json.dumps(document).encode()
    headers = signing.shopify_headers(body, topic, webhook_id=webhook_id or str(uuid.uuid4()))
    return requests.post(f"{live}/webhooks/shopify", data=body, headers=headers, timeout=10)


def carried_out(db, event_id: int) -> dict:
    return wait_until(lambda: next((r for r in event_rows(db, id=event_id) if r["status"] == "done"), None))


def recorded(db) -> list[dict]:
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(privacy_requests).order_by(privacy_requests.c.id))]


def customer_of(person: Person) -> dict:
    return {"id": int(person.customer_id), "email": person.email, "phone": person.phone}


def test_customers_redact_erases_that_customer_and_leaves_another(client, db, worker, live) -> None:
    gina, hank = Person(81), Person(82)
    deliver(client, db, gina)
    deliver(client, db, hank)
    request = {"shop_id": 954889, "shop_domain": SHOP, "customer": customer_of(gina), "orders_to_redact": [1]}

    unsigned = requests.post(f"{live}/webhooks/shopify", json=request, headers={"X-Shopify-Topic": "shop/redact"})
    assert unsigned.status_code == 401
    response = send(live, "customers/redact", request, webhook_id="compliance-1")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    event = carried_out(db, int(response.json()["event_id"]))

    assert event["note"].startswith("customers/redact: erased 1 event(s)")  # her order; the request erases itself
    assert find_anywhere(db, gina.personal()) == []
    assert {n for _, _, n in find_anywhere(db, hank.personal())} == {v.lower() for v in hank.personal()}
    (erasure,) = recorded(db)
    assert (erasure["kind"], erasure["origin"]) == ("erasure", "shopify:customers/redact")
    assert erasure["subject_sha256"] == email_digest(gina.email)
    again = send(live, "customers/redact", request, webhook_id="compliance-1")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")


def test_shop_redact_erases_the_shops_data(client, db, worker, live) -> None:
    ida = Person(91)
    deliver(client, db, ida)
    response = send(live, "shop/redact", {"shop_id": 954889, "shop_domain": SHOP})
    assert response.status_code == 200
    event = carried_out(db, int(response.json()["event_id"]))
    assert event["note"].startswith("shop/redact: erased")
    assert find_anywhere(db, ida.personal()) == []
    assert recorded(db)[0]["store"] == SHOP


def test_customers_data_request_is_recorded_and_shown_with_the_export_command(
    client, db, worker, live, order_api: str
) -> None:
    jo = Person(95)
    deliver(client, db, jo)
    request = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "orders_requested": [299938, 280263],
        "customer": customer_of(jo),
        "data_request": {"id": 9999},
    }
    response = send(live, "customers/data_request", request)
    assert response.status_code == 200
    event = carried_out(db, int(response.json()["event_id"]))

    (recorded_request,) = recorded(db)
    command = f"storebridge export --customer-id {jo.customer_id} --source shopify"
    assert recorded_request["kind"] == "data_request" and recorded_request["detail"]["export_command"] == command
    assert recorded_request["detail"]["data_request_id"] == "9999"
    # The request's own body (her email and phone) is gone, and the record names her by digest only; her
    # order stays as it was (nothing was asked to be erased).
    assert event["body"] == b"" and event["pruned_at"] is not None
    # (Under GraphQL the order state the bridge re-sends her order from names her too, until retention.)
    expected = {"events", "attempts"} | ({"remote_state"} if order_api == "graphql" else set())
    assert {table for table, _, _ in find_anywhere(db, jo.personal())} == expected
    # The dashboard through the test client (its session cookie is Secure: no browser sends it over plain HTTP).
    form = client.get("/admin/login")
    assert client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN}).status_code == 303
    page = client.get("/admin/").text
    assert "Data requests" in page and command in page and "9999" in page
