"""WooCommerce: core `order.created` / `order.updated` webhooks, signed with the webhook secret; the REST API
(v3) for backfill and reconciliation (README.md in this folder says what to register)."""

from bridge.platforms.platform import Platform, SendDefaults, StoreAPI
from bridge.platforms.woocommerce import check
from bridge.platforms.woocommerce.adapter import TOPICS, WooCommerceSource
from bridge.platforms.woocommerce.openapi import OPENAPI
from bridge.platforms.woocommerce.order_facts import ORDER_FACTS
from bridge.platforms.woocommerce.reader import WooCommerceReader

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
        check=check.check_api,
        cleartext=check.cleartext,
    ),
)

__all__ = ["PLATFORM", "WooCommerceSource"]
