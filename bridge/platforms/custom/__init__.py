"""Any store that signs its own events: the bridge's canonical events in a Standard Webhooks envelope
(README.md in this folder says how to sign them)."""

from bridge.platforms.custom.adapter import CustomSource
from bridge.platforms.custom.openapi import OPENAPI
from bridge.platforms.platform import Platform

PLATFORM = Platform(
    name="custom",
    title="custom",
    source=CustomSource,
    reader=None,
    signing_variable="BRIDGE_WEBHOOK_SECRET",
    webhook_secrets=lambda settings: settings.webhook_secrets,
    secret_headers=("webhook-signature",),
    openapi=OPENAPI,
    order_id_paths=(("data", "order_id"),),
)

__all__ = ["PLATFORM", "CustomSource"]
