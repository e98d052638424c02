"""Every error the HTTP layer returns is JSON with an `error` key."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from bridge.errors import InboundError, StorageUnavailable

log = logging.getLogger("bridge.web")


def register_error_handlers(app: Flask) -> None:
    """Render inbound errors and HTTP exceptions as JSON."""

    @app.errorhandler(InboundError)
    def _inbound(exc: InboundError) -> tuple[Response, int]:
        log.debug("rejected", extra={"error": exc.code, "reason": exc.message})  # the request line says it at INFO
        return jsonify(exc.body()), exc.status_code

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> tuple[Response, int]:
        return jsonify(error="too_large"), 413

    @app.errorhandler(StorageUnavailable)
    def _unavailable(exc: StorageUnavailable) -> tuple[Response, int]:
        # Any page or API call whose database is down or stalled (the webhook view answers its own 503).
        response = jsonify(error="unavailable", message="the database is unavailable; retry later")
        response.headers["Retry-After"] = "5"
        return response, 503

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        response = jsonify(error=name, message=exc.description)
        for key, value in exc.get_headers():
            if key.lower() == "allow":
                response.headers[key] = value
        return response, code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return jsonify(error="internal_error", message="unexpected error; it has been logged"), 500
