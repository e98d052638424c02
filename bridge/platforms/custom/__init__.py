"""Any store that signs its own events: the bridge's canonical events in a Standard Webhooks envelope."""

from bridge.platforms.custom.adapter import CustomSource

__all__ = ["CustomSource"]
