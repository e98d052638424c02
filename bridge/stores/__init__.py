"""Readers of the stores' own APIs (spec §13), for backfill and reconciliation. Adding a platform: a folder
beside these with a `StoreReader` subclass, and one line here."""

from __future__ import annotations

from bridge.settings import Settings
from bridge.stores.base import Page, StoreReader, StoreState
from bridge.stores.ecartapi.reader import EcartAPIReader
from bridge.stores.shopify.reader import ShopifyReader
from bridge.stores.woocommerce.reader import WooCommerceReader

READERS: dict[str, type[StoreReader]] = {
    "shopify": ShopifyReader,
    "woocommerce": WooCommerceReader,
    "ecartapi": EcartAPIReader,
}


def build_readers(settings: Settings) -> dict[str, StoreReader]:
    """One reader per platform whose API settings are complete."""
    readers = {name: cls(settings) for name, cls in READERS.items()}
    return {name: reader for name, reader in readers.items() if reader.configured}


__all__ = ["READERS", "Page", "StoreReader", "StoreState", "build_readers"]
