"""The admin credential throttle in HTTP terms (spec §11): per client address, after 10 failed logins or
bearer attempts within a minute, every attempt is answered 429 with `Retry-After` until the minute is over.

The count lives in the database (`auth_failures`), so every gunicorn worker and host shares it. The address is
the connection's peer (`request.remote_addr`): behind a reverse proxy that is the proxy's, unless the WSGI
server is told to trust its forwarding header.
"""

from __future__ import annotations

import time

from flask import request

from bridge.context import BridgeContext
from bridge.storage.admin_access import AuthFailures, Verdict

FAILURE_LIMIT = 10
WINDOW_SECONDS = 60.0


def _failures() -> AuthFailures:
    return AuthFailures(BridgeContext.current().db, limit=FAILURE_LIMIT, window=WINDOW_SECONDS)


def client_address() -> str:
    """The address attempts are counted against."""
    return request.remote_addr or "unknown"


def admission() -> Verdict:
    """May this request's client present a credential now?"""
    return _failures().check(client_address(), time.time())


def record_failure() -> None:
    """Count a wrong credential from this request's client."""
    _failures().failed(client_address(), time.time())


def record_success(verdict: Verdict) -> None:
    """A right credential: forget the client's earlier failures (a write only if there were any)."""
    if verdict.failures:
        _failures().succeeded(client_address())
