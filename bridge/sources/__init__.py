"""The webhook sources. Adding a platform: a folder beside these with a `Source` subclass, and one line here."""

from __future__ import annotations

from bridge.settings import Settings
from bridge.sources.base import Ignored, Inbound, Interpreted, Source
from bridge.sources.custom import CustomSource
from bridge.sources.ecartapi import EcartAPISource
from bridge.sources.shopify import ShopifySource
from bridge.sources.woocommerce import WooCommerceSource

SOURCES: dict[str, type[Source]] = {
    "shopify": ShopifySource,
    "woocommerce": WooCommerceSource,
    "ecartapi": EcartAPISource,
    "custom": CustomSource,
}


def build_sources(settings: Settings) -> dict[str, Source]:
    """One configured instance of every source."""
    return {name: cls(settings) for name, cls in SOURCES.items()}


__all__ = ["SOURCES", "Ignored", "Inbound", "Interpreted", "Source", "build_sources"]
