"""The store platforms: each folder holds one platform's webhook adapter (a `Source`) and, where the platform
has an API the bridge reads, its store-API reader (a `StoreReader`). Adding a platform: a folder beside these
and one line in each registry below."""

from __future__ import annotations

from bridge.platforms.adapter import Ignored, Inbound, Interpreted, Source
from bridge.platforms.custom import CustomSource
from bridge.platforms.ecartapi import EcartAPISource
from bridge.platforms.ecartapi.reader import EcartAPIReader
from bridge.platforms.reader import Page, StoreReader, StoreState
from bridge.platforms.shopify import ShopifySource
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.platforms.woocommerce import WooCommerceSource
from bridge.platforms.woocommerce.reader import WooCommerceReader
from bridge.settings_core import CoreSettings

SOURCES: dict[str, type[Source]] = {
    "shopify": ShopifySource,
    "woocommerce": WooCommerceSource,
    "ecartapi": EcartAPISource,
    "custom": CustomSource,
}

READERS: dict[str, type[StoreReader]] = {
    "shopify": ShopifyReader,
    "woocommerce": WooCommerceReader,
    "ecartapi": EcartAPIReader,
}


def build_sources(settings: CoreSettings) -> dict[str, Source]:
    """One configured instance of every source."""
    return {name: cls(settings) for name, cls in SOURCES.items()}


def build_readers(settings: CoreSettings) -> dict[str, StoreReader]:
    """One reader per platform whose API settings are complete."""
    readers = {name: cls(settings) for name, cls in READERS.items()}
    return {name: reader for name, reader in readers.items() if reader.configured}


__all__ = [
    "READERS",
    "SOURCES",
    "Ignored",
    "Inbound",
    "Interpreted",
    "Page",
    "Source",
    "StoreReader",
    "StoreState",
    "build_readers",
    "build_sources",
]
