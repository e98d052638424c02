"""The admin JSON API, reading side: authentication, every filter, cursor pagination, event detail, input
validation (422, never a 5xx) and that no configured secret ever appears in an answer.

Actions (replay, retry, bulk, pause/resume) are in test_api_actions.py.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.redaction import Redactor
from bridge.storage import Events
from tests.admin.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.helpers import signing
from tests.helpers.delivery import custom_order, event_rows, post_custom
from tests.helpers.env import fixture
from tests.helpers.webhooks import built_app, interpret_stored, resign

ENDPOINTS = [
    ("GET", "/admin/api/events"),
    ("GET", "/admin/api/events/1"),
    ("POST", "/admin/api/events/1/replay"),
    ("POST", "/admin/api/deliveries/1/retry"),
    ("POST", "/admin/api/bulk"),
    ("GET", "/admin/api/jobs/1"),
    ("GET", "/admin/api/destinations"),
    ("POST", "/admin/api/destinations/activecampaign/pause"),
    ("POST", "/admin/api/destinations/activecampaign/resume"),
]
SHOP_EMAIL = "maya.okafor@example.com"  # orders_paid__basic and the checkout fixtures
SHOP_ORDER = "5874120638518"
SHOP_CHECKOUT = "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3"


def call(client, method: str, path: str, **kwargs: Any):
    """An admin request with the right token; the answer is always JSON."""
    response = client.open(path, method=method, headers=ADMIN_HEADERS, **kwargs)
    assert response.mimetype == "application/json", response.data[:200]
    assert response.status_code < 500, response.get_json()
    return response


def ids(client, **query: str) -> list[int]:
    response = call(client, "GET", "/admin/api/events", query_string={"limit": "200", **query})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next_cursor"] is None
    return [item["id"] for item in response.get_json()["items"]]


@pytest.fixture
def seeded(client, db, post_webhook) -> dict[str, int]:
    """One event of each source and kind, and a quarantined one; the worker is not running."""
    events = {
        "shop_checkout": post_webhook("shopify", "checkouts_create__with_email.json"),
        "shop_paid": post_webhook("shopify", "orders_paid__basic.json"),
        "woo_paid": post_webhook("woocommerce", "order_updated__processing.json"),
        "ecart_paid": post_webhook("ecartapi", "order__paid.json"),
        "custom_paid": post_webhook("custom", "order_paid__basic.json"),
        "custom_cancelled": post_webhook("custom", "order_cancelled__basic.json"),
    }
    document = json.loads(fixture("shopify", "orders_paid__no_checkout.json"))
    body, headers = resign("shopify", {**document, "currency": "XXX"}, topic="orders/paid")
    response = client.post("/webhooks/shopify", data=body, headers=headers)
    assert response.get_json()["status"] == "accepted"
    interpret_stored(client, db)
    events["quarantined"] = int(response.get_json()["event_id"])
    assert Events(db).get(events["quarantined"]).status == "quarantined"
    return events


# -- authentication -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Basic {ADMIN_TOKEN}", f"Bearer {ADMIN_TOKEN}x", "Bearer "],
)
def test_every_endpoint_needs_the_token(client, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(path, method=method, headers=headers, json={"action": "replay", "filter": {}})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_api_is_absent_without_a_configured_token(tmp_path: Path, method, path):
    with built_app(tmp_path / "off.db") as (app, _db):
        response = app.test_client().open(path, method=method, headers=ADMIN_HEADERS)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


# -- filters --------------------------------------------------------------------------------------------------


def test_each_filter(client, db, seeded):
    everything = sorted(seeded.values(), reverse=True)
    assert ids(client) == everything
    rows = {row["id"]: row for row in event_rows(db)}

    def expect(predicate) -> list[int]:
        return sorted((i for i, row in rows.items() if predicate(row)), reverse=True)

    assert ids(client, status="quarantined") == [seeded["quarantined"]]
    assert ids(client, status="accepted") == expect(lambda r: r["id"] != seeded["quarantined"])
    assert ids(client, source="woocommerce") == [seeded["woo_paid"]]
    assert ids(client, source="custom") == [seeded["custom_cancelled"], seeded["custom_paid"]]
    assert ids(client, kind="order.paid") == expect(lambda r: r["kind"] == "order.paid")
    assert seeded["shop_paid"] in ids(client, kind="order.paid")
    assert ids(client, kind="order.cancelled") == [seeded["custom_cancelled"]]
    assert ids(client, kind="checkout.updated") == [seeded["shop_checkout"]]
    assert ids(client, store="shop.lakeside-cycles.example") == [seeded["custom_cancelled"], seeded["custom_paid"]]
    assert ids(client, store=signing.SHOP_DOMAIN) == expect(lambda r: r["store"] == signing.SHOP_DOMAIN)
    # q: the email (any case, in the canonical payload), the order id, the checkout id
    assert ids(client, q=SHOP_EMAIL.upper()) == [seeded["shop_paid"], seeded["shop_checkout"]]
    assert ids(client, q=SHOP_ORDER) == [seeded["shop_paid"]]
    assert ids(client, q=SHOP_CHECKOUT) == [seeded["shop_paid"], seeded["shop_checkout"]]
    assert ids(client, q="LC-100482") == [seeded["custom_paid"]]
    assert ids(client, q="nobody@example.com") == []
    assert ids(client, q="50%_") == []  # LIKE wildcards are literal
    # since (inclusive) / until (exclusive) on the time received, with any offset
    middle: datetime = rows[seeded["woo_paid"]]["received_at"]
    assert ids(client, since=middle.isoformat()) == expect(lambda r: r["received_at"] >= middle)
    assert ids(client, until=middle.isoformat()) == expect(lambda r: r["received_at"] < middle)
    shifted = middle.astimezone(datetime.fromisoformat("2026-01-01T00:00:00-05:00").tzinfo)
    assert ids(client, until=shifted.isoformat()) == expect(lambda r: r["received_at"] < middle)
    assert ids(client, since="0001-01-01T00:00:00+23:59", until="9999-12-31T23:59:59-23:59") == everything
    # destination_status: nothing is planned yet (dead deliveries are in test_api_actions.py)
    assert ids(client, destination_status="pending") == []
    # filters combine
    assert ids(client, source="shopify", kind="order.paid") == [seeded["quarantined"], seeded["shop_paid"]]
    assert ids(client, source="shopify", kind="order.paid", status="accepted") == [seeded["shop_paid"]]
    assert ids(client, source="shopify", status="quarantined", kind="order.paid") == [seeded["quarantined"]]


def test_summaries_carry_what_a_list_shows(client, seeded):
    items = {i["id"]: i for i in call(client, "GET", "/admin/api/events").get_json()["items"]}
    paid = items[seeded["shop_paid"]]
    assert paid["source"] == "shopify" and paid["topic"] == "orders/paid" and paid["kind"] == "order.paid"
    assert (paid["order_id"], paid["checkout_id"], paid["email"]) == (SHOP_ORDER, SHOP_CHECKOUT, SHOP_EMAIL)
    assert paid["store"] == signing.SHOP_DOMAIN and paid["status"] == "accepted"
    assert datetime.fromisoformat(paid["received_at"]).tzinfo is not None
    assert items[seeded["quarantined"]]["status"] == "quarantined"


@pytest.mark.parametrize("query", [{}, {"source": "custom"}, {"q": "pat@example.com"}])
def test_cursor_pagination_walks_every_event_once(client, query):
    expected = [
        post_custom(client, "order.paid", custom_order(f"ORD-{n}", f"2026-10-01T10:{n:02d}:00+00:00"))
        for n in range(13)
    ]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {**query, "limit": "5", **({"cursor": cursor} if cursor else {})}
        page = call(client, "GET", "/admin/api/events", query_string=params).get_json()
        pages += 1
        assert len(page["items"]) <= 5
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(expected, reverse=True), "duplicates, gaps or wrong order"


# -- detail ---------------------------------------------------------------------------------------------------


def test_event_detail_has_raw_body_payload_and_headers(client, db, seeded):
    detail = call(client, "GET", f"/admin/api/events/{seeded['shop_paid']}").get_json()
    assert detail["body"] == fixture("shopify", "orders_paid__basic.json").decode()
    assert detail["payload"] == event_rows(db, id=seeded["shop_paid"])[0]["payload"]
    assert detail["payload"]["order_id"] == SHOP_ORDER and detail["errors"] is None
    assert detail["headers"]["X-Shopify-Topic"] == "orders/paid"
    assert not any("hmac" in name.lower() for name in detail["headers"]), "a signature was stored"
    assert detail["deliveries"] == [] and detail["attempts"] == []

    quarantined = call(client, "GET", f"/admin/api/events/{seeded['quarantined']}").get_json()
    assert quarantined["payload"] is None and "currency" in quarantined["errors"]
    assert '"XXX"' in quarantined["body"]


@pytest.mark.parametrize("path", ["/admin/api/events/999", f"/admin/api/events/{2**63}", "/admin/api/jobs/999",
                                  f"/admin/api/jobs/{2**64}"])  # fmt: skip
def test_missing_things_are_404_json(client, seeded, path):
    response = call(client, "GET", path)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


# -- validation -----------------------------------------------------------------------------------------------

BAD_QUERIES = [
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-11-20"}, "until"),
    ({"since": "2026-11-20T10:00:00"}, "since"),  # no offset
    ({"since": "2026-02-30T10:00:00Z"}, "since"),
    ({"status": "lost"}, "status"),
    ({"source": "magento"}, "source"),
    ({"kind": "order.shipped"}, "kind"),
    ({"destination_status": "gone"}, "destination_status"),
    ({"cursor": "abc"}, "cursor"),
    ({"cursor": "9" * 40}, "cursor"),
    ({"q": ""}, "q"),
    ({"q": "x" * 256}, "q"),
    ({"store": "a\x00b"}, "store"),
    ({"colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(("query", "field"), BAD_QUERIES)
def test_bad_list_queries_are_422(client, query, field):
    response = call(client, "GET", "/admin/api/events", query_string=query)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_request" and field in body["errors"], body


BAD_BULK = [
    ({}, "action"),
    ({"action": "replay"}, "filter"),
    ({"action": "delete", "filter": {}}, "action"),
    ({"action": "replay", "filter": {"status": "lost"}}, "filter"),
    ({"action": "replay", "filter": {"since": 5}}, "filter"),
    ({"action": "replay", "filter": {"stauts": "dead"}}, "filter"),  # a typo must not widen the job to everything
    ({"action": "replay", "filter": [], "extra": 1}, "extra"),
    ([1, 2], "_schema"),
    ("replay", "_schema"),
]


@pytest.mark.parametrize(("document", "field"), BAD_BULK)
def test_bad_bulk_requests_are_422(client, document, field):
    response = call(client, "POST", "/admin/api/bulk", json=document)
    assert response.status_code == 422
    assert field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[" * 100_000, b"null"])
def test_unparsable_bulk_bodies_are_422(client, raw):
    response = call(client, "POST", "/admin/api/bulk", data=raw, content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_request"


# -- secrets --------------------------------------------------------------------------------------------------


def configured_secrets(settings) -> list[str]:
    """Every secret value in the test settings, listed independently of the code under test."""
    values = [ADMIN_TOKEN, signing.SHOPIFY_SECRET, signing.SHOPIFY_SECRET_ROTATED, signing.WOO_SECRET,
              signing.WOO_SECRET_ROTATED, signing.ECART_TOKEN, signing.ECART_TOKEN_ROTATED, signing.CUSTOM_SECRET,
              signing.CUSTOM_SECRET_ROTATED, settings.ac_token, settings.ecart_token]  # fmt: skip
    return [v for v in values if v]


def test_no_secret_in_any_answer(client, settings, seeded):
    # An event whose body itself carries secrets: stored raw, it must still come out redacted.
    leaky = custom_order("LEAK-1", "2026-10-01T10:00:00+00:00", order_url=f"https://x.example/?t={ADMIN_TOKEN}")
    leaky["shipping_method"] = signing.ECART_TOKEN
    leaky_id = post_custom(client, "order.paid", leaky)
    job = call(client, "POST", "/admin/api/bulk", json={"action": "replay", "filter": {"q": "LEAK-1"}}).get_json()
    responses = [call(client, "GET", "/admin/api/events", query_string={"limit": "200"})]
    responses += [call(client, "GET", f"/admin/api/events/{i}") for i in [*seeded.values(), leaky_id]]
    responses += [call(client, "POST", f"/admin/api/events/{seeded['quarantined']}/replay")]
    responses += [
        call(client, "GET", f"/admin/api/jobs/{job['job_id']}"),
        call(client, "GET", "/admin/api/destinations"),
    ]
    responses += [call(client, "POST", "/admin/api/destinations/ecartapi/pause")]
    responses += [call(client, "GET", "/admin/api/events", query_string={"q": ADMIN_TOKEN})]
    responses += [call(client, "GET", "/admin/api/events", query_string={"store": ADMIN_TOKEN + "\x00"})]
    texts = [r.get_data(as_text=True) for r in responses]
    for secret in configured_secrets(settings):
        escaped = json.dumps(secret)[1:-1]
        leaks = [t[:300] for t in texts if secret in t or escaped in t]
        assert not leaks, f"a configured secret appears in an admin answer: {leaks}"
    leaky_detail = json.loads(texts[1 + len(seeded)])
    assert "[redacted]" in leaky_detail["body"] and leaky_detail["payload"]["shipping_method"] == "[redacted]"


def test_database_password_is_redacted(tmp_path: Path):
    from tests.helpers.env import make_settings

    settings = make_settings(tmp_path / "x.db", BRIDGE_DATABASE_URL="postgresql+psycopg://bridge:s3cr%40t-pw@db/bridge")
    redactor = Redactor.for_settings(settings)
    assert redactor.scrub({"k s3cr@t-pw": ["url s3cr@t-pw", 1]}) == {"k [redacted]": ["url [redacted]", 1]}
    assert "s3cr@t-pw" in redactor.secrets and signing.WOO_SECRET in redactor.secrets
