"""WooCommerce: core `order.created` / `order.updated` webhooks, signed with the webhook secret."""

from bridge.platforms.woocommerce.adapter import WooCommerceSource

__all__ = ["WooCommerceSource"]
