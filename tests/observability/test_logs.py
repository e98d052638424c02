"""bridge.logs: the JSON formatter redacts credentials by key, by header pattern and by configured value, in
messages, `extra` fields, header objects and tracebacks; the request log line of the app."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.datastructures import Headers

from bridge.app import create_app
from bridge.logs import JsonFormatter
from bridge.redaction import REDACTED, register_secrets, safe_url, scrub
from tests.helpers import signing
from tests.helpers.env import fixture, make_settings

AC_TOKEN = "ac-token-0123456789abcdef0123456789abcdef"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every record of the `bridge` loggers, formatted as the service formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bridge")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _format(message: str, *args: Any, exc: BaseException | None = None, **extra: Any) -> str:
    record = logging.LogRecord("bridge.test", logging.INFO, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.__dict__.update(extra)
    return JsonFormatter().format(record)


def test_credential_headers_are_redacted_by_key_in_dicts_and_header_objects() -> None:
    headers = {
        "Authorization": f"Bearer {AC_TOKEN}",
        "Api-Token": AC_TOKEN,
        "X-Shopify-Hmac-Sha256": "c2lnbmF0dXJl",
        "X-WC-Webhook-Signature": "d2Mtc2ln",
        "webhook-signature": "v1,c3RhbmRhcmQ=",
        "Content-Type": "application/json",
    }
    for carried in (headers, Headers(headers)):
        line = json.loads(_format("received", headers=carried))
        assert line["headers"]["Content-Type"] == "application/json"
        assert all(line["headers"][name] == REDACTED for name in headers if name != "Content-Type"), line
    assert json.loads(_format("x", api_token=AC_TOKEN, admin_secret="s3cr3t-value"))["api_token"] == REDACTED


def test_credential_headers_are_redacted_in_free_text() -> None:
    message = (
        f"call failed: Authorization: Bearer {AC_TOKEN}; Api-Token={AC_TOKEN} "
        "{'X-Shopify-Hmac-Sha256': 'c2lnbmF0dXJl', 'webhook-signature': 'v1,c3RhbmRhcmQ='}"
    )
    line = _format(message)
    for secret in (AC_TOKEN, "c2lnbmF0dXJl", "v1,c3RhbmRhcmQ="):
        assert secret not in line
    assert "Authorization: [redacted]" in json.loads(line)["msg"]
    already = json.loads(_format("x", headers={"Authorization": "Bearer abc"}))
    assert already["headers"]["Authorization"] == REDACTED  # not mangled by the second pass


def test_configured_secret_values_are_redacted_wherever_they_appear() -> None:
    secret = 'wc_value_with_"quotes"_and_\\backslash'
    register_secrets([AC_TOKEN, secret, "abc", None])
    try:
        raise RuntimeError(f"upstream said {AC_TOKEN}")
    except RuntimeError as exc:
        line = _format(
            "calling %s with %s",
            "https://x.example/?key=" + AC_TOKEN.replace("-", "%2D"),
            secret,
            exc=exc,
            note={"nested": [f"prefix-{AC_TOKEN}-suffix"]},
            url=f"https://x.example/hook?q={AC_TOKEN}",
        )
    assert AC_TOKEN not in line and json.dumps(secret)[1:-1] not in line
    entry = json.loads(line)
    assert entry["note"] == {"nested": [f"prefix-{REDACTED}-suffix"]}
    assert REDACTED in entry["exc"] and "RuntimeError" in entry["exc"]
    assert "abc" in scrub("abc")  # too short to be redacted by value (it would shred every line)


def test_the_app_registers_the_settings_secrets_at_start(tmp_path, db) -> None:
    token = "ac-token-registered-by-create-app-42"
    settings = make_settings(tmp_path / "bridge.db", BRIDGE_AC_URL="https://acme.api-us1.com", BRIDGE_AC_TOKEN=token)
    create_app(settings, db=db)
    for secret in (token, signing.SHOPIFY_SECRET, signing.WOO_SECRET_ROTATED, signing.ECART_TOKEN):
        assert secret not in _format(f"oops {secret}")
    bare_key = signing.CUSTOM_SECRET.removeprefix("whsec_")
    assert signing.CUSTOM_SECRET not in _format(signing.CUSTOM_SECRET) and bare_key not in _format(bare_key)


def test_safe_url_drops_passwords_and_secret_query_values() -> None:
    shown = safe_url("https://user:pw@api.example.com/api/3/ecomOrders?filters[externalid]=42&api_key=abc&token=t")
    redacted = "[redacted]"
    assert (
        shown == f"https://api.example.com/api/3/ecomOrders?filters[externalid]=42&api_key={redacted}&token={redacted}"
    )
    assert safe_url("https://api.example.com/api/v2/orders/7") == "https://api.example.com/api/v2/orders/7"


def test_every_request_gets_one_json_line_with_webhook_fields(client, captured) -> None:
    body = fixture("shopify", "orders_paid__basic.json")
    headers = signing.shopify_headers(body, "orders/paid") | {"Authorization": f"Bearer {signing.SHOPIFY_SECRET}"}
    assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 202
    bad = signing.shopify_headers(body, "orders/paid", secret="wrong")
    assert client.post("/webhooks/shopify?secret=x", data=body, headers=bad).status_code == 401
    assert client.post("/webhooks/nope", data=b"{}").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    lines = [e for e in _lines(captured) if e["msg"] == "request"]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("POST", "/webhooks/shopify", 202),
        ("POST", "/webhooks/shopify", 401),
        ("POST", "/webhooks/nope", 404),
        ("GET", "/healthz", 200),
        ("GET", "/no/such/page", 404),
    ]
    accepted, rejected, unknown = lines[:3]
    assert accepted["outcome"] == "accepted" and accepted["kind"] == "order.paid" and accepted["source"] == "shopify"
    assert isinstance(accepted["event_id"], int) and accepted["duration_ms"] >= 0
    assert (rejected["outcome"], rejected["event_id"], rejected["error"]) == ("rejected_401", None, "invalid_signature")
    assert (unknown["source"], unknown["outcome"], unknown["error"]) == ("unknown", "rejected_404", "unknown_source")
    assert "source" not in lines[3] and "outcome" not in lines[4]
    output = captured.getvalue()
    assert signing.SHOPIFY_SECRET not in output and headers["X-Shopify-Hmac-Sha256"] not in output
