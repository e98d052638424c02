"""The custom source's settings: its Standard Webhooks secrets (`whsec_…`).

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, validates_schema

from bridge.setting_values import CommaList
from bridge.settings_core import CoreSettings


class CustomSchema(Schema):
    """The custom source's BRIDGE_WEBHOOK_SECRET."""

    webhook_secrets = CommaList(data_key="BRIDGE_WEBHOOK_SECRET")

    @validates_schema(skip_on_field_errors=False)
    def _custom_secrets(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not all(_is_standard_webhooks_secret(secret) for secret in data.get("webhook_secrets", ())):
            msg = "each secret must be whsec_ followed by base64 (at least 24 bytes)"
            raise ValidationError({"BRIDGE_WEBHOOK_SECRET": [msg]})


@dataclass(frozen=True, repr=False)
class CustomSettings(CoreSettings):
    """The custom source's part of the settings."""

    PLATFORM: ClassVar[str | None] = "custom"
    WEBHOOK_CREDENTIALS: ClassVar[str] = "webhook_secrets"
    SCHEMA: ClassVar[type[Schema]] = CustomSchema

    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)


def _is_standard_webhooks_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret[len("whsec_") :] + "==", validate=False)) >= 24
    except (binascii.Error, ValueError):
        return False
