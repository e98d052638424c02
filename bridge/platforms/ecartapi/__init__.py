"""EcartAPI: unified order objects relayed by EcartAPI, authenticated by the token it echoes back."""

from bridge.platforms.ecartapi.adapter import EcartAPISource

__all__ = ["EcartAPISource"]
