"""The admin credential throttle in HTTP terms (spec §11): per client address, after 10 failed logins or
bearer attempts within a minute, every attempt is answered 429 with `Retry-After` until the minute is over.

The count lives in the database (`auth_failures`), so every gunicorn worker and host shares it. The address is
the connection's peer (`request.remote_addr`), except when that peer is a trusted proxy
(`BRIDGE_TRUSTED_PROXIES`, default loopback): then it is the `X-Real-IP` the proxy set (the shipped nginx
overwrites it with its own peer). Without this, every client behind nginx would share one count, and ten wrong
guesses from anyone would lock everyone out for a minute.
"""

from __future__ import annotations

import ipaddress
import time
from functools import lru_cache

from flask import request

from bridge.context import BridgeContext
from bridge.storage.admin_access import AuthFailures, Verdict

FAILURE_LIMIT = 10
WINDOW_SECONDS = 60.0


def _failures() -> AuthFailures:
    return BridgeContext.current().storage.auth_failures(limit=FAILURE_LIMIT, window=WINDOW_SECONDS)


def client_address() -> str:
    """The address attempts are counted against."""
    peer = request.remote_addr or "unknown"
    forwarded = (request.headers.get("X-Real-IP") or "").strip()
    if forwarded and _is_trusted(peer, BridgeContext.current().settings.trusted_proxies):
        return forwarded[:64]
    return peer


def _is_trusted(peer: str, networks: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _networks(networks))


@lru_cache(maxsize=8)
def _networks(networks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


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
