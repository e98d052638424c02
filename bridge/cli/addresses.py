"""Turning the listening address (BRIDGE_BIND) into a URL a client on this host can use."""

from __future__ import annotations


def default_url(bind: str) -> str:
    """The bridge's own address (BRIDGE_BIND), as a URL a client can reach: a wildcard host means this one."""
    host, _, port = bind.rpartition(":")
    if host in ("0.0.0.0", "", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"
