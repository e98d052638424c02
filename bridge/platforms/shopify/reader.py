"""Shopify: orders (paid or cancelled states, and their refunds) and abandoned checkouts changed in a range,
read through the GraphQL Admin API with cursors; identities are the webhooks' (bridge/platforms/shopify)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from bridge.canonical import MAX_LINE_ITEMS
from bridge.platforms.adapter import dedupe_key, key_time
from bridge.platforms.reader import Page, StoreReader, StoreState, mapped
from bridge.platforms.shopify import api_schemas as schemas
from bridge.platforms.shopify import bulk_pages, queries
from bridge.platforms.shopify.adapter import checkout_key, order_key, refund_key
from bridge.platforms.shopify.bulk import BulkExport
from bridge.platforms.shopify.client import QueryTooCostly, ShopifyAdmin
from bridge.platforms.shopify.settings import ShopifySettings
from bridge.timeutil import parse_datetime

PHASES = ("orders", "checkouts")
log = logging.getLogger("bridge.platforms.shopify")


class ShopifyReader(StoreReader):
    """Pages of Shopify order, refund and checkout states."""

    settings: ShopifySettings

    name = "shopify"

    def __init__(
        self,
        settings: ShopifySettings,
        *,
        page_size: int = 50,
        line_items: int = 10,
        sleep: Callable[[float], None] | None = None,
        bulk_after_pages: int | None = bulk_pages.BULK_AFTER_PAGES,
        poll_sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(settings)
        self.line_items = line_items
        #: A backfill of more than this many pages of orders reads them through a bulk export (None: never).
        self.bulk_after_pages = bulk_after_pages
        self.poll_sleep = poll_sleep or sleep  # the waits between polls of a bulk export (tests inject them)
        self.on_bulk_poll: Callable[[dict[str, Any]], None] = lambda operation: None  # the CLI's progress line
        self.last_export: BulkExport | None = None  # the last backfill's export (tests and the bench read it)
        self.page_sizes = {phase: queries.fitting_page_size(page_size, line_items, phase) for phase in PHASES}
        self._sleep = sleep
        self._admin: ShopifyAdmin | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.shopify_shop and self.settings.shopify_admin_token)

    @property
    def admin(self) -> ShopifyAdmin:
        """The API client, built on first use (it needs the settings to be complete)."""
        if self._admin is None:
            self._admin = (
                ShopifyAdmin(self.settings) if self._sleep is None else ShopifyAdmin(self.settings, sleep=self._sleep)
            )
        return self._admin

    @staticmethod
    def iso(moment: datetime) -> str:
        """A moment as Shopify's search syntax takes it."""
        return _iso(moment)

    def backfill_pages(
        self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """Paged for a short history, a bulk export for a long one (bridge/platforms/shopify/bulk_pages.py)."""
        return bulk_pages.backfill_pages(self, since, until, resume)

    def pages(self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None) -> Iterator[Page]:
        search = queries.updated_filter(_iso(since), _iso(until) if until else None)
        phase = (resume or {}).get("phase", PHASES[0])
        after = (resume or {}).get("after")
        for index in range(PHASES.index(phase) if phase in PHASES else 0, len(PHASES)):
            phase = PHASES[index]
            while True:
                connection = self._page(phase, search, after)
                info = connection.get("pageInfo") or {}
                nodes = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
                for node in nodes:
                    self._complete_line_items(phase, node)
                states = [s for node in nodes for s in self._states(phase, node)]
                after = info.get("endCursor") if info.get("hasNextPage") else None
                if after:
                    yield Page(states, {"phase": phase, "after": after})
                    continue
                following = PHASES[index + 1] if index + 1 < len(PHASES) else None
                yield Page(states, {"phase": following, "after": None} if following else None)
                break

    @property
    def page_size(self) -> int:
        """How many orders one query asks for."""
        return self.page_sizes["orders"]

    def _page(self, phase: str, search: str, after: str | None) -> dict[str, Any]:
        document = queries.ORDERS if phase == "orders" else queries.ABANDONED_CHECKOUTS
        field = "orders" if phase == "orders" else "abandonedCheckouts"
        while True:
            size = self.page_sizes[phase]
            variables = {"first": size, "after": after, "query": search, "lineItems": self.line_items}
            try:
                data = self.admin.query(document, variables, cost=queries.estimated_cost(size, self.line_items, phase))
            except QueryTooCostly as exc:
                # Shopify priced the page higher than the estimate: ask again for what its own figures say fits.
                if not self._shrink(phase, exc):
                    raise
                continue
            connection = data.get(field)
            return connection if isinstance(connection, dict) else {}

    def _shrink(self, phase: str, exc: QueryTooCostly) -> bool:
        size = self.page_sizes[phase]
        if size > 1:
            ratio = exc.max_cost / exc.cost if exc.cost and exc.max_cost and exc.cost > exc.max_cost else 0.5
            self.page_sizes[phase] = max(1, min(size - 1, int(size * ratio)))
        elif self.line_items > 1:
            self.line_items //= 2
        else:
            return False
        log.warning(
            "shopify query over the cost limit; asking for less",
            extra={"phase": phase, "page_size": self.page_sizes[phase], "line_items": self.line_items},
        )
        return True

    def _complete_line_items(self, phase: str, node: dict[str, Any]) -> None:
        """Ask for the rest of a node's line items when its page carried only the first ones, so that the
        stored document (and AC's order) holds every product; capped like the canonical event's items."""
        items = node.get("lineItems")
        if not isinstance(items, dict) or not isinstance(items.get("nodes"), list):
            return
        lines, info = items["nodes"], items.get("pageInfo") or {}
        after = info.get("endCursor") if info.get("hasNextPage") else None
        document = queries.MORE_LINE_ITEMS["Order" if phase == "orders" else "AbandonedCheckout"]
        size = queries.MORE_LINE_ITEMS_PAGE
        while isinstance(after, str) and isinstance(node.get("id"), str) and len(lines) < MAX_LINE_ITEMS:
            variables = {"id": node["id"], "first": size, "after": after}
            data = self.admin.query(document, variables, cost=queries.more_line_items_cost(size))
            more = (data.get("node") or {}).get("lineItems") or {}
            page = [n for n in more.get("nodes") or [] if isinstance(n, dict)]
            lines.extend(page)
            info = more.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") and page else None
        items["pageInfo"] = {"hasNextPage": isinstance(after, str), "endCursor": after}

    def restate(self, document: dict[str, Any], topic: str) -> StoreState | None:
        if topic == "checkouts/update":
            return self._checkout_state(document)
        if topic == "refunds/create":
            order_id = _scalar((document.get("order") or {}).get("legacyResourceId"))
            return self._refund_state(document, order_id) if order_id else None
        return next((s for s in self._order_states(document) if s.topic == topic), None)

    def _states(self, phase: str, node: dict[str, Any]) -> list[StoreState]:
        return self._order_states(node) if phase == "orders" else [self._checkout_state(node)]

    def order_states(self, node: dict[str, Any]) -> list[StoreState]:
        """The states one GraphQL order node shows (paid or cancelled, and each refund)."""
        return self._order_states(node)

    def _order_states(self, node: dict[str, Any]) -> list[StoreState]:
        shop = self.settings.shopify_shop_domain
        order_id = _scalar(node.get("legacyResourceId")) or schemas.legacy_id(node.get("id"))
        states: list[StoreState] = []
        kind = schemas.order_kind(node)
        if kind is not None:
            key = order_key(shop, kind, order_id, _scalar(node.get("updatedAt"))) or _fallback(shop, node)
            candidate, errors = mapped(lambda: schemas.order_candidate(node, shop, kind))
            topic = "orders/cancelled" if kind == "order.cancelled" else "orders/paid"
            state = self._state(topic, kind, key, node, candidate, errors, node.get("updatedAt"))
            states.append(replace(state, once_per_order=True))
        for refund in node.get("refunds") or []:
            if isinstance(refund, dict) and order_id:
                # Stored with its order's id (GraphQL's `Refund.order`), so the body alone can be replayed.
                document = {**refund, "order": {"legacyResourceId": str(order_id)}}
                states.append(self._refund_state(document, order_id, node.get("updatedAt")))
        return states

    def _refund_state(self, refund: dict[str, Any], order_id: str | int, fallback_time: Any = None) -> StoreState:
        shop = self.settings.shopify_shop_domain
        key = refund_key(shop, _scalar(refund.get("legacyResourceId"))) or _fallback(shop, refund)
        candidate, errors = mapped(lambda: schemas.refund_candidate(refund, str(order_id), shop))
        when = refund.get("createdAt") or fallback_time
        return self._state("refunds/create", "order.refunded", key, refund, candidate, errors, when)

    def _checkout_state(self, node: dict[str, Any]) -> StoreState:
        shop = self.settings.shopify_shop_domain
        token = schemas.checkout_token(node.get("abandonedCheckoutUrl")) or schemas.legacy_id(node.get("id"))
        key = checkout_key(shop, token, _scalar(node.get("updatedAt"))) or _fallback(shop, node)
        if token:
            candidate, errors = mapped(lambda: schemas.checkout_candidate(node, shop, token))
        else:
            candidate, errors = None, {"abandonedCheckoutUrl": ["No checkout token in it, and no numeric id."]}
        return self._state("checkouts/update", "checkout.updated", key, node, candidate, errors, node.get("updatedAt"))

    def _state(
        self,
        topic: str,
        kind: str,
        key: str,
        document: dict[str, Any],
        candidate: dict[str, Any] | None,
        errors: dict[str, Any] | None,
        changed: Any,
    ) -> StoreState:
        return StoreState(
            source=self.name,
            topic=topic,
            kind=kind,
            dedupe_key=key,
            store=self.settings.shopify_shop_domain,
            document=document,
            candidate=candidate,
            errors=errors,
            changed_at=_moment(changed),
        )


def _iso(moment: datetime) -> str:
    return key_time(moment) or moment.isoformat()


def _scalar(value: Any) -> str | int | None:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _moment(value: Any) -> datetime:
    text = key_time(value)
    return parse_datetime(text) if text else parse_datetime("1970-01-01T00:00:00Z")


def _fallback(shop: str | None, node: dict[str, Any]) -> str:
    """An identity for a node without the fields the webhook identity needs (it is quarantined anyway)."""
    return dedupe_key("shopify", shop, "api", _scalar(node.get("id")), _scalar(node.get("updatedAt")))
