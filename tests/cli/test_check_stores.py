"""`storebridge check` and `setup` on the store side, through the real command against the strict fakes on
loopback: each store API credential that is set is tried with one cheap read, a failure says its cause in
words, a missing webhook secret is a warning (exit 0, "ok, with N warnings"), and `setup` sets up the
connection of BRIDGE_SHOPIFY_SHOP without being told the store."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import fixtures as fakes
from tests.fakes.fixtures import serve
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers.delivery import run_cli

fake_ac = fakes.fake_ac


@pytest.fixture
def shopify_admin() -> Iterator[FakeShopifyAdmin]:
    yield from serve(FakeShopifyAdmin(restore_rate=2000.0))


@pytest.fixture
def woo_api() -> Iterator[FakeWooCommerce]:
    yield from serve(FakeWooCommerce())


@pytest.fixture
def store_env(tmp_path: Path, shopify_admin: FakeShopifyAdmin, woo_api: FakeWooCommerce) -> dict[str, str]:
    """Both store APIs set up, with their webhook secrets; nothing live (EcartAPI unused is its own test)."""
    env = {
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
        "BRIDGE_SHOPIFY_SECRET": "shpss_test",
        "BRIDGE_WOOCOMMERCE_SECRET": "wc_test",
        "BRIDGE_SHOPIFY_SHOP": shopify_admin.url,
        "BRIDGE_SHOPIFY_ADMIN_TOKEN": shopify_admin.token,
        "BRIDGE_WOOCOMMERCE_URL": woo_api.url,
        "BRIDGE_WOOCOMMERCE_KEY": woo_api.key,
        "BRIDGE_WOOCOMMERCE_KEY_SECRET": woo_api.secret,
        "BRIDGE_HTTP_TIMEOUT": "5",
    }
    migrated = run_cli(["db", "upgrade"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    return env


def check(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, str], list[str]]:
    """Exit status, each line by its name (`name: label - detail` -> name: "label - detail"), all lines."""
    done = run_cli(["check"], env, cwd)
    assert "Traceback" not in done.stderr, done.stderr
    out = done.stdout.splitlines()
    return done.returncode, {line.partition(": ")[0]: line.partition(": ")[2] for line in out}, out


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_store_credentials_are_read_once_each(store_env, shopify_admin, woo_api, tmp_path):
    status, lines, out = check(store_env, tmp_path)
    assert status == 0, out
    assert lines["shopify admin API"] == f"ok - token accepted by {shopify_admin.shop_domain} (orders readable)"
    assert lines["woocommerce API"] == f"ok - keys accepted by {woo_api.url} (orders readable)"
    assert [(r.method, r.path, r.status) for r in shopify_admin.requests] == [
        ("POST", "/admin/api/2026-10/graphql.json", 200)
    ]
    assert [(r.method, r.path, r.query.get("per_page"), r.status) for r in woo_api.requests] == [
        ("GET", "/wp-json/wc/v3/orders", "1", 200)
    ]
    assert out[-1] == "ok", out


def test_rejected_credentials_say_so_with_the_stores_words(store_env, tmp_path):
    env = {**store_env, "BRIDGE_SHOPIFY_ADMIN_TOKEN": "shpat_wrong_1234", "BRIDGE_WOOCOMMERCE_KEY_SECRET": "cs_wrong"}
    status, lines, out = check(env, tmp_path)
    assert status == 1, out
    assert lines["shopify admin API"] == (
        "FAILED - BRIDGE_SHOPIFY_ADMIN_TOKEN rejected: HTTP 401 token rejected: "
        "[API] Invalid API key or access token (unrecognized login or wrong password)"
    )
    assert lines["woocommerce API"] == (
        "FAILED - BRIDGE_WOOCOMMERCE_KEY / BRIDGE_WOOCOMMERCE_KEY_SECRET rejected: HTTP 401 token rejected: "
        "Consumer secret is invalid."
    )
    assert out[-1] == "FAILED: 2 errors, 0 warnings", out
    assert "shpat_wrong_1234" not in "\n".join(out) and "cs_wrong" not in "\n".join(out), "a secret was printed"


def test_unreachable_stores_name_the_cause(store_env, tmp_path):
    port = closed_port()
    env = {
        **store_env,
        "BRIDGE_SHOPIFY_SHOP": "https://no-such-shop.invalid",
        "BRIDGE_WOOCOMMERCE_URL": f"http://127.0.0.1:{port}",
    }
    status, lines, out = check(env, tmp_path)
    assert status == 1, out
    assert lines["shopify admin API"] == "FAILED - cannot resolve host no-such-shop.invalid"
    assert lines["woocommerce API"] == "FAILED - connection refused by 127.0.0.1"


def test_a_store_answering_500_is_named_with_its_status_in_words(store_env, shopify_admin, tmp_path):
    shopify_admin.fail_next(503, path_prefix="/admin/api/")
    status, lines, out = check(store_env, tmp_path)
    assert status == 1, out
    assert lines["shopify admin API"] == "FAILED - HTTP 503 service unavailable: Injected error 503"


def test_a_missing_webhook_secret_is_a_warning_not_ok(store_env, tmp_path):
    env = {k: v for k, v in store_env.items() if k != "BRIDGE_WOOCOMMERCE_SECRET"}
    status, lines, out = check(env, tmp_path)
    assert status == 0, out
    assert lines["sources"] == "ok - accepting shopify"
    assert lines["woocommerce webhooks"] == (
        "WARNING - BRIDGE_WOOCOMMERCE_SECRET is not set: every woocommerce webhook is answered 401"
    )
    assert out[-1] == "ok, with 1 warning", out

    none = {k: v for k, v in env.items() if k != "BRIDGE_SHOPIFY_SECRET"}
    status, lines, out = check(none, tmp_path)
    assert status == 0, out
    assert lines["sources"].startswith("WARNING - no webhook secret set: every webhook is answered 401"), out
    assert "BRIDGE_SHOPIFY_SECRET" in lines["sources"]


def test_setup_sets_up_the_shop_named_by_bridge_shopify_shop(fake_ac, shopify_admin, tmp_path):
    shop = shopify_admin.shop_domain  # the shop's identity as its webhooks carry it (here host:port)
    env = {
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_SHOPIFY_SHOP": shopify_admin.url,
        "BRIDGE_SHOPIFY_ADMIN_TOKEN": shopify_admin.token,
        "BRIDGE_SHOPIFY_SECRET": "shpss_test",
    }
    done = run_cli(["setup"], env, tmp_path)
    out = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert out[0] == f"activecampaign: store {shop} -> connection 2", out
    assert [(c["id"], c["service"]) for c in fake_ac.connections(externalid=shop)] == [("2", "storebridge")]
    assert f"shopify admin API: ok - token accepted by {shop} (orders readable)" in out
    # No EcartAPI token and AC live: EcartAPI is not used, so setup says nothing about it.
    assert not [line for line in out if line.startswith("ecartapi")], out
