"""HTTP blueprints: webhooks, health."""
