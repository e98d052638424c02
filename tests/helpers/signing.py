"""Independent signing helpers: tests compute signatures themselves rather than trusting the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

SHOPIFY_SECRET = "shpss_test_0123456789abcdef"
SHOPIFY_SECRET_ROTATED = "shpss_test_rotated_fedcba9876543210"
WOO_SECRET = "wc_test_secret_!@#$%^"
WOO_SECRET_ROTATED = "wc_rotated_secret"
ECART_TOKEN = "ecart-webhook-token-0123456789"
ECART_TOKEN_ROTATED = "ecart-webhook-token-rotated"
CUSTOM_SECRET = "whsec_" + base64.b64encode(b"custom-source-secret-32-bytes!!!").decode()
CUSTOM_SECRET_ROTATED = "whsec_" + base64.b64encode(b"rotated-custom-secret-32-bytes!!").decode()
SHOP_DOMAIN = "acme-outdoor.myshopify.com"
WOO_SOURCE = "https://shop.example-woo.com/"


def b64_hmac(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, topic: str, *, secret: str = SHOPIFY_SECRET, webhook_id: str | None = None) -> dict:
    """Headers Shopify sends with a webhook."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": b64_hmac(secret, body),
        "X-Shopify-Shop-Domain": SHOP_DOMAIN,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Triggered-At": "2026-11-20T15:00:00.000Z",
    }


def woo_headers(body: bytes, topic: str = "order.updated", *, secret: str = WOO_SECRET) -> dict:
    """Headers WooCommerce sends with a webhook (the delivery id is fresh every time, as in WooCommerce)."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": WOO_SOURCE,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": b64_hmac(secret, body),
        "X-WC-Webhook-ID": "17",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }


def ecart_headers(token: str = ECART_TOKEN, *, bearer: bool = False) -> dict:
    """Headers EcartAPI sends: the configured auth token in Authorization."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}" if bearer else token}


def custom_headers(
    body: bytes, *, secret: str = CUSTOM_SECRET, msg_id: str | None = None, timestamp: int | None = None
) -> dict:
    """Standard Webhooks headers, signed per the spec: v1,base64(HMAC(key, id.timestamp.body))."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": f"v1,{signature}",
    }
