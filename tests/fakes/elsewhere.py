"""Another host, as a redirect would point the bridge at it: it answers every request `200 {}` and records it.

It stands in for a server the bridge must never talk to (a hijacked DNS name, a mis-set URL, an attacker's
endpoint that an API redirected to). Accepting everything is the point: had the bridge followed a redirect,
this fake would hold the request, its headers (`Api-Token`, `Authorization`) and its body, so an empty
`requests` list proves nothing reached it. It listens on another loopback address (127.0.0.2) where the
system allows, so the destination and this server differ by host, not only by port.
"""

from __future__ import annotations

import socket

from flask import request
from werkzeug.wrappers import Response

from .base import FakeService, json_response

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CREDENTIAL_HEADERS = ("api-token", "authorization", "x-shopify-access-token")


def other_loopback_host() -> str:
    """127.0.0.2 when this machine can listen there (Linux routes all of 127/8 to loopback), else 127.0.0.1."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.2", 0))
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()
    return "127.0.0.2"


class FakeElsewhere(FakeService):
    """Records whatever reaches it and answers `200 {}`."""

    name = "elsewhere"

    def __init__(self) -> None:
        super().__init__(rate=None)
        self.server.host = other_loopback_host()
        self.flask.add_url_rule("/", "root", self._anything, defaults={"path": ""}, methods=METHODS)
        self.flask.add_url_rule("/<path:path>", "anything", self._anything, methods=METHODS)

    def _anything(self, path: str) -> Response:
        del path
        request.get_data()
        return json_response({})

    def credentials_seen(self) -> list[str]:
        """The credential headers that reached this server (should be none)."""
        seen = []
        for recorded in self.calls():
            headers = {k.lower(): v for k, v in recorded.headers.items()}
            seen += [f"{name}: {headers[name]}" for name in CREDENTIAL_HEADERS if name in headers]
        return seen
