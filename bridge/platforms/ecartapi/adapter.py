"""The EcartAPI source: `Authorization` must equal a configured token (bare or `Bearer`); the order's
`status.ecartapi` decides the kind; dedupe on (order id, `status.ecartapi`, `dates.updatedAt`)."""

from __future__ import annotations

from typing import Any

from bridge.errors import InvalidSignature
from bridge.platforms.adapter import Ignored, Inbound, Interpreted, Source, body_digest, dedupe_key, key_time
from bridge.platforms.ecartapi import schemas
from bridge.platforms.ecartapi.settings import EcartAPISourceSettings
from bridge.platforms.signatures import first_secret, token_matches

STATUS_KINDS = {
    "pending": "checkout.updated",
    "paid": "order.paid",
    "cancelled": "order.cancelled",
    "refunded": "order.refunded",
}


def unwrap(document: dict[str, Any]) -> Any:
    """The order object, whether sent bare, as `{"order": {...}}` or as `{"orders": [{...}]}`."""
    if isinstance(document.get("order"), dict):
        return document["order"]
    orders = document.get("orders")
    if isinstance(orders, list) and len(orders) == 1:
        return orders[0]
    if isinstance(orders, dict):  # EcartAPI's Magento 2 variant: "orders" holding one object
        return orders
    return document


def order_key(order_id: object, ecart_status: object, updated_at: object) -> str | None:
    """The identity of one state of an EcartAPI order: (order id, `status.ecartapi`, `dates.updatedAt`)."""
    version = key_time(updated_at)
    if not isinstance(order_id, str | int) or isinstance(order_id, bool) or order_id == "":
        return None
    if not isinstance(ecart_status, str) or not ecart_status or version is None:
        return None
    return dedupe_key("ecartapi", order_id, ecart_status, version)


class EcartAPISource(Source):
    """Orders delivered by EcartAPI webhooks."""

    settings: EcartAPISourceSettings

    name = "ecartapi"
    kept_headers = ("User-Agent",)

    def authenticate(self, inbound: Inbound) -> None:
        if not token_matches(self.settings.ecartapi_webhook_tokens, inbound.header("Authorization")):
            raise InvalidSignature("ecartapi: Authorization does not match a configured token")

    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        order = unwrap(document)
        status = order.get("status") if isinstance(order, dict) else None
        ecart_status = status.get("ecartapi") if isinstance(status, dict) else None
        if isinstance(ecart_status, str) and ecart_status not in STATUS_KINDS:
            return Ignored(f"ecartapi order status {ecart_status} is not handled")
        kind = STATUS_KINDS.get(ecart_status, "") if isinstance(ecart_status, str) else ""
        order_id = order.get("id") if isinstance(order, dict) else None
        updated = schemas.updated_at_text(order) if isinstance(order, dict) else None
        key = order_key(order_id, ecart_status, updated) or dedupe_key(self.name, body_digest(inbound.body))
        return Interpreted(topic=f"orders/{ecart_status or 'unknown'}", dedupe_key=key, kind=kind, document=order)

    def to_canonical(self, event: Interpreted, inbound: Inbound) -> dict[str, Any]:
        return schemas.order_candidate(event.document, event.kind)

    def sign(self, body: bytes, *, topic: str | None = None, store: str | None = None) -> dict[str, str]:
        token = first_secret(self.settings.ecartapi_webhook_tokens, "BRIDGE_ECARTAPI_WEBHOOK_TOKEN")
        return {"Content-Type": "application/json", "Authorization": token}
