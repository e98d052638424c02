"""The EcartAPI orders reader against the strict fake over real HTTP: `page.next`, both bounds, auth errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.errors import PermanentError
from bridge.platforms.ecartapi.reader import EcartAPIReader
from bridge.settings import Settings
from tests.fakes.ecartapi import FakeEcartAPI
from tests.helpers.store_data import ecart_order

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_ecartapi_follows_page_next_with_both_bounds(store_settings: Settings, ecart_api: FakeEcartAPI) -> None:
    for i in range(150):
        order = ecart_order(f"59{i:011d}", START + timedelta(minutes=i))
        ecart_api.seed_order(order.pop("id"), **order)
    reader = EcartAPIReader(store_settings)
    pages = list(reader.pages(START - timedelta(hours=1), START + timedelta(days=1)))
    assert [len(p.states) for p in pages] == [100, 50]
    calls = ecart_api.calls("GET", "/api/v2/orders")
    assert calls[0].query["updatedAt[from]"] == "2026-11-01T11:00:00Z"
    assert calls[0].query["updatedAt[to]"] == "2026-11-02T12:00:00Z"
    assert "page" not in calls[0].query and calls[1].query["page"] == pages[0].resume["page"]


def test_ecartapi_follows_page_next_given_as_a_url(store_settings: Settings, ecart_api: FakeEcartAPI) -> None:
    ecart_api.next_as_url = True
    for i in range(120):
        order = ecart_order(f"59{i:011d}", START + timedelta(minutes=i))
        ecart_api.seed_order(order.pop("id"), **order)
    pages = list(EcartAPIReader(store_settings).pages(START - timedelta(hours=1), START + timedelta(days=1)))
    assert [len(p.states) for p in pages] == [100, 20]
    second = ecart_api.calls("GET", "/api/v2/orders")[1]
    assert second.query["updatedAt[from]"] == "2026-11-01T11:00:00Z" and "page" in second.query


def test_ecartapi_bad_token_is_a_permanent_error(store_settings: Settings, ecart_api: FakeEcartAPI) -> None:
    ecart_api.token = "other"
    with pytest.raises(PermanentError):
        list(EcartAPIReader(store_settings).pages(START, None))
