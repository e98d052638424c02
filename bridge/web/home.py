"""`GET /`: what this service is and where to look (a newcomer's first request, or a probe's)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge import __version__
from bridge.context import BridgeContext
from bridge.destinations import registry
from bridge.destinations.base import DRY_RUN, NOT_USED
from bridge.platforms import SOURCES

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> Response:
    """A short description of the service, its endpoints, and what is switched on."""
    settings = BridgeContext.current().settings
    configured = settings.sources_with_secrets
    return jsonify(
        service="storebridge",
        version=__version__,
        about="Receives store webhooks (Shopify, WooCommerce, EcartAPI, custom) and forwards them to "
        f"{registry.in_words()}, durably and idempotently.",
        webhooks={
            name: f"/webhooks/{name}" + ("" if name in configured else " (no secret set: answers 401)")
            for name in sorted(SOURCES)
        },
        destinations={d.name: _mode_words(d.mode(settings), d.unused_hint) for d in registry.destinations()},
        dashboard="/admin/" if settings.admin_token else "off: set BRIDGE_ADMIN_TOKEN to enable /admin/",
        health={"live": "/healthz", "ready": "/readyz"},
        metrics="/metrics",
        api="/openapi.json",
        docs="README.md (first steps, go-live checklist), docs/settings.md, docs/deploy.md",
    )


def _mode_words(mode: str, unused_hint: str) -> str:
    """`live`, `dry-run (calls are recorded, not sent)` or `not used (what to set)`."""
    if mode == DRY_RUN:
        return "dry-run (calls are recorded, not sent)"
    return f"not used ({unused_hint})" if mode == NOT_USED else mode
