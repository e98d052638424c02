"""EcartAPI as a destination: order statuses, where EcartAPI is used (settings.ecart_used)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.destinations.base import DeliveryLeg, Destination, LegContext, Sender
from bridge.destinations.ecartapi.deliver import NAME, EcartAPILeg, lane
from bridge.errors import DeliveryError
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.events import EventRecord


class EcartAPI(Destination):
    """Sets the EcartAPI order status each event maps to (BRIDGE_ECART_STATUSES)."""

    name = NAME
    title = "EcartAPI"
    credential_setting = "BRIDGE_ECART_TOKEN"
    unused_hint = "set BRIDGE_ECART_TOKEN to send order statuses to EcartAPI"

    def live(self, settings: Settings) -> bool:
        return settings.ecart_enabled

    def used(self, settings: Settings) -> bool:
        return settings.ecart_used

    def token(self, settings: Settings) -> str | None:
        return settings.ecart_token

    def headers(self, settings: Settings) -> dict[str, str]:
        return {"Authorization": f"Bearer {settings.ecart_token or ''}", "Accept": "application/json"}

    def credential_urls(self, settings: Settings) -> list[tuple[str, str | None, str]]:
        return [("BRIDGE_ECART_URL", settings.ecart_url if settings.ecart_enabled else None, "the EcartAPI token")]

    def lanes(
        self,
        settings: Settings,
        record: EventRecord,
        payload: dict[str, Any],
        with_checkout: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[str]:
        """History (a backfill, an old reconciled state) is not news for the store: no status update. EcartAPI
        is a destination only where it is used: not for a Shopify -> AC shop, nor for its own events."""
        wanted = settings.ecart_used and payload.get("kind") in settings.ecart_statuses
        return [lane(payload)] if wanted and record.source != "ecartapi" and not record.historical else []

    def version_subject(self, lane: str, kind: str, refund_id: str | None) -> str:
        """The order, whatever the event (a late `paid` after `cancelled` is stale)."""
        return lane

    def sender(self, settings: Settings, db: Database) -> Sender:
        return _EcartSender(settings)

    def checks(self, settings: Settings) -> list[Check]:
        return [check_ecartapi(settings)]


class _EcartSender(Sender):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def leg(self, context: LegContext) -> DeliveryLeg:
        return EcartAPILeg(context.caller, self.settings.ecart_url, dict(self.settings.ecart_statuses))


def check_ecartapi(settings: Settings) -> Check:
    """EcartAPI answers and the token is accepted (`GET /api/v2/store`)."""
    if not settings.ecart_enabled:
        return Check("ecartapi", True, "not configured: dry-run (calls are recorded, not sent)")
    http = caller(settings, {"Authorization": f"Bearer {settings.ecart_token}", "Accept": "application/json"})
    url = f"{settings.ecart_url}/api/v2/store"
    try:
        result = http.call("GET", url)
    except DeliveryError as exc:
        return Check("ecartapi", False, why(exc, url, settings))
    if result.status == 200:
        store = (result.body or {}).get("store") if isinstance(result.body, dict) else None
        name = store.get("name") if isinstance(store, dict) else None
        return Check("ecartapi", True, f"token accepted{f' for store {name}' if name else ''}")
    if result.status in (401, 403):
        return Check("ecartapi", False, rejected("BRIDGE_ECART_TOKEN", result))
    return Check("ecartapi", False, unexpected(result, settings.ecart_url))
