"""WooCommerce's settings: the webhook secrets, and the store URL and REST API key the store-API reader uses.

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, validates_schema
from marshmallow import fields as mfields

from bridge.setting_values import BaseUrl, CommaList
from bridge.settings_core import CoreSettings
from bridge.settings_schema import together


class WooCommerceSchema(Schema):
    """WooCommerce's BRIDGE_WOOCOMMERCE_* variables."""

    woocommerce_secrets = CommaList(data_key="BRIDGE_WOOCOMMERCE_SECRET")
    woocommerce_url = BaseUrl(data_key="BRIDGE_WOOCOMMERCE_URL")
    woocommerce_key = mfields.String(data_key="BRIDGE_WOOCOMMERCE_KEY")
    woocommerce_key_secret = mfields.String(data_key="BRIDGE_WOOCOMMERCE_KEY_SECRET")

    @validates_schema(skip_on_field_errors=False)
    def _woocommerce_consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        key, secret = (
            ("woocommerce_key", "BRIDGE_WOOCOMMERCE_KEY"),
            ("woocommerce_key_secret", "BRIDGE_WOOCOMMERCE_KEY_SECRET"),
        )
        errors = together(data, key, secret, "BRIDGE_WOOCOMMERCE_KEY and BRIDGE_WOOCOMMERCE_KEY_SECRET go together")
        if data.get("woocommerce_key") and not data.get("woocommerce_url"):
            errors["BRIDGE_WOOCOMMERCE_URL"] = ["required with BRIDGE_WOOCOMMERCE_KEY"]
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True, repr=False)
class WooCommerceSettings(CoreSettings):
    """WooCommerce's part of the settings."""

    PLATFORM: ClassVar[str | None] = "woocommerce"
    WEBHOOK_CREDENTIALS: ClassVar[str] = "woocommerce_secrets"
    SCHEMA: ClassVar[type[Schema]] = WooCommerceSchema
    #: Short names people give WooCommerce in a variable (`BRIDGE_WC_SECRET`), for the "did you mean" hint.
    SYNONYMS: ClassVar[tuple[tuple[str, str], ...]] = (("WOO", "WOOCOMMERCE"), ("WC", "WOOCOMMERCE"))

    woocommerce_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Reading the store's own API (backfill and reconciliation).
    woocommerce_url: str | None = None
    woocommerce_key: str | None = field(default=None, repr=False)
    woocommerce_key_secret: str | None = field(default=None, repr=False)
