"""ActiveCampaign as a destination: carts and orders (v3 Deep Data, or orders through the eComm GraphQL API
under `BRIDGE_AC_ORDER_API=graphql`), the buyer's contact, net revenue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.check_calls import Check
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign import graphql_text
from bridge.destinations.activecampaign.checks import (
    check_ac_entitlements,
    check_ac_list,
    check_ac_orders,
    check_activecampaign,
    setup_connections,
)
from bridge.destinations.activecampaign.sender import GraphQLSender, V3Sender
from bridge.destinations.base import Destination, Sender, SetupLine
from bridge.errors import BridgeError, DeliveryError
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.events import EventRecord


class ActiveCampaign(Destination):
    """Abandoned carts, paid orders and (net revenue, or through GraphQL) cancellations and refunds."""

    name = ac.NAME
    title = "ActiveCampaign Deep Data"
    credential_setting = "BRIDGE_AC_TOKEN"

    def live(self, settings: Settings) -> bool:
        return settings.ac_enabled

    def token(self, settings: Settings) -> str | None:
        return settings.ac_token

    def headers(self, settings: Settings) -> dict[str, str]:
        return {"Api-Token": settings.ac_token or "", "Accept": "application/json"}

    def credential_urls(self, settings: Settings) -> list[tuple[str, str | None, str]]:
        return [("BRIDGE_AC_URL", settings.ac_url if settings.ac_enabled else None, "the AC Api-Token")]

    def rate(self, settings: Settings) -> float | None:
        return settings.ac_rate

    def lanes(
        self,
        settings: Settings,
        record: EventRecord,
        payload: dict[str, Any],
        with_checkout: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[str]:
        kind = payload.get("kind")
        lanes = []
        if kind in ("cart.abandoned", "order.paid"):
            lanes.append(ac.lane(payload))
        # Through GraphQL a cancellation or refund is also a status AC shows (spec §14), not only revenue.
        if kind in ac.REVENUE_KINDS and (settings.ac_revenue == "net" or settings.ac_order_api == "graphql"):
            lanes.append(ac.lane(with_checkout(payload)))
        return lanes

    def version_subject(self, lane: str, kind: str, refund_id: str | None) -> str:
        """The lane *and* kind, because a cart and the order that converts it share a lane but are different
        states (a cart after its order is skipped by the mapping); each refund on its own, since an older refund
        arriving late still counts (revenue.py adds them up)."""
        return f"{lane}|{kind}|{refund_id}" if refund_id else f"{lane}|{kind}"

    def sender(self, settings: Settings, db: Database) -> Sender:
        """The order API in use (`BRIDGE_AC_ORDER_API`): `graphql` or `v3`, carts on v3 under both."""
        return GraphQLSender(settings, db) if settings.ac_order_api == "graphql" else V3Sender(settings, db)

    def checks(self, settings: Settings) -> list[Check]:
        return [
            check_activecampaign(settings),
            check_ac_list(settings),
            check_ac_orders(settings),
            check_ac_entitlements(settings),
        ]

    def setup(self, settings: Settings, stores: tuple[str, ...]) -> list[SetupLine]:
        """Find or create each store's connection (the worker would on first use: this shows problems now)."""
        if settings.ac_connection_id:
            return [SetupLine(f"activecampaign: every store uses BRIDGE_AC_CONNECTION_ID={settings.ac_connection_id}")]
        if not settings.ac_enabled:
            return []
        try:
            connections = setup_connections(settings, stores)
        except (BridgeError, DeliveryError) as exc:
            return [SetupLine(f"activecampaign: FAILED - {exc}", ok=False)]
        lines = [SetupLine(f"activecampaign: store {store} -> connection {c}") for store, c in connections.items()]
        if not connections:
            lines.append(
                SetupLine(
                    "activecampaign: no store has sent events yet; pass --store your-shop.myshopify.com "
                    "(or set BRIDGE_SHOPIFY_SHOP)"
                )
            )
        return lines

    def describe_attempt(self, url: str | None, request: str | None, response: str | None) -> str | None:
        """A GraphQL call says in words what it did (the mutation, its orders, their outcomes)."""
        return graphql_text.summary(url, request, response)
