"""End-to-end fixtures of backfill and reconciliation: the store API fakes, AC and EcartAPI fakes, settings
pointing at all of them, the in-process worker. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.activecampaign import FakeActiveCampaign
from tests.fakes.fixtures import fake_ecart, serve, serve_ac  # noqa: F401
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers.backends import database_url  # noqa: F401
from tests.helpers.delivery_fixtures import (  # noqa: F401
    delivery_env,
    settings,
    start_worker,
    worker,
)


@pytest.fixture
def fake_ac() -> Iterator[FakeActiveCampaign]:
    """AC without its 5 req/s limit: a backfill of hundreds of orders must not take minutes in a test (the
    bench measures the real budget)."""
    yield from serve_ac(rate=None)


@pytest.fixture
def shopify_admin() -> Iterator[FakeShopifyAdmin]:
    yield from serve(FakeShopifyAdmin(restore_rate=2000.0))


@pytest.fixture
def woo_api() -> Iterator[FakeWooCommerce]:
    yield from serve(FakeWooCommerce())


@pytest.fixture
def extra_env() -> dict[str, str]:
    """Per-test additions (override in a module)."""
    return {}


@pytest.fixture
def env_overrides(
    shopify_admin: FakeShopifyAdmin, woo_api: FakeWooCommerce, extra_env: dict[str, str]
) -> dict[str, str | None]:
    return {
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_AC_RATE": "200",
        "BRIDGE_SHOPIFY_SHOP": shopify_admin.url,
        "BRIDGE_SHOPIFY_ADMIN_TOKEN": shopify_admin.token,
        "BRIDGE_WOOCOMMERCE_URL": woo_api.url,
        "BRIDGE_WOOCOMMERCE_KEY": woo_api.key,
        "BRIDGE_WOOCOMMERCE_KEY_SECRET": woo_api.secret,
        "BRIDGE_RECONCILE_INTERVAL": "0",
        **extra_env,
    }
