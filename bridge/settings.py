"""Settings: read once from the environment (and `.env`), validated with marshmallow into a typed object.

The core declares its own settings (`settings_core.py`, `settings_schema.py`); each integration declares its own
in its folder (a typed part and a schema in `settings.py`). This module gathers them: one line per integration
in `PARTS`, and the one `Settings` class made of them (flat attributes: `settings.ac_url`, `settings.bind`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from marshmallow import Schema, ValidationError

from bridge.destinations.activecampaign import settings as activecampaign
from bridge.destinations.ecartapi import settings as ecartapi
from bridge.errors import SettingsError
from bridge.platforms.custom import settings as custom
from bridge.platforms.ecartapi import settings as ecartapi_source
from bridge.platforms.shopify import settings as shopify
from bridge.platforms.woocommerce import settings as woocommerce
from bridge.setting_values import unknown_variable_warnings
from bridge.settings_core import DEFAULT_RETRY_SCHEDULE, CoreSettings
from bridge.settings_schema import CoreSchema

__all__ = ["DEFAULT_RETRY_SCHEDULE", "Settings", "SettingsSchema", "load_settings"]


@dataclass(frozen=True, repr=False)
class Settings(
    shopify.ShopifySettings,
    woocommerce.WooCommerceSettings,
    ecartapi_source.EcartAPISourceSettings,
    custom.CustomSettings,
    activecampaign.ActiveCampaignSettings,
    ecartapi.EcartAPISettings,
    CoreSettings,
):
    """Every setting the bridge reads: the core's and each integration's. Secrets are kept out of repr()."""


class SettingsSchema(
    shopify.ShopifySchema,
    woocommerce.WooCommerceSchema,
    ecartapi_source.EcartAPISourceSchema,
    custom.CustomSchema,
    activecampaign.ActiveCampaignSchema,
    ecartapi.EcartAPISchema,
    CoreSchema,
):
    """Maps every BRIDGE_* variable onto Settings; data_key is the variable name."""

    class Meta(CoreSchema.Meta):
        pass


#: The words people use for an integration's name, which each integration declares.
SYNONYMS = (*woocommerce.SYNONYMS, *activecampaign.SYNONYMS, *ecartapi.SYNONYMS)


def _present(data: Mapping[str, str], schema: Schema) -> dict[str, str]:
    # An empty variable means "not set", as in most twelve-factor tools, unless its field says empty means something.
    empty_means = {f.data_key for f in schema.fields.values() if f.metadata.get("empty_means")}
    return {k: v for k, v in data.items() if k.startswith("BRIDGE_") and (v.strip() != "" or k in empty_means)}


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build Settings from `environ` (default: the process environment) over the `.env` file, if any.

    Raises SettingsError naming every bad variable at once.
    """
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    schema = SettingsSchema()
    present = _present(merged, schema)
    try:
        values = schema.load(present)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        problems: dict[str, list[str]] = {}
        for name, msgs in messages.items():
            flat = msgs if isinstance(msgs, list) else [str(msgs)]
            problems[name] = [str(m) for m in flat]
        raise SettingsError(problems) from None
    known = (f.data_key for f in schema.fields.values() if f.data_key)
    warnings = unknown_variable_warnings(present, known, SYNONYMS)
    return Settings(**values, warnings=tuple(warnings))
