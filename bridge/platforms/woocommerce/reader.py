"""WooCommerce: orders modified in a range, from the REST API v3 (`GET /wp-json/wc/v3/orders`), page by page
(`per_page=100&page=N`, `X-WP-TotalPages`). A REST order is the webhook's order body, so the webhook source's
mapping and identity (store URL without trailing slash, id, status, `date_modified_gmt`) apply as they are."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from bridge.errors import PermanentError
from bridge.platforms.adapter import body_digest, dedupe_key, key_time, store_url
from bridge.platforms.api_http import StoreHttp
from bridge.platforms.reader import Page, StoreReader, StoreState, mapped
from bridge.platforms.woocommerce import schemas
from bridge.platforms.woocommerce.adapter import STATUS_KINDS, order_key
from bridge.platforms.woocommerce.settings import WooCommerceSettings
from bridge.timeutil import parse_datetime

PER_PAGE = 100


class WooCommerceReader(StoreReader):
    """Pages of WooCommerce order states."""

    settings: WooCommerceSettings

    name = "woocommerce"

    def __init__(
        self, settings: WooCommerceSettings, *, per_page: int = PER_PAGE, sleep: Callable[[float], None] | None = None
    ) -> None:
        super().__init__(settings)
        self.per_page = per_page
        self._sleep = sleep
        self._http: StoreHttp | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.woocommerce_url and self.settings.woocommerce_key)

    @property
    def store(self) -> str:
        """The store as its webhooks name it (`X-WC-Webhook-Source` is the home URL with a trailing slash)."""
        return store_url(self.settings.woocommerce_url) + "/"

    @property
    def http(self) -> StoreHttp:
        """The API client: consumer key and secret as HTTP Basic auth (WooCommerce's scheme over HTTPS)."""
        if self._http is None:
            if not self.configured:
                raise PermanentError("woocommerce: BRIDGE_WOOCOMMERCE_URL and BRIDGE_WOOCOMMERCE_KEY are not set")
            pair = f"{self.settings.woocommerce_key}:{self.settings.woocommerce_key_secret or ''}"
            auth = "Basic " + base64.b64encode(pair.encode()).decode()
            extra = {} if self._sleep is None else {"sleep": self._sleep}
            self._http = StoreHttp(
                "woocommerce", headers={"Authorization": auth}, timeout=self.settings.http_timeout, **extra
            )
        return self._http

    def pages(self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None) -> Iterator[Page]:
        url = f"{store_url(self.settings.woocommerce_url)}/wp-json/wc/v3/orders"
        page = int((resume or {}).get("page") or 1)
        params = {
            # dates_are_gmt: otherwise WooCommerce reads the bounds in the site's timezone.
            "modified_after": _gmt(since),
            "dates_are_gmt": "true",
            "per_page": str(self.per_page),
            "orderby": "id",
            "order": "asc",
        }
        if until is not None:
            params["modified_before"] = _gmt(until)
        while True:
            result, headers = self.http.call("GET", url, params={**params, "page": str(page)})
            if not isinstance(result.body, list):
                raise PermanentError("woocommerce: the orders answer is not a list", status=200, body=result.text[:500])
            states = [s for order in result.body if isinstance(order, dict) and (s := self._state(order))]
            total_pages = _int(headers.get("X-WP-TotalPages"))
            last = not result.body or (total_pages is not None and page >= total_pages)
            yield Page(states, None if last else {"page": page + 1})
            if last:
                return
            page += 1

    def restate(self, document: dict[str, Any], topic: str) -> StoreState | None:
        return self._state(document)

    def _state(self, order: dict[str, Any]) -> StoreState | None:
        status = order.get("status")
        kind = STATUS_KINDS.get(status) if isinstance(status, str) else None
        if kind is None:
            return None  # a status the webhooks are ignored for too
        modified = order.get("date_modified_gmt")
        key = order_key(self.settings.woocommerce_url, order.get("id"), status, modified)
        if key is None:
            key = dedupe_key(
                "woocommerce", store_url(self.settings.woocommerce_url), "api", body_digest(repr(order).encode())
            )
        candidate, errors = mapped(lambda: schemas.order_candidate(order, self.store, kind))
        changed = key_time(modified)
        return StoreState(
            source=self.name,
            topic="order.updated",
            kind=kind,
            dedupe_key=key,
            store=self.store,
            document=order,
            candidate=candidate,
            errors=errors,
            changed_at=parse_datetime(changed or "1970-01-01T00:00:00Z"),
        )


def _gmt(moment: datetime) -> str:
    """ISO-8601 without offset (with dates_are_gmt=true WooCommerce reads it as UTC)."""
    return (key_time(moment) or "").rstrip("Z")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
