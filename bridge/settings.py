"""Settings: read once from the environment (and `.env`), validated with marshmallow into a typed object.

The core declares its own settings (`settings_core.py`, `settings_schema.py`); each integration declares its own
in its folder (`settings.py`: a typed part extending `CoreSettings`, and the schema of its variables). This module
gathers them: `Settings` is made of every part (one base class per integration), with flat attributes
(`settings.bind`, `settings.ac_url`), and `SettingsSchema` of every part's schema.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from marshmallow import Schema, ValidationError

from bridge.destinations.activecampaign.settings import ActiveCampaignSettings
from bridge.destinations.ecartapi.settings import EcartAPISettings
from bridge.errors import SettingsError
from bridge.platforms.custom.settings import CustomSettings
from bridge.platforms.ecartapi.settings import EcartAPISourceSettings
from bridge.platforms.shopify.settings import ShopifySettings
from bridge.platforms.woocommerce.settings import WooCommerceSettings
from bridge.setting_values import unknown_variable_warnings
from bridge.settings_core import DEFAULT_RETRY_SCHEDULE, CoreSettings
from bridge.settings_schema import CoreSchema

__all__ = ["DEFAULT_RETRY_SCHEDULE", "Settings", "SettingsSchema", "load_settings", "schema_of"]


@dataclass(frozen=True, repr=False)
class Settings(
    # Platforms, in the order start-up and `check` list them; then destinations. One line per integration.
    ShopifySettings,
    WooCommerceSettings,
    EcartAPISourceSettings,
    CustomSettings,
    ActiveCampaignSettings,
    EcartAPISettings,
    CoreSettings,
):
    """Every setting the bridge reads: the core's and each integration's. Secrets are kept out of repr()."""

    def secret_values(self) -> set[str]:
        """Every value these settings hold that is a credential (source secrets, tokens, the alert URL, the
        database password), for bridge.redaction to keep out of logs and admin answers."""
        values: set[str] = {
            *self.shopify_secrets,
            *self.woocommerce_secrets,
            *self.ecartapi_webhook_tokens,
            *self.webhook_secrets,
            # A Standard Webhooks secret is also used without its prefix (the base64 key).
            *(s.removeprefix("whsec_") for s in self.webhook_secrets),
        }
        # Every setting kept out of repr is a credential: the tokens, the store-API keys, the alert URL (a Slack
        # incoming webhook is itself the credential). Reading them off the fields keeps a new one from being
        # forgotten here (the Shopify admin token and the WooCommerce keys once were).
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not item.repr and isinstance(value, str) and value:
                values.add(value)
        from sqlalchemy.engine import make_url

        try:
            password = make_url(self.database_url).password
        except Exception:  # an unparsable URL holds no password we could find; the settings check rejects it anyway
            password = None
        if password:
            values.add(str(password))
        return values


def schema_of(settings_class: type[CoreSettings]) -> type[Schema]:
    """One schema of the core's variables and those of every part `settings_class` is made of (each part's checks
    run, so every bad variable is named at once)."""
    schemas = [part.SCHEMA for part in settings_class.parts() if "SCHEMA" in vars(part) and part.SCHEMA]
    body = {
        "__doc__": "Maps every BRIDGE_* variable onto Settings; data_key is the variable name.",
        "__module__": __name__,
    }
    # types.new_class, not type(): marshmallow's SchemaMeta gathers the fields and hooks of every base.
    return types.new_class("SettingsSchema", (*schemas, CoreSchema), exec_body=lambda ns: ns.update(body))


SettingsSchema = schema_of(Settings)
#: The words people use for the integrations' names, each declared by its part.
SYNONYMS = tuple(pair for part in Settings.parts() for pair in vars(part).get("SYNONYMS", ()))


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
