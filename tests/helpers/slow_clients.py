"""Slow and idle HTTP clients (the drill of issue 12): each holds a connection open as cheaply as it can.

- `header`: sends a request line and then one header line every `interval` seconds, never the blank line;
- `body`: sends complete headers announcing a large body, then one byte of it every `interval` seconds;
- `idle`: connects and sends nothing.

One thread drives every socket; a connection the server closes is opened again, so the pressure stays at
`count` connections for as long as the clients run.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

KINDS = ("header", "body", "idle")


@dataclass
class _Conn:
    kind: str
    sock: socket.socket | None = None
    sent: int = 0


@dataclass
class SlowClients:
    """`counts` connections of each kind to host:port, trickling until `stop()`."""

    host: str
    port: int
    counts: dict[str, int]
    interval: float = 0.5
    path: str = "/webhooks/shopify"
    reopened: int = 0
    _conns: list[_Conn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _open(self, conn: _Conn) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=5)
        sock.settimeout(2)
        conn.sock, conn.sent = sock, 0
        if conn.kind == "header":
            sock.sendall(f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n".encode())
        elif conn.kind == "body":
            sock.sendall(
                f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\nX-Shopify-Topic: orders/paid\r\n\r\n{".encode()
            )

    def _tick(self, conn: _Conn) -> None:
        if conn.kind == "idle" or conn.sock is None:
            return
        conn.sent += 1
        piece = f"X-Slow-{conn.sent}: a\r\n" if conn.kind == "header" else " "
        conn.sock.sendall(piece.encode())

    def start(self) -> SlowClients:
        """Open every connection, then trickle in a background thread."""
        for kind, count in self.counts.items():
            assert kind in KINDS, kind
            for _ in range(count):
                conn = _Conn(kind)
                self._open(conn)
                self._conns.append(conn)
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for conn in self._conns:
                if self._stop.is_set():
                    return
                try:
                    self._tick(conn)
                except OSError:  # the server gave up on it (a timeout did its job): open another
                    self._close(conn)
                    try:
                        self._open(conn)
                        self.reopened += 1
                    except OSError:
                        pass

    @staticmethod
    def _close(conn: _Conn) -> None:
        if conn.sock is not None:
            try:
                conn.sock.close()
            finally:
                conn.sock = None

    def stop(self) -> None:
        """Stop trickling and close every connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for conn in self._conns:
            self._close(conn)

    def __enter__(self) -> SlowClients:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Wait until something listens on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")
