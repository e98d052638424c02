"""`storebridge check` on the store side: the configuration itself (unknown variables), which sources can
authenticate webhooks (a platform without its secret is a warning: every webhook it sends is answered 401),
and one cheap read with each store API credential that is set (each platform's own check: a bad admin token
should show now, not as a failed reconciliation 15 minutes later)."""

from __future__ import annotations

from bridge.check_calls import Check
from bridge.platforms import PLATFORMS
from bridge.settings import Settings


def check_settings(settings: Settings) -> list[Check]:
    """A warning for each configuration problem that does not stop start-up (an unknown BRIDGE_* variable)."""
    return [Check("settings", True, warning, warn=True) for warning in settings.warnings]


def _stores_without_secret(settings: Settings) -> list[str]:
    """Platforms whose store API is configured (so the shop is clearly on it) but whose webhooks have no
    secret: the reconciliation reads the orders, but every webhook of theirs is refused."""
    return [
        name
        for name, platform in PLATFORMS.items()
        if platform.store_api and platform.store_api.configured(settings) and not platform.webhook_secrets(settings)
    ]


def check_sources(settings: Settings) -> list[Check]:
    """Which sources can authenticate webhooks: a warning when none can, or when a store whose API is set up
    has no webhook secret."""
    names = settings.sources_with_secrets
    if not names:
        variables = ", ".join(platform.signing_variable for platform in PLATFORMS.values())
        detail = f"no webhook secret set: every webhook is answered 401 (set one of {variables})"
        return [Check("sources", True, detail, warn=True)]
    checks = [Check("sources", True, f"accepting {', '.join(names)}")]
    for name in _stores_without_secret(settings):
        detail = f"{PLATFORMS[name].signing_variable} is not set: every {name} webhook is answered 401"
        checks.append(Check(f"{name} webhooks", True, detail, warn=True))
    return checks


def check_store_apis(settings: Settings) -> list[Check]:
    """One line per store API whose credentials are set."""
    checks = (p.store_api.check(settings) for p in PLATFORMS.values() if p.store_api and p.store_api.check)
    return [c for c in checks if c is not None]
