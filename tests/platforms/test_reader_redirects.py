"""The store API readers never follow a redirect: the store's credentials (Shopify's access token, WooCommerce's
key pair, EcartAPI's token) would go to wherever `Location` points. The read fails at once, naming the
`Location`, without waiting out retries (a mis-set URL does not fix itself in seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.errors import RedirectRefused
from bridge.platforms.ecartapi.reader import EcartAPIReader
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.platforms.woocommerce.reader import WooCommerceReader
from bridge.settings import Settings
from tests.fakes.elsewhere import FakeElsewhere
from tests.fakes.fixtures import serve

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
READERS = {"shopify": ShopifyReader, "woocommerce": WooCommerceReader, "ecartapi": EcartAPIReader}


@pytest.fixture
def elsewhere() -> Iterator[FakeElsewhere]:
    yield from serve(FakeElsewhere())


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("name", sorted(READERS))
def test_a_store_api_redirect_is_refused_without_sending_the_credentials_elsewhere(
    store_settings: Settings, shopify_admin, woo_api, ecart_api, elsewhere: FakeElsewhere, name: str, status: int
) -> None:
    fake = {"shopify": shopify_admin, "woocommerce": woo_api, "ecartapi": ecart_api}[name]
    location = f"{elsewhere.url}/collect"
    fake.fail_next(status, count=10, headers={"Location": location})
    waits: list[float] = []
    with pytest.raises(RedirectRefused) as caught:
        list(READERS[name](store_settings, sleep=waits.append).pages(START, None))

    assert (caught.value.status, caught.value.location) == (status, location)
    assert f"redirect to {location} not followed" in caught.value.message
    assert [c.status for c in fake.calls()] == [status], "retried, or followed"
    assert waits == []
    assert elsewhere.requests == [], f"the redirect was followed: {elsewhere.credentials_seen()}"
