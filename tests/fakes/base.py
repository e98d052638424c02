"""Shared machinery of the HTTP fakes: request recording, failure injection and rate limiting.

Every fake is a :class:`FakeService`: a Flask app (the API's routes, written by the subclass) wrapped in a
WSGI middleware that, for each request, in this order:

1. reads the body and appends a :class:`RecordedRequest` to ``requests`` (status filled in later);
2. counts the request in the per-key sliding 1-second window (every request counts, also rejected ones);
3. answers 429 if ``force_429`` is pending or, when ``rate`` is set, more than ``rate`` requests fell in
   the last second for this key;
4. answers a pending ``fail_next`` rule that matches (status/body/headers of the rule, state untouched);
5. runs the subclass's authentication check;
6. consumes a matching ``hold_next`` / ``drop_next`` rule, if any, and dispatches to the Flask app
   (holding before or after the app ran, dropping after it ran).

Drop is implemented in the middleware: after the app has applied the request (state committed), the
middleware calls ``shutdown(SHUT_RDWR)`` on the client socket (``environ["werkzeug.socket"]``) and raises
``ConnectionAbortedError``. Werkzeug treats a ``ConnectionError`` raised by the app as "client went
away": it writes nothing (no status line, no 500 page) and ends the connection. The client sees EOF
before any response byte, which ``requests`` reports as ``requests.exceptions.ConnectionError``.

Hold blocks the request thread on a ``threading.Event`` until :meth:`FakeService.release` (or the rule's
own :meth:`Hold.release`) is called. When the server stops while responses are held, they are released
and their connections dropped (the client gets a connection error, as from a server that went away).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from flask import Flask
from flask import request as flask_request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .server import FakeServer

WINDOW_SECONDS = 1.0


@dataclass
class RecordedRequest:
    """One request that reached a fake (including rejected, failed, held and dropped ones).

    ``status`` is what the client received: 0 while in flight and for a dropped connection (then
    ``applied_status`` holds the status the fake computed before dropping). ``outcome`` is one of
    ``ok``, ``rate_limited``, ``forced_429``, ``injected`` (fail_next), ``held``, ``dropped``, ``error``.
    ``query`` keeps the first value of each query parameter; ``json`` is ``None`` when the body is not
    JSON (the raw bytes are in ``body``).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    status: int
    at: float
    wall: float
    body: bytes = b""
    outcome: str = "ok"
    applied_status: int | None = None


