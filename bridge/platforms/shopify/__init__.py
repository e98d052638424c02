"""Shopify: HMAC-signed webhooks for checkouts, paid/cancelled orders and refunds; the Admin GraphQL API for
backfill and reconciliation; the compliance topics (README.md in this folder says what to register)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.platforms.platform import Compliance, Platform, SendDefaults, StoreAPI
from bridge.platforms.shopify import compliance
from bridge.platforms.shopify.adapter import TOPIC_KINDS, ShopifySource
from bridge.platforms.shopify.openapi import OPENAPI
from bridge.platforms.shopify.order_facts import ORDER_FACTS
from bridge.platforms.shopify.reader import ShopifyReader

if TYPE_CHECKING:
    from bridge.check_calls import Check
    from bridge.settings import Settings


def _check_api(settings: Settings) -> Check | None:
    from bridge.platforms.shopify.check import check_api  # the check lines need the whole settings: loaded when run

    return check_api(settings)


def _cleartext(settings: Settings) -> tuple[str, str | None, str]:
    url = settings.shopify_base_url if settings.shopify_admin_token else None
    return ("BRIDGE_SHOPIFY_SHOP", url, "the Shopify admin token")


PLATFORM = Platform(
    name="shopify",
    title="Shopify",
    source=ShopifySource,
    reader=ShopifyReader,
    signing_variable="BRIDGE_SHOPIFY_SECRET",
    webhook_secrets=lambda settings: settings.shopify_secrets,
    secret_headers=("X-Shopify-Hmac-Sha256",),
    openapi=OPENAPI,
    order_facts=ORDER_FACTS,
    order_id_paths=(("order_id",), ("id",)),
    send=SendDefaults(topic_separator="/", handled_topics=tuple(TOPIC_KINDS), store_help="shop domain (Shopify)"),
    store_api=StoreAPI(
        variable="BRIDGE_SHOPIFY_SHOP",
        configured=lambda settings: bool(settings.shopify_shop),
        check=_check_api,
        cleartext=_cleartext,
        own_store=lambda settings: settings.shopify_shop_domain,
        own_store_example="your-shop.myshopify.com",
    ),
    compliance=Compliance(kinds=compliance.KINDS, carry_out=compliance.carry_out),
)

__all__ = ["PLATFORM", "ShopifySource"]
