"""The delivery worker's own small HTTP listener (BRIDGE_WORKER_METRICS_BIND): `GET /metrics` and `GET /healthz`.

Where a worker does not share a metrics directory with a web (a Kubernetes pod, a container of its own), the
web's `/metrics` cannot show the worker's counters, so the worker answers for itself: the same exposition as
the web's (`bridge.metrics_scrape.render`: every process that writes into this worker's metrics directory, plus the
gauges read from the database), and `/healthz` from the same heartbeat rule as `storebridge health --role
worker`.

Bounded by construction: at most MAX_CONCURRENT requests at a time (more connections are closed at once), each
socket read or write gives up after SOCKET_TIMEOUT, only GET and HEAD, and http.server's own limits on the
request line and headers. It carries the same figures as the web's `/metrics`: no secret, id or payload.
"""

from __future__ import annotations

import logging
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bridge.errors import BridgeError
from bridge.heartbeat import verdict
from bridge.metrics import MULTIPROC_VARIABLE
from bridge.metrics_scrape import render

log = logging.getLogger("bridge.worker_http")

SETTING = "BRIDGE_WORKER_METRICS_BIND"
MAX_CONCURRENT = 2
SOCKET_TIMEOUT = 5.0


def parse_bind(bind: str) -> tuple[str, int, socket.AddressFamily]:
    """`host:port` or `[v6]:port` -> (host, port, address family)."""
    host, _, port = bind.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1], int(port), socket.AF_INET6
    return host, int(port), socket.AF_INET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, app: WorkerHttp) -> None:
        self.address_family = family
        self.app = app
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN (a reverse DNS lookup that can hang in a cluster); the
        # name is only used in CGI environments, which this is not.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # A scraper that opens many connections gets MAX_CONCURRENT threads, not one per connection.
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = SOCKET_TIMEOUT
    protocol_version = "HTTP/1.1"
    server_version = "storebridge-worker"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        path = self.path.partition("?")[0]
        if path == "/metrics":
            try:
                body, content_type = self.server.app.metrics()
                status = 200
            except Exception as exc:  # a scrape must get an answer, not a dropped connection
                log.warning("worker metrics failed", extra={"error": type(exc).__name__})
                body, content_type, status = b"metrics unavailable\n", "text/plain; charset=utf-8", 503
        elif path == "/healthz":
            healthy, reason = self.server.app.health()
            body, content_type = f'{{"status": "{"ok" if healthy else "unhealthy"}"}}\n'.encode(), "application/json"
            status = 200 if healthy else 503
            if not healthy:
                log.warning("worker health check failed", extra={"reason": reason})
        else:
            body, content_type, status = b"not found: try /metrics or /healthz\n", "text/plain; charset=utf-8", 404
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # The scraper polls every few seconds: not worth a log line each (errors are logged above).
        log.debug("worker http: %s", format % args)


class WorkerHttp:
    """The listener: `start()` binds (a taken port is a BridgeError naming the setting) and serves on a daemon
    thread; `close()` stops it."""

    def __init__(self, bind: str, db: Any, *, lease_seconds: float) -> None:
        self.bind = bind
        self.db = db
        self.lease_seconds = lease_seconds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the port the OS chose when the setting says 0)."""
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def metrics(self) -> tuple[bytes, str]:
        """The Prometheus exposition for this worker's metrics directory and the database gauges."""
        return render(self.db)

    def health(self) -> tuple[bool, str]:
        """The heartbeat verdict for the workers writing into this process's metrics directory."""
        directory = os.environ.get(MULTIPROC_VARIABLE)
        if not directory:
            return False, "no metrics directory (the worker was not started by `storebridge worker`)"
        return verdict(directory, self.lease_seconds)

    def start(self) -> None:
        """Bind and serve in the background."""
        host, port, family = parse_bind(self.bind)
        try:
            self._server = _Server((host, port), family, self)
        except OSError as exc:
            raise BridgeError(f"{SETTING}={self.bind}: cannot listen ({exc.strerror or exc})") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="worker-http", daemon=True)
        self._thread.start()
        shown = f"[{self.address[0]}]" if family == socket.AF_INET6 else self.address[0]
        log.info("worker metrics on http://%s:%d/metrics (and /healthz)", shown, self.address[1])

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
