"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.context import BridgeContext
from bridge.errors import StorageUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers and its schema is at this code's migration head."""
    db = BridgeContext.current().db
    try:
        current = db.current_revision()
    except StorageUnavailable:
        return jsonify(status="unavailable", error="database unreachable"), 503
    if current != db.head_revision:
        return jsonify(status="unavailable", error="migrations pending", current=current, head=db.head_revision), 503
    return jsonify(status="ok", revision=current), 200
