"""Admin authentication: `Authorization: Bearer $BRIDGE_ADMIN_TOKEN`, compared in constant time. With no token
configured the admin surface does not exist (404), so it cannot be left open by accident. Wrong tokens are
throttled per client address (bridge.admin.throttle): 429 with Retry-After after 10 a minute."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, jsonify, request

from bridge.admin import throttle
from bridge.context import BridgeContext

F = TypeVar("F", bound=Callable[..., Any])


def token_matches(expected: str | None, presented: str | None) -> bool:
    """True if `presented` is the configured admin token (constant-time; False when none is configured)."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not header or header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None


def admin_disabled() -> tuple[Response, int]:
    """The answer while BRIDGE_ADMIN_TOKEN is unset."""
    return jsonify(error="not_found", message="the admin API is off: set BRIDGE_ADMIN_TOKEN to enable it"), 404


def unauthorized() -> tuple[Response, int]:
    """The answer to a missing or wrong token."""
    response = jsonify(error="unauthorized", message="a valid admin bearer token is required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="storebridge-admin"'
    return response, 401


def too_many_attempts(retry_after: int) -> tuple[Response, int]:
    """The answer while the client's address is throttled."""
    response = jsonify(error="too_many_requests", message="too many failed admin credentials; retry later")
    response.headers["Retry-After"] = str(retry_after)
    return response, 429


def require_admin_token(view: F) -> F:
    """Guard a JSON admin endpoint with the bearer token."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        expected = BridgeContext.current().settings.admin_token
        if not expected:
            return admin_disabled()
        presented = bearer(request.headers.get("Authorization"))
        if not presented:
            return unauthorized()  # no credential, no attempt: nothing to count
        verdict = throttle.admission()
        if not verdict.allowed:
            return too_many_attempts(verdict.retry_after)
        if not token_matches(expected, presented):
            throttle.record_failure()
            return unauthorized()
        throttle.record_success(verdict)
        return view(*args, **kwargs)

    return cast(F, guarded)
