"""The Shopify source: `X-Shopify-Hmac-Sha256` over the raw body, dedupe on `X-Shopify-Webhook-Id`."""

from __future__ import annotations

import uuid
from typing import Any

from bridge import compliance
from bridge.errors import InvalidSignature
from bridge.platforms.adapter import Ignored, Inbound, Interpreted, Source, body_digest, dedupe_key, key_time
from bridge.platforms.shopify import consistency
from bridge.platforms.shopify import webhook_schemas as schemas
from bridge.platforms.shopify.settings import ShopifySettings
from bridge.platforms.signatures import first_secret, hmac_matches, hmac_sha256_base64
from bridge.timeutil import utcnow

TOPIC_KINDS = {
    "checkouts/create": "checkout.updated",
    "checkouts/update": "checkout.updated",
    "orders/paid": "order.paid",
    "orders/cancelled": "order.cancelled",
    "refunds/create": "order.refunded",
}


def order_key(shop: str | None, kind: str, order_id: object, updated_at: object) -> str | None:
    """The identity of one state of an order: the webhook and the reconciled copy of that state agree on it."""
    version = key_time(updated_at)
    if order_id in (None, "") or version is None:
        return None
    return dedupe_key("shopify", shop, "order", kind, order_id, version)


def checkout_key(shop: str | None, token: object, updated_at: object) -> str | None:
    """The identity of one state of a checkout (its token and `updated_at`)."""
    version = key_time(updated_at)
    if token in (None, "") or version is None:
        return None
    return dedupe_key("shopify", shop, "checkout", token, version)


def refund_key(shop: str | None, refund_id: object) -> str | None:
    """A refund happens once: its id is its identity."""
    return None if refund_id in (None, "") else dedupe_key("shopify", shop, "refund", refund_id)


def state_key(shop: str | None, kind: str, document: dict[str, Any]) -> str | None:
    """The identity of what a webhook body describes, or None when the body lacks the fields (or has them in
    shapes no identity can be made of: only strings and integers count)."""

    def scalar(name: str) -> object:
        value = document.get(name)
        return value if isinstance(value, str | int) and not isinstance(value, bool) else None

    if kind == "checkout.updated":
        return checkout_key(shop, scalar("token"), scalar("updated_at"))
    if kind == "order.refunded":
        return refund_key(shop, scalar("id"))
    return order_key(shop, kind, scalar("id"), scalar("updated_at"))


class ShopifySource(Source):
    """Shopify webhooks (app or admin-created), verified with the app secret or the admin signing key."""

    settings: ShopifySettings

    name = "shopify"
    kept_headers = (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Event-Id",
        "X-Shopify-Triggered-At",
        "X-Shopify-API-Version",
    )

    def authenticate(self, inbound: Inbound) -> None:
        if not hmac_matches(self.settings.shopify_secrets, inbound.body, inbound.header("X-Shopify-Hmac-Sha256")):
            raise InvalidSignature("shopify: HMAC does not match any configured secret")

    def delivery_key(self, inbound: Inbound) -> str | None:
        webhook_id = inbound.header("X-Shopify-Webhook-Id")
        return dedupe_key(self.name, "webhook", webhook_id) if webhook_id else None

    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        topic = inbound.header("X-Shopify-Topic") or ""
        kind = TOPIC_KINDS.get(topic)
        if topic in compliance.TOPICS:
            # A compliance request (spec §16): stored as it came, carried out by the worker.
            shop = inbound.header("X-Shopify-Shop-Domain")
            webhook_id = inbound.header("X-Shopify-Webhook-Id")
            key = dedupe_key(self.name, shop, "compliance", topic, webhook_id or body_digest(inbound.body))
            return Interpreted(
                topic=topic, dedupe_key=key, kind=compliance.TOPICS[topic], document=document, store=shop
            )
        if kind is None:
            return Ignored(f"shopify topic {topic or '(none)'} is not handled")
        shop = inbound.header("X-Shopify-Shop-Domain")
        key = state_key(shop, kind, document)
        if key is None:
            # No readable identity in the body: the delivery id, else the bytes, still stop a retry.
            webhook_id = inbound.header("X-Shopify-Webhook-Id")
            parts = ("webhook", webhook_id) if webhook_id else (topic, body_digest(inbound.body))
            key = dedupe_key(self.name, *parts)
        return Interpreted(topic=topic, dedupe_key=key, kind=kind, document=document, store=shop)

    def contradiction(self, event: Interpreted, inbound: Inbound) -> str | None:
        return consistency.contradiction(event.topic, event.document)

    def to_canonical(self, event: Interpreted, inbound: Inbound) -> dict[str, Any]:
        if event.kind == "checkout.updated":
            return schemas.checkout_candidate(event.document, event.store)
        if event.kind == "order.refunded":
            return schemas.refund_candidate(event.document, event.store)
        return schemas.order_candidate(event.document, event.store, event.kind)

    def sign(self, body: bytes, *, topic: str | None = None, store: str | None = None) -> dict[str, str]:
        secret = first_secret(self.settings.shopify_secrets, "BRIDGE_SHOPIFY_SECRET")
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic or "orders/paid",
            "X-Shopify-Shop-Domain": store or "example.myshopify.com",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": utcnow().isoformat(),
            "X-Shopify-API-Version": "2026-01",
            "X-Shopify-Hmac-Sha256": hmac_sha256_base64(secret, body),
        }