class Hold:
    """Handle of one ``hold_next`` rule: ``wait()`` until requests are held, ``release()`` them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._event = threading.Event()
        self._cond = threading.Condition()
        self.arrived = 0

    def _arrive(self) -> None:
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()

    def wait(self, count: int | None = None, timeout: float = 5.0) -> bool:
        """Block until ``count`` (default: the rule's count) requests are being held; False on timeout."""
        target = self.count if count is None else count
        with self._cond:
            return self._cond.wait_for(lambda: self.arrived >= target, timeout)

    def release(self) -> None:
        """Let the held responses (and any later request this rule catches) go through."""
        self._event.set()

    @property
    def released(self) -> bool:
        """True once released."""
        return self._event.is_set()

    def _block(self) -> None:
        self._event.wait()


@dataclass
class _Rule:
    kind: str  # "fail" | "hold" | "drop"
    remaining: int
    method: str | None
    path_prefix: str | None
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    after_commit: bool = True
    hold: Hold | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON ``Response`` (``body`` may also be ``bytes``/``str`` sent verbatim)."""
    if isinstance(body, bytes | str):
        return Response(body, status=status, headers=headers, mimetype="application/json")
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


class _Dropped(Exception):
    """Internal marker: the connection must be dropped instead of answered."""


class FakeService:
    """Base class of the fakes: owns the Flask app, the server, the recording and the injection rules.

    Subclasses register routes on ``self.flask`` and override the hooks ``_rate_key``, ``_check_auth``,
    ``_error_body``, ``_too_many_body``, ``_not_found_body`` and ``_reset_state``.
    """

    name = "fake"

    def __init__(self, *, rate: float | None = None, retry_after: int = 1, record: bool = True) -> None:
        """Create the app and the (not yet started) server.

        ``rate``: requests allowed per sliding second per rate key (``None`` = no limit);
        ``retry_after``: seconds put in ``Retry-After`` of rate-limit 429s; ``record``: keep
        :class:`RecordedRequest` objects (turn off for long benchmarks; counters are always kept).
        """
        self.rate = rate
        self.retry_after = retry_after
        self.record = record
        self._lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # tracebacks of bugs inside the fake itself (should stay empty)
        self.status_counts: Counter[int] = Counter()
        self.count_429 = 0
        self.peak_in_window = 0  # highest number of requests seen in any sliding 1 s window (one key)
        self._windows: dict[str, deque[float]] = {}
        self._rules: list[_Rule] = []
        self._holds: list[Hold] = []
        self._forced_429: list[int] = []  # one Retry-After value per pending forced 429
        self._stopping = threading.Event()
        self._changed = threading.Condition(self._lock)  # notified whenever a request got its outcome
        self.flask = Flask(f"{self.name}-{id(self)}")
        self.flask.register_error_handler(Exception, self._handle_exception)
        self.server = FakeServer(self)
        self.server.add_stop_hook(self._on_stop)

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:54321``."""
        return self.server.url

    def start(self) -> FakeService:
        """Start serving (or restart on the same port after :meth:`stop`); returns ``self``."""
        self._stopping.clear()
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving promptly; held responses are released and their connections dropped.

        State (records, stored objects) survives, so ``start()`` again simulates an outage that ended.
        """
        self.server.stop()

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _on_stop(self) -> None:
        self._stopping.set()
        with self._lock:
            holds = list(self._holds)
            for rule in self._rules:
                if rule.kind == "hold":
                    rule.remaining = 0
        for hold in holds:
            hold.release()

    # ------------------------------------------------------------------ recording
    def calls(
        self, method: str | None = None, path_prefix: str | None = None, status: int | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, optionally filtered by method, path prefix and received status."""
        with self._lock:
            recs = list(self.requests)
        return [
            r
            for r in recs
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
        ]

    def reset(self) -> None:
        """Forget recorded requests, counters, injection rules, rate windows and all stored objects."""
        self.release()
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self.status_counts.clear()
            self.count_429 = 0
            self.peak_in_window = 0
            self._windows.clear()
            self._rules.clear()
            self._forced_429.clear()
            self._reset_state()

    # ------------------------------------------------------------------ injection
    def fail_next(
        self,
        status: int = 500,
        count: int = 1,
        body: Any = None,
        method: str | None = None,
        path_prefix: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (and ``body``/``headers``).

        State is not touched. ``body`` may be a JSON-able object, ``str`` or ``bytes``; ``None`` uses the
        service's default error body for that status. Use ``headers={"Retry-After": "3"}`` for a 503.
        """
        with self._lock:
            self._rules.append(
                _Rule("fail", count, method, path_prefix, status=status, body=body, headers=dict(headers or {}))
            )

    def hold_next(
        self,
        method: str | None = "POST",
        path_prefix: str | None = None,
        count: int = 1,
        after_commit: bool = True,
    ) -> Hold:
        """Hold the responses of the next ``count`` matching requests until released.

        With ``after_commit=True`` the request is applied first (the record exists while the client
        waits); with ``False`` it is held before being applied. ``path_prefix=None`` means the service's
        main write path (``/api/3/ecomOrders`` or ``/api/v2/orders``), ``""`` any path; ``method=None``
        any method. Returns a :class:`Hold`; ``release()`` on the fake releases every hold.
        """
        hold = Hold(count)
        with self._lock:
            prefix = self._default_hold_prefix() if path_prefix is None else path_prefix
            self._rules.append(_Rule("hold", count, method, prefix, after_commit=after_commit, hold=hold))
            self._holds.append(hold)
        return hold

    def drop_next(self, method: str | None = "POST", path_prefix: str | None = None, count: int = 1) -> None:
        """Apply the next ``count`` matching requests, then close the connection without any response.

        Matching as in :meth:`hold_next`. The client sees ``requests.exceptions.ConnectionError``
        (``RemoteDisconnected``); the recorded request gets ``status=0``, ``outcome="dropped"`` and
        ``applied_status`` = the status the fake would have sent.
        """
        with self._lock:
            prefix = self._default_hold_prefix() if path_prefix is None else path_prefix
            self._rules.append(_Rule("drop", count, method, prefix))

    def release(self) -> None:
        """Release every held response and cancel hold rules that have not caught a request yet."""
        with self._lock:
            holds = list(self._holds)
            self._holds.clear()
            for rule in self._rules:
                if rule.kind == "hold":
                    rule.remaining = 0
            self._rules = [r for r in self._rules if r.remaining > 0]
        for hold in holds:
            hold.release()

    def cancel_rules(self) -> None:
        """Drop every pending injection rule and forced 429 (held responses are released): from now on the
        fake answers normally, as a service does once its outage or misconfiguration is over."""
        self.release()
        with self._lock:
            self._rules.clear()
            self._forced_429.clear()

    def force_429(self, count: int = 1, retry_after: int = 2) -> None:
        """Make the next ``count`` requests (any path) answer 429 with ``Retry-After: retry_after``."""
        with self._lock:
            self._forced_429.extend([retry_after] * count)

    def wait_calls(
        self,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
        timeout: float = 5.0,
    ) -> list[RecordedRequest]:
        """Block until at least ``count`` finished requests match (see :meth:`calls`); return them.

        Requests still in flight (status 0 and not dropped) do not count. Raises ``TimeoutError`` listing
        what was received if the count is not reached in ``timeout`` seconds.
        """

        def matching() -> list[RecordedRequest]:
            return [r for r in self.calls(method, path_prefix, status) if r.status or r.outcome == "dropped"]

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = matching()
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                self._changed.wait(left)
        if len(found) < count:
            seen = ", ".join(f"{r.method} {r.path} -> {r.status}" for r in self.calls()) or "nothing"
            raise TimeoutError(f"expected {count} matching request(s) within {timeout}s; received: {seen}")
        return found

    def pending_rules(self) -> int:
        """Number of injection rules (fail/hold/drop) still waiting for a request, plus forced 429s."""
        with self._lock:
            return sum(1 for r in self._rules if r.remaining > 0) + len(self._forced_429)

    # ------------------------------------------------------------------ hooks for subclasses
    def _default_hold_prefix(self) -> str | None:
        return None

    def _rate_key(self, request: Request) -> str:
        return ""

    def _check_auth(self, request: Request) -> Response | None:
        return None

    def _error_body(self, status: int) -> Any:
        return {"message": f"Injected error {status}"}

    def _too_many_body(self) -> Any:
        return {"message": "Too Many Requests"}

    def _not_found_body(self, request: Request) -> Any:
        return {"message": "Not Found"}

    def _bad_method_body(self, request: Request) -> Any:
        return {"message": "Method Not Allowed"}

    def _reset_state(self) -> None:
        """Clear the stored API objects (called under the lock)."""

    # ------------------------------------------------------------------ WSGI pipeline
    def _handle_exception(self, exc: Exception) -> Response:
        request: Request = flask_request
        if isinstance(exc, HTTPException):
            if exc.code == 404:
                return json_response(self._not_found_body(request), 404)
            if exc.code == 405:
                return json_response(self._bad_method_body(request), 405)
            return json_response({"message": exc.description}, exc.code or 500)
        tb = traceback.format_exc()
        request.environ["fakes.error"] = True
        with self._lock:
            self.errors.append(tb)
        return json_response({"message": "fake internal error", "detail": str(exc)}, 500)

    def _window_hit(self, key: str, now: float) -> int:
        win = self._windows.setdefault(key, deque())
        while win and win[0] <= now - WINDOW_SECONDS:
            win.popleft()
        win.append(now)
        self.peak_in_window = max(self.peak_in_window, len(win))
        return len(win)

    def _gate(self, request: Request, rec: RecordedRequest, now: float) -> tuple[Response | None, _Rule | None]:
        """Rate limit and fail_next (under the lock). Returns (early response, hold/drop rule)."""
        with self._lock:
            in_window = self._window_hit(self._rate_key(request), now)
            if self._forced_429:
                retry_after = self._forced_429.pop(0)
                rec.outcome = "forced_429"
                return json_response(self._too_many_body(), 429, {"Retry-After": str(retry_after)}), None
            if self.rate is not None and in_window > self.rate:
                rec.outcome = "rate_limited"
                return json_response(self._too_many_body(), 429, {"Retry-After": str(self.retry_after)}), None
            for rule in self._rules:
                if rule.kind == "fail" and rule.matches(request.method, request.path):
                    rule.remaining -= 1
                    self._prune_rules()
                    rec.outcome = "injected"
                    body = self._error_body(rule.status) if rule.body is None else rule.body
                    return json_response(body, rule.status, rule.headers), None
        auth = self._check_auth(request)
        if auth is not None:
            return auth, None
        with self._lock:
            for rule in self._rules:
                if rule.kind in ("hold", "drop") and rule.matches(request.method, request.path):
                    rule.remaining -= 1
                    self._prune_rules()
                    return None, rule
        return None, None

    def _prune_rules(self) -> None:
        self._rules = [r for r in self._rules if r.remaining > 0]

    def _hold(self, rule: _Rule, rec: RecordedRequest) -> None:
        assert rule.hold is not None
        rec.outcome = "held"
        rule.hold._arrive()
        if not self._stopping.is_set():
            rule.hold._block()
        if self._stopping.is_set():
            raise _Dropped

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """WSGI entry point: record, gate, dispatch to the Flask app, then hold/drop if asked."""
        now, wall = time.monotonic(), time.time()
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = True
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: request.args[k] for k in request.args},
            headers=dict(request.headers.items()),
            json=parsed,
            status=0,
            at=now,
            wall=wall,
            body=body,
        )
        if self.record:
            with self._lock:
                self.requests.append(rec)
        rule: _Rule | None = None
        try:
            response, rule = self._gate(request, rec, now)
            if response is None:
                if rule is not None and rule.kind == "hold" and not rule.after_commit:
                    self._hold(rule, rec)
                response = Response.from_app(self.flask.wsgi_app, environ, buffered=True)
                if environ.get("fakes.error"):
                    rec.outcome = "error"
            rec.status = response.status_code
            if rule is not None and rule.kind == "hold" and rule.after_commit:
                self._hold(rule, rec)
            if rule is not None and rule.kind == "drop":
                raise _Dropped
        except _Dropped:
            rec.applied_status = rec.status or None
            rec.status = 0
            rec.outcome = "dropped"
            with self._lock:
                self.status_counts[0] += 1
                self._changed.notify_all()
            self._abort_connection(environ)
        with self._lock:
            self.status_counts[rec.status] += 1
            if rec.status == 429:
                self.count_429 += 1
            self._changed.notify_all()
        return response(environ, start_response)

    @staticmethod
    def _abort_connection(environ: dict[str, Any]) -> None:
        """Shut the client socket down and make werkzeug abandon the request without writing anything."""
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("connection dropped by fake (drop_next / stop while held)")


def parse_json_body(raw: bytes) -> tuple[bool, Any]:
    """Parse a request body; returns ``(ok, value)``."""
    if not raw:
        return False, None
    try:
        return True, json.loads(raw)
    except ValueError:
        return False, None
