"""WooCommerce: core `order.created` / `order.updated` webhooks, signed with the webhook secret."""

from bridge.sources.woocommerce.adapter import WooCommerceSource

__all__ = ["WooCommerceSource"]
