"""Settings and environments for tests."""

from __future__ import annotations

from pathlib import Path

from bridge.settings import Settings, load_settings
from tests.helpers import signing

#: Each platform's tests, with its fixtures in `<platform>/fixtures/`.
PLATFORM_TESTS = Path(__file__).resolve().parents[1] / "platforms"


def base_env(db_path: Path, **overrides: str) -> dict[str, str]:
    """A complete BRIDGE_* environment for tests: every source configured with two secrets, destinations off."""
    env = {
        "BRIDGE_DATABASE_URL": f"sqlite:///{db_path}",
        "BRIDGE_SHOPIFY_SECRET": f"{signing.SHOPIFY_SECRET},{signing.SHOPIFY_SECRET_ROTATED}",
        "BRIDGE_WOOCOMMERCE_SECRET": f"{signing.WOO_SECRET},{signing.WOO_SECRET_ROTATED}",
        "BRIDGE_ECARTAPI_WEBHOOK_TOKEN": f"{signing.ECART_TOKEN},{signing.ECART_TOKEN_ROTATED}",
        "BRIDGE_WEBHOOK_SECRET": f"{signing.CUSTOM_SECRET},{signing.CUSTOM_SECRET_ROTATED}",
        "BRIDGE_LOG_LEVEL": "WARNING",
        # Deep Data calls only, so tests about orders and carts see exactly those: the contact and net-revenue
        # tests (tests/delivery/test_ac_parity*.py) turn these back to their defaults (on, net).
        "BRIDGE_AC_CONTACT_SYNC": "off",
        "BRIDGE_AC_REVENUE": "gross",
        # Today's v3 order calls, which most delivery tests assert; the GraphQL order tests
        # (tests/delivery/test_ac_graphql*.py) set `graphql`, the default.
        "BRIDGE_AC_ORDER_API": "v3",
    }
    env.update(overrides)
    return env


def make_settings(db_path: Path, **overrides: str) -> Settings:
    """Settings built the way the service builds them, from a BRIDGE_* mapping (no .env file)."""
    return load_settings(base_env(db_path, **overrides), env_file=None)


def fixture_path(platform: str, name: str = "") -> Path:
    """A platform's fixture file, or without a name its fixtures folder: tests/platforms/<platform>/fixtures/
    (`shopify/graphql` is the `graphql/` folder among Shopify's fixtures)."""
    platform, _, within = platform.partition("/")
    folder = PLATFORM_TESTS / platform / "fixtures" / within
    return folder / name if name else folder


def fixture(platform: str, name: str) -> bytes:
    """The exact bytes of a fixture file."""
    return fixture_path(platform, name).read_bytes()
