"""`GET /`: what this service is and where to look (a newcomer's first request, or a probe's)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge import __version__
from bridge.context import BridgeContext
from bridge.platforms import SOURCES, titles

bp = Blueprint("home", __name__)


@bp.get("/")
def home() -> Response:
    """A short description of the service, its endpoints, and what is switched on."""
    settings = BridgeContext.current().settings
    configured = settings.sources_with_secrets
    return jsonify(
        service="storebridge",
        version=__version__,
        about=f"Receives store webhooks ({titles()}) and forwards them to "
        "ActiveCampaign Deep Data and EcartAPI, durably and idempotently.",
        webhooks={
            name: f"/webhooks/{name}" + ("" if name in configured else " (no secret set: answers 401)")
            for name in sorted(SOURCES)
        },
        destinations={
            "activecampaign": "live" if settings.ac_enabled else "dry-run (calls are recorded, not sent)",
            "ecartapi": "live"
            if settings.ecart_enabled
            else (
                "dry-run (calls are recorded, not sent)"
                if settings.ecart_used
                else "not used (set BRIDGE_ECART_TOKEN to send order statuses to EcartAPI)"
            ),
        },
        dashboard="/admin/" if settings.admin_token else "off: set BRIDGE_ADMIN_TOKEN to enable /admin/",
        health={"live": "/healthz", "ready": "/readyz"},
        metrics="/metrics",
        api="/openapi.json",
        docs="README.md (first steps, go-live checklist), docs/settings.md, docs/deploy.md",
    )
