"""The application factory."""

from __future__ import annotations

from flask import Flask

from bridge.context import BridgeContext
from bridge.logs import configure_logging
from bridge.settings import Settings, load_settings
from bridge.storage import Database, Storage


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Flask:
    """Build the WSGI app. Settings are read from the environment (and `.env`) unless given."""
    from bridge import admin
    from bridge.platforms import build_sources
    from bridge.web import health, home, metrics, openapi, webhooks
    from bridge.web.errors import register_error_handlers

    settings = settings or load_settings()
    configure_logging(settings.log_level, settings)
    app = Flask("bridge")
    # "/webhooks//shopify" is a 404 like any unknown path, not a 308 to the merged path: a redirect is an
    # HTML answer where every answer is JSON, and no store follows one with its POST anyway.
    app.url_map.merge_slashes = False
    # One byte of headroom so the webhook view can tell "exactly the limit" from "over it" (see webhooks.py).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db = db or Database.for_settings(settings, serving_requests=True)
    storage = Storage.of(db)
    app.extensions["bridge"] = BridgeContext(
        settings=settings,
        storage=storage,
        sources=build_sources(settings),
    )
    for blueprint in (home.bp, webhooks.bp, health.bp, metrics.bp, openapi.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app)
    register_error_handlers(app)
    return app
