"""Spec §3 response table, row by row, for every source it applies to (limits and outages: test_limits.py)."""

from __future__ import annotations

import base64
import time

import pytest

from bridge.storage import Events
from tests.helpers import signing
from tests.helpers.env import fixture
from tests.helpers.webhooks import SAMPLES, SOURCES, built_app, headers_for, interpret_stored, post, sample, stored

INVALID_SIGNATURE = {"error": "invalid_signature"}
WRONG_CUSTOM_SECRET = "whsec_" + base64.b64encode(b"an-entirely-different-secret-32b").decode()


def _wrong(source: str, body: bytes) -> dict[str, str]:
    if source == "shopify":
        return signing.shopify_headers(body, "orders/paid", secret="not-the-secret")
    if source == "woocommerce":
        return signing.woo_headers(body, secret="not-the-secret")
    if source == "ecartapi":
        return signing.ecart_headers("not-the-token")
    return signing.custom_headers(body, secret=WRONG_CUSTOM_SECRET)


@pytest.mark.parametrize("source", SOURCES)
def test_valid_is_accepted_and_stored(client, db, source):
    body, headers = sample(source)
    response = post(client, source, body, headers)
    assert response.status_code == 202
    data = response.get_json()
    assert data == {"status": "accepted", "event_id": data["event_id"]}
    assert isinstance(data["event_id"], str)
    record = Events(db).get(int(data["event_id"]))
    # Platform events are stored raw and interpreted by the worker (spec §10); custom ones validate here.
    expected = "accepted" if source == "custom" else "received"
    assert (record.source, record.status, record.body) == (source, expected, body)
    interpret_stored(client, db)
    assert Events(db).get(record.id).status == "accepted"


@pytest.mark.parametrize("source", SOURCES)
def test_rotated_secret_is_accepted(client, db, source):
    body = fixture(source, SAMPLES[source])
    response = post(client, source, body, headers_for(source, body, name=SAMPLES[source], rotated=True))
    assert response.status_code == 202
    assert len(stored(db)) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_wrong_signature_is_401_and_nothing_stored(client, db, source):
    body = fixture(source, SAMPLES[source])
    response = post(client, source, body, _wrong(source, body))
    assert (response.status_code, response.get_json()) == (401, INVALID_SIGNATURE)
    assert stored(db) == []


@pytest.mark.parametrize("source", ["shopify", "woocommerce", "custom"])
def test_tampered_body_is_401(client, db, source):
    body, headers = sample(source)
    tampered = body.replace(b"2", b"3", 1)
    assert post(client, source, tampered, headers).status_code == 401
    assert stored(db) == []


@pytest.mark.parametrize(
    ("source", "header"),
    [
        ("shopify", "X-Shopify-Hmac-Sha256"),
        ("woocommerce", "X-WC-Webhook-Signature"),
        ("ecartapi", "Authorization"),
        ("custom", "webhook-signature"),
        ("custom", "webhook-id"),
        ("custom", "webhook-timestamp"),
    ],
)
def test_missing_header_is_401(client, db, source, header):
    body, headers = sample(source)
    del headers[header]
    response = post(client, source, body, headers)
    assert (response.status_code, response.get_json()) == (401, INVALID_SIGNATURE)
    assert stored(db) == []


@pytest.mark.parametrize("source", SOURCES)
def test_unconfigured_source_rejects_everything(tmp_path, source):
    variable = {
        "shopify": "BRIDGE_SHOPIFY_SECRET",
        "woocommerce": "BRIDGE_WOOCOMMERCE_SECRET",
        "ecartapi": "BRIDGE_ECARTAPI_WEBHOOK_TOKEN",
        "custom": "BRIDGE_WEBHOOK_SECRET",
    }[source]
    with built_app(tmp_path / "bridge.db", **{variable: ""}) as (app, db):
        body, headers = sample(source)
        response = post(app.test_client(), source, body, headers)
        assert (response.status_code, response.get_json()) == (401, INVALID_SIGNATURE)
        assert stored(db) == []


