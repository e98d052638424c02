"""The store API settings (spec §13): the shop as a domain or a full base URL, pairs that go together,
defaults, and which readers are configured."""

from __future__ import annotations

import pytest

from bridge.errors import SettingsError
from bridge.platforms import build_readers
from bridge.settings import load_settings


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({"BRIDGE_DATABASE_URL": "sqlite:///x.db", **env}, env_file=None)


@pytest.mark.parametrize(
    ("shop", "base", "identity"),
    [
        ("acme.myshopify.com", "https://acme.myshopify.com", "acme.myshopify.com"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000", "127.0.0.1:9000"),
        ("https://acme.myshopify.com/", "https://acme.myshopify.com", "acme.myshopify.com"),
    ],
)
def test_the_shop_is_a_domain_or_a_base_url_used_as_is(shop: str, base: str, identity: str) -> None:
    loaded = settings(BRIDGE_SHOPIFY_SHOP=shop, BRIDGE_SHOPIFY_ADMIN_TOKEN="shpat_x")
    assert (loaded.shopify_base_url, loaded.shopify_shop_domain) == (base, identity)


def test_defaults() -> None:
    loaded = settings()
    assert (loaded.reconcile_interval, loaded.reconcile_live_window) == (900.0, 86400.0)
    assert loaded.shopify_api_version == "2026-10"
    assert build_readers(loaded) == {}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BRIDGE_SHOPIFY_SHOP": "acme.myshopify.com"}, "BRIDGE_SHOPIFY_ADMIN_TOKEN"),
        ({"BRIDGE_SHOPIFY_ADMIN_TOKEN": "shpat_x"}, "BRIDGE_SHOPIFY_SHOP"),
        ({"BRIDGE_SHOPIFY_SHOP": "not a shop", "BRIDGE_SHOPIFY_ADMIN_TOKEN": "x"}, "BRIDGE_SHOPIFY_SHOP"),
        ({"BRIDGE_WOOCOMMERCE_KEY": "ck", "BRIDGE_WOOCOMMERCE_KEY_SECRET": "cs"}, "BRIDGE_WOOCOMMERCE_URL"),
        (
            {"BRIDGE_WOOCOMMERCE_URL": "https://w.example", "BRIDGE_WOOCOMMERCE_KEY": "ck"},
            "BRIDGE_WOOCOMMERCE_KEY_SECRET",
        ),
        ({"BRIDGE_RECONCILE_INTERVAL": "-1"}, "BRIDGE_RECONCILE_INTERVAL"),
        ({"BRIDGE_SHOPIFY_API_VERSION": "latest"}, "BRIDGE_SHOPIFY_API_VERSION"),
    ],
)
def test_bad_or_incomplete_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings(**env)
    assert named in str(caught.value)


def test_readers_are_built_for_complete_settings_only() -> None:
    loaded = settings(
        BRIDGE_SHOPIFY_SHOP="acme.myshopify.com",
        BRIDGE_SHOPIFY_ADMIN_TOKEN="shpat_x",
        BRIDGE_WOOCOMMERCE_URL="https://w.example/",
        BRIDGE_WOOCOMMERCE_KEY="ck",
        BRIDGE_WOOCOMMERCE_KEY_SECRET="cs",
        BRIDGE_ECART_TOKEN="t",  # EcartAPI only as a destination: its orders are not read
    )
    assert sorted(build_readers(loaded)) == ["shopify", "woocommerce"]
    assert loaded.woocommerce_url == "https://w.example"
    both = settings(BRIDGE_ECART_TOKEN="t", BRIDGE_ECARTAPI_WEBHOOK_TOKEN="w")
    assert sorted(build_readers(both)) == ["ecartapi"]
    assert "shpat_x" not in repr(loaded) and "woocommerce_key" not in repr(loaded)
