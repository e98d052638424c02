"""EcartAPI: orders updated in a range (`GET /api/v2/orders` with `updatedAt[from]` and `updatedAt[to]`
together), following `page.next`. The unified order is the webhook's, so the webhook source's mapping and
identity (order id, `status.ecartapi`, `dates.updatedAt`) apply as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from bridge.errors import PermanentError
from bridge.platforms.adapter import body_digest, dedupe_key, key_time
from bridge.platforms.api_http import StoreHttp
from bridge.platforms.ecartapi import schemas
from bridge.platforms.ecartapi.adapter import STATUS_KINDS, order_key
from bridge.platforms.ecartapi.settings import EcartAPISourceSettings
from bridge.platforms.reader import Page, StoreReader, StoreState, mapped
from bridge.timeutil import parse_datetime, utcnow

LIMIT = 100


class EcartAPIReader(StoreReader):
    """Pages of EcartAPI order states."""

    settings: EcartAPISourceSettings

    name = "ecartapi"

    def __init__(
        self, settings: EcartAPISourceSettings, *, limit: int = LIMIT, sleep: Callable[[float], None] | None = None
    ) -> None:
        super().__init__(settings)
        self.limit = limit
        self._sleep = sleep
        self._http: StoreHttp | None = None

    @property
    def configured(self) -> bool:
        # BRIDGE_ECART_TOKEN alone only means EcartAPI is a destination (status updates for Shopify or
        # WooCommerce orders): reading its orders then would store each order twice, under two sources.
        return bool(self.settings.ecart_token and self.settings.ecartapi_webhook_tokens)

    @property
    def http(self) -> StoreHttp:
        """The API client (`Authorization: Bearer <BRIDGE_ECART_TOKEN>`)."""
        if self._http is None:
            if not self.settings.ecart_token:
                raise PermanentError("ecartapi: BRIDGE_ECART_TOKEN is not set")
            extra = {} if self._sleep is None else {"sleep": self._sleep}
            self._http = StoreHttp(
                "ecartapi",
                headers={"Authorization": f"Bearer {self.settings.ecart_token}"},
                timeout=self.settings.http_timeout,
                **extra,
            )
        return self._http

    def pages(self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None) -> Iterator[Page]:
        url = f"{self.settings.ecart_url}/api/v2/orders"
        params = {
            "updatedAt[from]": key_time(since) or "",
            "updatedAt[to]": key_time(until or utcnow()) or "",
            "limit": str(self.limit),
        }
        page = (resume or {}).get("page")
        while True:
            if isinstance(page, str) and page.startswith(("http://", "https://")):
                # `page.next` as a full URL (some platforms behind EcartAPI): it carries the filters itself.
                result, _ = self.http.call("GET", page)
            else:
                result, _ = self.http.call("GET", url, params={**params, "page": str(page)} if page else params)
            body = result.body if isinstance(result.body, dict) else {}
            orders = body.get("orders")
            if not isinstance(orders, list):
                raise PermanentError(
                    "ecartapi: the orders answer has no orders list", status=200, body=result.text[:500]
                )
            states = [s for order in orders if isinstance(order, dict) and (s := self._state(order))]
            paging = body.get("page") if isinstance(body.get("page"), dict) else {}
            following = paging.get("next")
            if not following or following == page:
                yield Page(states, None)
                return
            page = str(following)
            yield Page(states, {"page": page})

    def restate(self, document: dict[str, Any], topic: str) -> StoreState | None:
        return self._state(document)

    def _state(self, order: dict[str, Any]) -> StoreState | None:
        status = order.get("status")
        ecart_status = status.get("ecartapi") if isinstance(status, dict) else None
        kind = STATUS_KINDS.get(ecart_status) if isinstance(ecart_status, str) else None
        if kind is None:
            return None
        updated = schemas.updated_at_text(order)
        key = order_key(order.get("id"), ecart_status, updated)
        if key is None:
            key = dedupe_key("ecartapi", "api", body_digest(repr(order).encode()))
        candidate, errors = mapped(lambda: schemas.order_candidate(order, kind))
        return StoreState(
            source=self.name,
            topic=f"orders/{ecart_status}",
            kind=kind,
            dedupe_key=key,
            store=None,
            document=order,
            candidate=candidate,
            errors=errors,
            changed_at=parse_datetime(key_time(updated) or "1970-01-01T00:00:00Z"),
        )
