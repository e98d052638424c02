"""Shopify: HMAC-signed webhooks for checkouts, paid/cancelled orders and refunds."""

from bridge.platforms.shopify.adapter import ShopifySource

__all__ = ["ShopifySource"]
