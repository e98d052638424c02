"""Shopify's settings: the webhook signing secrets, and the shop and token the store-API reader uses.

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mfields

from bridge.setting_values import CommaList
from bridge.settings_core import CoreSettings
from bridge.settings_schema import together


class ShopifySchema(Schema):
    """Shopify's BRIDGE_SHOPIFY_* variables."""

    shopify_secrets = CommaList(data_key="BRIDGE_SHOPIFY_SECRET")
    shopify_shop = mfields.String(
        data_key="BRIDGE_SHOPIFY_SHOP", validate=validate.Regexp(r"^(https?://[^/\s]+/?|[a-z0-9][a-z0-9.-]*[a-z0-9])$")
    )
    shopify_admin_token = mfields.String(data_key="BRIDGE_SHOPIFY_ADMIN_TOKEN")
    shopify_api_version = mfields.String(
        data_key="BRIDGE_SHOPIFY_API_VERSION", validate=validate.Regexp(r"^(\d{4}-\d{2}|unstable)$")
    )

    @validates_schema(skip_on_field_errors=False)
    def _shopify_consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        shop, token = ("shopify_shop", "BRIDGE_SHOPIFY_SHOP"), ("shopify_admin_token", "BRIDGE_SHOPIFY_ADMIN_TOKEN")
        if errors := together(data, shop, token, "BRIDGE_SHOPIFY_SHOP and BRIDGE_SHOPIFY_ADMIN_TOKEN go together"):
            raise ValidationError(errors)


@dataclass(frozen=True, repr=False)
class ShopifySettings(CoreSettings):
    """Shopify's part of the settings."""

    PLATFORM: ClassVar[str | None] = "shopify"
    WEBHOOK_CREDENTIALS: ClassVar[str] = "shopify_secrets"
    SCHEMA: ClassVar[type[Schema]] = ShopifySchema

    shopify_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Reading the shop's own API (backfill and reconciliation).
    shopify_shop: str | None = None
    shopify_admin_token: str | None = field(default=None, repr=False)
    shopify_api_version: str = "2026-10"

    @property
    def shopify_base_url(self) -> str | None:
        """The shop's base URL: `x.myshopify.com` becomes `https://x.myshopify.com`; a full URL is used as is."""
        if not self.shopify_shop:
            return None
        shop = self.shopify_shop.strip().rstrip("/")
        return shop if "://" in shop else f"https://{shop}"

    @property
    def shopify_shop_domain(self) -> str | None:
        """The shop's identity, as `X-Shopify-Shop-Domain` carries it: the host (and port, if the setting is a
        URL that has one)."""
        base = self.shopify_base_url
        return None if base is None else base.partition("://")[2].partition("/")[0]
