"""Run a WSGI app on a real loopback HTTP server in a background thread.

The fakes in this package are served through :class:`FakeServer` so that the code under test talks to them
over real TCP sockets with ``requests`` (timeouts, connection errors and concurrency behave as in
production), instead of through Flask's test client.

Werkzeug's development server answers every response with ``Connection: close``, so each HTTP request is
its own TCP connection; the server tracks open connections so :meth:`FakeServer.stop` can close them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


class _QuietTrackingHandler(WSGIRequestHandler):
    """Request handler that does not log each request and registers its socket with the server."""

    def setup(self) -> None:
        """Register the connection so the server can close it on stop."""
        super().setup()
        registry: _ConnectionRegistry | None = getattr(self.server, "fake_registry", None)
        if registry is not None:
            registry.add(self.connection)

    def finish(self) -> None:
        """Unregister the connection."""
        registry: _ConnectionRegistry | None = getattr(self.server, "fake_registry", None)
        if registry is not None:
            registry.discard(self.connection)
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests (the fakes record them instead)."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own messages."""


class _ConnectionRegistry:
    """Thread-safe set of the sockets of in-flight connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.add(sock)

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.discard(sock)

    def close_all(self) -> None:
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class FakeServer:
    """A threaded werkzeug server on ``127.0.0.1`` running ``app`` in a daemon thread.

    ``port=0`` picks a free port on the first :meth:`start`; later restarts (``stop()`` then ``start()``)
    reuse that same port, so ``url`` stays valid across a simulated outage.
    """

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare (but do not start) a server for ``app``."""
        self.app = app
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._registry = _ConnectionRegistry()
        self._on_stop: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:54321`` (no trailing slash)."""
        if not self.port:
            raise RuntimeError("server has not been started yet")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    def add_stop_hook(self, hook: Callable[[], None]) -> None:
        """Register a callable run at the beginning of :meth:`stop` (e.g. to release held responses)."""
        self._on_stop.append(hook)

    def start(self) -> FakeServer:
        """Bind and serve in a background thread; returns ``self``. Idempotent while running."""
        with self._lock:
            if self._server is not None:
                return self
            server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietTrackingHandler)
            server.fake_registry = self._registry  # type: ignore[attr-defined]
            server.daemon_threads = True  # type: ignore[attr-defined]
            self.port = server.server_port
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fake-server-{self.port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting connections and close in-flight ones; returns within ~0.1 s normally.

        Stop hooks run first (the fakes use them to release held responses, which are then dropped);
        then the accept loop is shut down, the listening socket closed, and every connection still open
        is shut down so no handler thread keeps a client waiting.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server, self._thread = None, None
        if server is None:
            return
        for hook in list(self._on_stop):
            hook()
        server.shutdown()  # waits for serve_forever to return (poll interval 0.05 s); it closes the socket
        self._registry.close_all()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
