"""The WooCommerce REST API reader against the strict fake over real HTTP: pages, GMT filters, auth errors,
429 waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.errors import PermanentError
from bridge.platforms.adapter import store_url
from bridge.platforms.woocommerce.adapter import order_key as woo_key
from bridge.platforms.woocommerce.reader import WooCommerceReader
from bridge.settings import Settings
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers.store_data import woo_order

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_woocommerce_pages_by_total_pages_in_gmt(store_settings: Settings, woo_api: FakeWooCommerce) -> None:
    for i in range(230):
        woo_api.add_order(woo_order(1000 + i, "processing", START + timedelta(minutes=i)))
    woo_api.add_order(woo_order(2000, "processing", START - timedelta(days=2)))  # before the range
    woo_api.add_order(woo_order(2001, "draft", START + timedelta(minutes=1)))  # a status webhooks ignore too
    reader = WooCommerceReader(store_settings)
    pages = list(reader.pages(START - timedelta(hours=1), None))
    assert [len(p.states) for p in pages] == [100, 100, 30]
    calls = woo_api.calls("GET")
    assert [c.query["page"] for c in calls] == ["1", "2", "3"]
    assert calls[0].query["dates_are_gmt"] == "true" and calls[0].query["modified_after"] == "2026-11-01T11:00:00"
    assert calls[0].query["per_page"] == "100"
    state = pages[0].states[0]
    # The webhook's X-WC-Webhook-Source ends with a slash; the setting does not: one identity.
    assert state.dedupe_key == woo_key(woo_api.url + "/", 1000, "processing", "2026-11-01T12:00:00")
    assert state.store == store_url(woo_api.url) + "/"


def test_woocommerce_bad_key_is_a_permanent_error(store_settings: Settings, woo_api: FakeWooCommerce) -> None:
    woo_api.secret = "cs_other"
    with pytest.raises(PermanentError) as caught:
        list(WooCommerceReader(store_settings).pages(START, None))
    assert caught.value.status == 401 and "woocommerce_rest_authentication_error" in (caught.value.body or "")


def test_woocommerce_429_waits_for_retry_after(store_settings: Settings, woo_api: FakeWooCommerce) -> None:
    woo_api.add_order(woo_order(1, "completed", START))
    woo_api.force_429(retry_after=1)
    waits: list[float] = []
    reader = WooCommerceReader(store_settings, sleep=waits.append)
    assert len([s for p in reader.pages(START - timedelta(hours=1), None) for s in p.states]) == 1
    assert waits == [1.0]
