"""EcartAPI: unified order objects relayed by EcartAPI, authenticated by the token it echoes back; its orders
API for backfill and reconciliation (README.md in this folder says what to register)."""

from bridge.platforms.ecartapi.adapter import EcartAPISource
from bridge.platforms.ecartapi.openapi import OPENAPI
from bridge.platforms.ecartapi.order_facts import ORDER_FACTS
from bridge.platforms.ecartapi.reader import EcartAPIReader
from bridge.platforms.platform import Platform

PLATFORM = Platform(
    name="ecartapi",
    title="EcartAPI",
    source=EcartAPISource,
    reader=EcartAPIReader,
    signing_variable="BRIDGE_ECARTAPI_WEBHOOK_TOKEN",
    webhook_secrets=lambda settings: settings.ecartapi_webhook_tokens,
    secret_headers=("Authorization",),
    openapi=OPENAPI,
    order_facts=ORDER_FACTS,
    order_id_paths=(("data", "id"), ("order", "id"), ("id",)),
)

__all__ = ["PLATFORM", "EcartAPISource"]
