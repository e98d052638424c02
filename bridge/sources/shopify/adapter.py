"""The Shopify source: `X-Shopify-Hmac-Sha256` over the raw body, dedupe on `X-Shopify-Webhook-Id`."""

from __future__ import annotations

import uuid
from typing import Any

from bridge.errors import InvalidSignature
from bridge.sources.base import Ignored, Inbound, Interpreted, Source, body_digest, dedupe_key
from bridge.sources.shopify import schemas
from bridge.sources.signatures import first_secret, hmac_matches, hmac_sha256_base64
from bridge.timeutil import utcnow

TOPIC_KINDS = {
    "checkouts/create": "checkout.updated",
    "checkouts/update": "checkout.updated",
    "orders/paid": "order.paid",
    "orders/cancelled": "order.cancelled",
    "refunds/create": "order.refunded",
}


class ShopifySource(Source):
    """Shopify webhooks (app or admin-created), verified with the app secret or the admin signing key."""

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

    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        topic = inbound.header("X-Shopify-Topic") or ""
        kind = TOPIC_KINDS.get(topic)
        if kind is None:
            return Ignored(f"shopify topic {topic or '(none)'} is not handled")
        webhook_id = inbound.header("X-Shopify-Webhook-Id")
        # Shopify always sends the webhook id; a hand-made request without it still dedupes on its bytes.
        key = (
            dedupe_key(self.name, webhook_id) if webhook_id else dedupe_key(self.name, topic, body_digest(inbound.body))
        )
        return Interpreted(
            topic=topic, dedupe_key=key, kind=kind, document=document, store=inbound.header("X-Shopify-Shop-Domain")
        )

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
