"""`GET /openapi.json`: the OpenAPI document, generated from the marshmallow schemas.

Built with apispec and its MarshmallowPlugin the first time it is asked for, then kept for the life of the
app (the schemas cannot change while it runs).
"""

from __future__ import annotations

import threading
from importlib import metadata
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from marshmallow import Schema, fields

if TYPE_CHECKING:
    from apispec import APISpec

bp = Blueprint("openapi", __name__)
OPENAPI_VERSION = "3.1.0"
CACHE_KEY = "bridge.openapi"
_lock = threading.Lock()


class HealthSchema(Schema):
    """The process is up."""

    status = fields.String(required=True)


class ReadinessSchema(Schema):
    """Readiness: `ok` with the migration revision, or `unavailable` with the reason."""

    status = fields.String(required=True)
    revision = fields.String(allow_none=True)
    error = fields.String()
    current = fields.String(allow_none=True)
    head = fields.String(allow_none=True)


def _version() -> str:
    try:
        return metadata.version("storebridge")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document (a new dict each call; use `document()` for the cached one)."""
    # Imported here, not at start-up: only a request for the document needs apispec and the schemas.
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    from bridge import canonical
    from bridge.destinations import registry
    from bridge.web import openapi_admin, openapi_webhooks

    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="storebridge",
        version=_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": "Store webhooks in (Shopify, WooCommerce, EcartAPI, custom), stored durably, then delivered"
            f" to {registry.in_words()}. Every answer is JSON, except `/metrics`."
        },
        tags=[
            {"name": "webhooks", "description": "receiving store events"},
            {"name": "admin", "description": "the admin API (bearer BRIDGE_ADMIN_TOKEN; 404 while it is unset)"},
            {"name": "operations", "description": "probes, metrics and this document"},
        ],
    )
    plugin.map_to_openapi_type(canonical.UTCDateTime, "string", "date-time")
    spec.components.schema("Health", schema=HealthSchema)
    spec.components.schema("Readiness", schema=ReadinessSchema)
    openapi_webhooks.register_components(spec)
    openapi_admin.register_components(spec)
    openapi_webhooks.add_paths(spec)
    _add_operations_paths(spec)
    openapi_admin.add_paths(spec)
    openapi_admin.add_privacy_paths(spec)
    return spec.to_dict()


def _add_operations_paths(spec: APISpec) -> None:
    def json_response(schema: str, description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": {"$ref": schema}}}}

    readiness = "#/components/schemas/Readiness"
    operations: dict[str, dict[str, Any]] = {
        "/healthz": {
            "operationId": "healthz",
            "summary": "Liveness: the process is up",
            "responses": {"200": json_response("#/components/schemas/Health", "up")},
        },
        "/readyz": {
            "operationId": "readyz",
            "summary": "Readiness: the database answers and its migrations are current",
            "responses": {
                "200": json_response(readiness, "ready"),
                "503": json_response(readiness, "database unreachable or migrations pending"),
            },
        },
        "/metrics": {
            "operationId": "metrics",
            "summary": "Prometheus metrics: events, deliveries, queue depth, oldest pending age, latency",
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        },
        "/openapi.json": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        },
    }
    for path, operation in operations.items():
        spec.path(path=path, operations={"get": {"tags": ["operations"], **operation}})


def document(app: Flask) -> dict[str, Any]:
    """The app's OpenAPI document, built once."""
    cached = app.extensions.get(CACHE_KEY)
    if cached is None:
        with _lock:
            cached = app.extensions.get(CACHE_KEY)
            if cached is None:
                cached = app.extensions[CACHE_KEY] = build_document()
    return cached  # type: ignore[no-any-return]


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(document(current_app))  # type: ignore[arg-type]
