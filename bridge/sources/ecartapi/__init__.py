"""EcartAPI: unified order objects relayed by EcartAPI, authenticated by the token it echoes back."""

from bridge.sources.ecartapi.adapter import EcartAPISource

__all__ = ["EcartAPISource"]
