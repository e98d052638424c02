"""Fixtures of the store API tests: the strict fakes on loopback, settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.settings import Settings
from tests.fakes.ecartapi import FakeEcartAPI
from tests.fakes.fixtures import serve
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers.env import make_settings


@pytest.fixture
def shopify_admin() -> Iterator[FakeShopifyAdmin]:
    yield from serve(FakeShopifyAdmin(restore_rate=2000.0))


@pytest.fixture
def woo_api() -> Iterator[FakeWooCommerce]:
    yield from serve(FakeWooCommerce())


@pytest.fixture
def ecart_api() -> Iterator[FakeEcartAPI]:
    yield from serve(FakeEcartAPI())


@pytest.fixture
def store_settings(
    tmp_path: Path, shopify_admin: FakeShopifyAdmin, woo_api: FakeWooCommerce, ecart_api: FakeEcartAPI
) -> Settings:
    return make_settings(
        tmp_path / "bridge.db",
        BRIDGE_SHOPIFY_SHOP=shopify_admin.url,
        BRIDGE_SHOPIFY_ADMIN_TOKEN=shopify_admin.token,
        BRIDGE_WOOCOMMERCE_URL=woo_api.url,
        BRIDGE_WOOCOMMERCE_KEY=woo_api.key,
        BRIDGE_WOOCOMMERCE_KEY_SECRET=woo_api.secret,
        BRIDGE_ECART_URL=ecart_api.url,
        BRIDGE_ECART_TOKEN=ecart_api.token,
        BRIDGE_HTTP_TIMEOUT="5",
    )
