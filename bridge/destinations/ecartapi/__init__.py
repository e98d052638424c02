"""EcartAPI: order status updates."""