@pytest.mark.parametrize("source", SOURCES)
def test_redelivery_is_duplicate_with_the_same_event_id(client, db, source):
    body, headers = sample(source)
    first = post(client, source, body, headers)
    # Shopify and custom retry with the same webhook id. WooCommerce sends a fresh delivery id every time, and
    # EcartAPI has none: both dedupe on the order's state.
    again = headers_for(source, body, name=SAMPLES[source]) if source in ("woocommerce", "ecartapi") else headers
    if source == "woocommerce":
        assert again["X-WC-Webhook-Delivery-ID"] != headers["X-WC-Webhook-Delivery-ID"]
    second = post(client, source, body, again)
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.get_json() == {"status": "duplicate", "event_id": first.get_json()["event_id"]}
    assert len(stored(db)) == 1


@pytest.mark.parametrize(
    ("source", "name", "topic"),
    [
        ("shopify", "products_update__basic.json", "products/update"),
        ("shopify", "orders_paid__basic.json", "orders/create"),
        ("woocommerce", "order_updated__processing.json", "product.updated"),
        ("woocommerce", "order_updated__processing.json", "order.deleted"),
        ("ecartapi", "order__shipped.json", None),
    ],
)
def test_unhandled_topic_is_ignored_and_not_stored(client, db, source, name, topic):
    body = fixture(source, name)
    response = post(client, source, body, headers_for(source, body, topic=topic))
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ignored"
    assert isinstance(data["reason"], str) and data["reason"]
    assert stored(db) == []


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "body",
    [b'{"id": 1,', b"{'single': 'quotes'}", b"", b"[]", b'"a string"', b"42", b"null", b"\xff\xfe\x00"],
    ids=["truncated", "not-json", "empty", "array", "string", "number", "null", "binary"],
)
def test_malformed_or_non_object_json_is_400(client, db, source, body):
    # Non-UTF-8 included, for `custom` too: its signature is checked on the bytes (spec §11: UTF-16/32 is 400).
    response = post(client, source, body, headers_for(source, body))
    assert response.status_code == 400
    data = response.get_json()
    assert data["error"] == "malformed_json"
    assert isinstance(data["message"], str) and data["message"]
    assert stored(db) == []


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_signed_json_accepted_whatever_the_content_type(client, db, source, content_type):
    """A choice: the signature proves the bytes are the platform's; Content-Type is not checked."""
    body, headers = sample(source)
    headers.pop("Content-Type")
    if content_type:
        headers["Content-Type"] = content_type
    assert post(client, source, body, headers).status_code == 202
    assert len(stored(db)) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_signed_plain_text_is_400(client, db, source):
    body = b"order 1042 was paid"
    headers = {**headers_for(source, body), "Content-Type": "text/plain"}
    response = post(client, source, body, headers)
    assert (response.status_code, response.get_json()["error"]) == (400, "malformed_json")


@pytest.mark.parametrize("path", ["/webhooks/bigcommerce", "/webhooks/Shopify", "/webhooks/admin"])
def test_unknown_source_is_404(client, db, path):
    body, headers = sample("shopify")
    response = client.post(path, data=body, headers=headers)
    assert (response.status_code, response.get_json()) == (404, {"error": "unknown_source"})
    assert stored(db) == []


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None])
def test_woocommerce_unsigned_ping_is_200_and_not_stored(client, db, content_type):
    body = fixture("woocommerce", "ping.txt")
    assert body == b"webhook_id=17"
    headers = {"User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"}
    if content_type:
        headers["Content-Type"] = content_type
    response = post(client, "woocommerce", body, headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert stored(db) == []


@pytest.mark.parametrize(("offset", "code"), [(-600, 401), (600, 401), (-301, 401), (-120, 202), (120, 202)])
def test_custom_timestamp_tolerance_is_five_minutes(client, db, offset, code):
    body = fixture("custom", SAMPLES["custom"])
    headers = signing.custom_headers(body, timestamp=int(time.time()) + offset)
    response = post(client, "custom", body, headers)
    assert response.status_code == code
    assert len(stored(db)) == (1 if code == 202 else 0)


def test_custom_signature_list_with_one_valid_entry(client, db):
    body = fixture("custom", SAMPLES["custom"])
    headers = signing.custom_headers(body)
    headers["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} {headers['webhook-signature']}"
    assert post(client, "custom", body, headers).status_code == 202


def test_custom_invalid_payload_is_422(client, db):
    body = fixture("custom", "order_paid__invalid.json")
    response = post(client, "custom", body, headers_for("custom", body))
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_payload"
    assert set(response.get_json()["errors"]) == {"total", "line_items", "order_id"}
    assert stored(db) == []
