"""EcartAPI: `GET /api/v2/orders`."""
