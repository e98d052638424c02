"""The WooCommerce source: `X-WC-Webhook-Signature` over the raw body; the order's status decides the kind.

WooCommerce's delivery id changes on every send, so the dedupe key is the resource state instead:
(source URL, order id, status, `date_modified_gmt`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from bridge.errors import InvalidSignature
from bridge.platforms.adapter import Ignored, Inbound, Interpreted, Source, body_digest, dedupe_key, key_time, store_url
from bridge.platforms.signatures import first_secret, hmac_matches, hmac_sha256_base64
from bridge.platforms.woocommerce import consistency, schemas
from bridge.platforms.woocommerce.settings import WooCommerceSettings

TOPICS = ("order.created", "order.updated")
STATUS_KINDS = {
    # Unpaid orders are WooCommerce's checkouts: they arm the abandonment timer.
    "pending": "checkout.updated",
    "failed": "checkout.updated",
    "checkout-draft": "checkout.updated",
    "processing": "order.paid",
    "completed": "order.paid",
    "cancelled": "order.cancelled",
    "refunded": "order.refunded",
}
PING = re.compile(rb"^\s*webhook_id=\d+\s*$")


def order_key(source_url: str | None, order_id: object, status: object, modified_gmt: object) -> str | None:
    """The identity of one state of an order: (store URL without its trailing slash, order id, status,
    `date_modified_gmt`), shared by the webhook and the reconciled copy read from the REST API."""
    version = key_time(modified_gmt)
    if not isinstance(order_id, str | int) or isinstance(order_id, bool) or not isinstance(status, str):
        return None
    if order_id == "" or not status or version is None:
        return None
    return dedupe_key("woocommerce", store_url(source_url), order_id, status, version)


class WooCommerceSource(Source):
    """WooCommerce core webhooks (topics `order.created` and `order.updated`)."""

    settings: WooCommerceSettings

    name = "woocommerce"
    kept_headers = (
        "X-WC-Webhook-Source",
        "X-WC-Webhook-Topic",
        "X-WC-Webhook-Resource",
        "X-WC-Webhook-Event",
        "X-WC-Webhook-ID",
        "X-WC-Webhook-Delivery-ID",
    )

    def preflight(self, inbound: Inbound) -> Ignored | None:
        # WooCommerce's unsigned form-encoded ping when a webhook is saved: it must get a 200.
        if PING.match(inbound.body):
            return Ignored("woocommerce ping")
        return None

    def authenticate(self, inbound: Inbound) -> None:
        signature = inbound.header("X-WC-Webhook-Signature")
        if not hmac_matches(self.settings.woocommerce_secrets, inbound.body, signature):
            raise InvalidSignature("woocommerce: HMAC does not match any configured secret")

    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        topic = inbound.header("X-WC-Webhook-Topic") or ""
        if topic not in TOPICS:
            return Ignored(f"woocommerce topic {topic or '(none)'} is not handled")
        status = document.get("status")
        kind = STATUS_KINDS.get(status) if isinstance(status, str) else None
        if kind is None and isinstance(status, str):
            return Ignored(f"woocommerce order status {status} is not handled")
        source_url = inbound.header("X-WC-Webhook-Source")
        key = order_key(source_url, document.get("id"), status, document.get("date_modified_gmt"))
        if key is None:
            key = dedupe_key(self.name, store_url(source_url), body_digest(inbound.body))
        return Interpreted(topic=topic, dedupe_key=key, kind=kind or "", document=document, store=source_url)

    def contradiction(self, event: Interpreted, inbound: Inbound) -> str | None:
        return consistency.contradiction(event.topic, inbound.header("X-WC-Webhook-Resource"), event.document)

    def to_canonical(self, event: Interpreted, inbound: Inbound) -> dict[str, Any]:
        return schemas.order_candidate(event.document, event.store, event.kind)

    def sign(self, body: bytes, *, topic: str | None = None, store: str | None = None) -> dict[str, str]:
        secret = first_secret(self.settings.woocommerce_secrets, "BRIDGE_WOOCOMMERCE_SECRET")
        topic = topic or "order.updated"
        resource, _, event = topic.partition(".")
        return {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
            "X-WC-Webhook-Source": store or "https://shop.example.com/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
            "X-WC-Webhook-Signature": hmac_sha256_base64(secret, body),
        }
