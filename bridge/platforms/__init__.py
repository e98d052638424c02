"""The store platforms: each folder holds one platform's webhook adapter (a `Source`), its store-API reader (a
`StoreReader`) where the platform has an API the bridge reads, and the `Platform` it declares itself by
(bridge/platforms/platform.py). Adding a platform: a folder beside these and one line in PLATFORMS below; the
rest of the bridge loops over PLATFORMS and asks each one, and never names a platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge.platforms import custom, ecartapi, shopify, woocommerce
from bridge.platforms.adapter import Ignored, Inbound, Recognised, Source
from bridge.platforms.platform import Platform
from bridge.platforms.reader import Page, StoreReader, StoreState

if TYPE_CHECKING:
    from bridge.settings import Settings
    from bridge.settings_core import CoreSettings
    from bridge.storage import Database, EventRecord


def _registry(*platforms: Platform) -> dict[str, Platform]:
    for platform in platforms:
        if platform.source.name != platform.name:  # one name: the endpoint, the stored source, the registry key
            raise ValueError(f"{platform.name}: its Source is named {platform.source.name!r}")
    return {platform.name: platform for platform in platforms}


#: Every platform, in the order lists show them (the OpenAPI document, `check`, the home page).
PLATFORMS: dict[str, Platform] = _registry(shopify.PLATFORM, woocommerce.PLATFORM, ecartapi.PLATFORM, custom.PLATFORM)

#: Views of PLATFORMS: the webhook adapters by name, and the store-API readers of the platforms that have one.
SOURCES: dict[str, type[Source]] = {name: platform.source for name, platform in PLATFORMS.items()}
READERS: dict[str, type[StoreReader]] = {
    name: platform.reader for name, platform in PLATFORMS.items() if platform.reader is not None
}
#: The kinds a platform's privacy requests are stored as (carried out by the worker, never delivered).
COMPLIANCE_KINDS: frozenset[str] = frozenset(
    kind for platform in PLATFORMS.values() if platform.compliance for kind in platform.compliance.kinds
)


def build_sources(settings: CoreSettings) -> dict[str, Source]:
    """One configured instance of every source."""
    return {name: cls(settings) for name, cls in SOURCES.items()}


def build_readers(settings: CoreSettings) -> dict[str, StoreReader]:
    """One reader per platform whose API settings are complete."""
    readers = {name: cls(settings) for name, cls in READERS.items()}
    return {name: reader for name, reader in readers.items() if reader.configured}


def compliance_handler(kind: str | None) -> Callable[[Database, EventRecord], str] | None:
    """What carries out a stored privacy request of this kind, or None for an ordinary event."""
    for platform in PLATFORMS.values():
        if platform.compliance and kind in platform.compliance.kinds:
            return platform.compliance.carry_out
    return None


def own_stores(settings: Settings) -> tuple[str, ...]:
    """The stores the settings name as the shop's own (as their webhooks name them): what `setup` sets up
    without --store, before any event arrived."""
    apis = (p.store_api for p in PLATFORMS.values() if p.store_api and p.store_api.own_store)
    return tuple(store for api in apis if api.own_store and (store := api.own_store(settings)))


def own_store_hint() -> tuple[str, str]:
    """(the variables naming a shop's own store, joined with "and"; an example store) for help texts."""
    apis = [p.store_api for p in PLATFORMS.values() if p.store_api and p.store_api.own_store]
    example = next((api.own_store_example for api in apis if api.own_store_example), "your-store.example")
    return " and ".join(api.variable for api in apis), example


def titles() -> str:
    """Every platform as people write it, for a sentence: `Shopify, WooCommerce, EcartAPI, custom`."""
    return ", ".join(platform.title for platform in PLATFORMS.values())


def webhook_secrets(settings: Settings) -> tuple[str, ...]:
    """Every platform's configured webhook secrets (tokens), in registry order."""
    return tuple(secret for platform in PLATFORMS.values() for secret in platform.webhook_secrets(settings))


__all__ = [
    "COMPLIANCE_KINDS",
    "PLATFORMS",
    "READERS",
    "SOURCES",
    "Ignored",
    "Inbound",
    "Page",
    "Platform",
    "Recognised",
    "Source",
    "StoreReader",
    "StoreState",
    "build_readers",
    "build_sources",
    "compliance_handler",
    "own_store_hint",
    "own_stores",
    "titles",
    "webhook_secrets",
]
