"""Shopify: the GraphQL Admin API (`orders`, `abandonedCheckouts`)."""
