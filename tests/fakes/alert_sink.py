"""A strict chat-style incoming webhook (what BRIDGE_ALERT_URL points at): `POST /hook` with a JSON object
whose only key is `text`, a non-empty string, answered 200 `ok` as Slack does. Anything else is 400/404/405,
so a sender that gets the shape wrong fails. `fail_next` makes the next posts answer 500 (a sink outage)."""

from __future__ import annotations

import json
import threading
from typing import Any

from werkzeug.wrappers import Request, Response

from .server import FakeServer


class AlertSink:
    """Records the `text` of every accepted post, in order."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.failures = 0
        self._lock = threading.Lock()
        self.server = FakeServer(self)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def start(self) -> AlertSink:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def fail_next(self, count: int = 1) -> None:
        """Answer the next `count` posts 500 (nothing recorded)."""
        with self._lock:
            self.failures += count

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.path != "/hook":
            return Response("no_service", 404)
        if request.method != "POST":
            return Response("method not allowed", 405)
        if request.mimetype != "application/json":
            return Response("invalid_payload", 400)
        try:
            body = json.loads(request.get_data())
        except ValueError:
            return Response("invalid_payload", 400)
        if not isinstance(body, dict) or set(body) != {"text"} or not isinstance(body["text"], str) or not body["text"]:
            return Response("invalid_payload", 400)
        with self._lock:
            if self.failures:
                self.failures -= 1
                return Response("server error", 500)
            self.texts.append(body["text"])
        return Response("ok", 200)
