"""WooCommerce: core `order.created` / `order.updated` webhooks, signed with the webhook secret; the REST API
(v3) for backfill and reconciliation (README.md in this folder says what to register)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.platforms.platform import Platform, SendDefaults, StoreAPI
from bridge.platforms.woocommerce.adapter import TOPICS, WooCommerceSource
from bridge.platforms.woocommerce.openapi import OPENAPI
from bridge.platforms.woocommerce.order_facts import ORDER_FACTS
from bridge.platforms.woocommerce.reader import WooCommerceReader

if TYPE_CHECKING:
    from bridge.check_calls import Check
    from bridge.settings import Settings


def _check_api(settings: Settings) -> Check | None:
    from bridge.platforms.woocommerce.check import check_api  # the check lines need the whole settings: loaded when run

    return check_api(settings)


def _cleartext(settings: Settings) -> tuple[str, str | None, str]:
    url = settings.woocommerce_url if settings.woocommerce_key else None
    return ("BRIDGE_WOOCOMMERCE_URL", url, "the WooCommerce API key")


PLATFORM = Platform(
    name="woocommerce",
    title="WooCommerce",
    source=WooCommerceSource,
    reader=WooCommerceReader,
    signing_variable="BRIDGE_WOOCOMMERCE_SECRET",
    webhook_secrets=lambda settings: settings.woocommerce_secrets,
    secret_headers=("X-WC-Webhook-Signature",),
    openapi=OPENAPI,
    order_facts=ORDER_FACTS,
    order_id_paths=(("id",),),
    send=SendDefaults(topic_separator=".", handled_topics=tuple(TOPICS), store_help="site URL (WooCommerce)"),
    store_api=StoreAPI(
        variable="BRIDGE_WOOCOMMERCE_URL",
        configured=lambda settings: bool(settings.woocommerce_url),
        check=_check_api,
        cleartext=_cleartext,
    ),
)

__all__ = ["PLATFORM", "WooCommerceSource"]
