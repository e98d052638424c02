"""EcartAPI's settings as a platform: the tokens EcartAPI echoes on its webhooks. Its API address and token,
which the store-API reader uses too, are the destination's (`bridge/destinations/ecartapi/settings.py`): this
part extends that one.

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from marshmallow import Schema

from bridge.destinations.ecartapi.settings import EcartAPISettings
from bridge.setting_values import CommaList


class EcartAPISourceSchema(Schema):
    """EcartAPI's BRIDGE_ECARTAPI_WEBHOOK_TOKEN."""

    ecartapi_webhook_tokens = CommaList(data_key="BRIDGE_ECARTAPI_WEBHOOK_TOKEN")


@dataclass(frozen=True, repr=False)
class EcartAPISourceSettings(EcartAPISettings):
    """EcartAPI's part of the settings, as a source of webhooks."""

    PLATFORM: ClassVar[str | None] = "ecartapi"
    WEBHOOK_CREDENTIALS: ClassVar[str] = "ecartapi_webhook_tokens"
    SCHEMA: ClassVar[type[Schema]] = EcartAPISourceSchema

    ecartapi_webhook_tokens: tuple[str, ...] = field(default=(), repr=False)
