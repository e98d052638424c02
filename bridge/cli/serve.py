"""`bridge run`, `bridge web`: start the service under gunicorn (and, for `run`, the delivery worker)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import click

from bridge.cli import CliState
from bridge.errors import BridgeError
from bridge.metrics import enable_multiprocess
from bridge.storage import Database

if TYPE_CHECKING:
    from bridge.settings import Settings
    from bridge.worker_http import WorkerHttp

#: The packaged gunicorn configuration (bridge/gunicorn_conf.py): found wherever the package is installed.
GUNICORN_CONF = "python:bridge.gunicorn_conf"


def gunicorn_argv(bind: str) -> list[str]:
    """The command line that serves the app under gunicorn with the project's settings."""
    return [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF, "--bind", bind, "bridge.app:create_app()"]


def ensure_can_listen(bind: str) -> None:
    """Stop start-up with one line naming --bind and BRIDGE_BIND when `bind` cannot be listened on (another
    program has the port, or the address is not this machine's), instead of gunicorn's five retries and its
    exit. The socket is closed again at once; gunicorn binds it a moment later (SO_REUSEADDR, as it does)."""
    if bind.startswith(("unix:", "fd://")):
        return
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        return  # not host:port: gunicorn says what is wrong with it
    v6 = host.startswith("[") and host.endswith("]")
    family = socket.AF_INET6 if v6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host[1:-1] if v6 else host, int(port)))
        except OSError as exc:
            reason = "the port is in use by another program" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise BridgeError(
                f"cannot listen on {bind}: {reason or exc}; choose another address with --bind HOST:PORT "
                "or BRIDGE_BIND (e.g. --bind 127.0.0.1:8001)"
            ) from None


def _migrate(state: CliState) -> None:
    settings = state.settings
    Database.for_settings(settings).upgrade()


@click.command()
@click.option("--bind", help="host:port to listen on (default: BRIDGE_BIND).")
@click.pass_obj
def web(state: CliState, bind: str | None) -> None:
    """Apply migrations, then serve the webhook endpoints under gunicorn."""
    ensure_can_listen(bind or state.settings.bind)
    _migrate(state)
    enable_multiprocess(state.settings.database_url, clear=True)
    argv = gunicorn_argv(bind or state.settings.bind)
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process with gunicorn; argv is built above


@click.command()
@click.option("--bind", help="host:port to listen on (default: BRIDGE_BIND).")
@click.pass_obj
def run(state: CliState, bind: str | None) -> None:
    """Everything in one command: migrations, the web server and the delivery worker."""
    from bridge.delivery.service import run_worker

    settings = state.settings
    ensure_can_listen(bind or settings.bind)
    _migrate(state)
    enable_multiprocess(settings.database_url, clear=True)  # shared by gunicorn's workers and this worker
    server = subprocess.Popen(gunicorn_argv(bind or settings.bind))
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    def _watch() -> None:
        server.wait()
        stop.set()

    watcher = threading.Thread(target=_watch, daemon=True)
    watcher.start()
    try:
        run_worker(settings, stop=stop)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    sys.exit(server.returncode or 0)


@click.command()
@click.pass_obj
def worker(state: CliState) -> None:
    """Run the delivery worker: plans events, fires abandonment timers, calls the destinations. With
    BRIDGE_WORKER_METRICS_BIND set, it also serves its own /metrics and /healthz there."""
    from bridge.delivery.service import run_worker

    settings = state.settings
    enable_multiprocess(settings.database_url, clear=False)  # the web on this host may be running: keep its files
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    listener = _worker_listener(settings)
    try:
        run_worker(settings, stop=stop)
    finally:
        if listener is not None:
            listener.close()
            listener.db.dispose()


def _worker_listener(settings: Settings) -> WorkerHttp | None:
    """The worker's own /metrics listener, started when BRIDGE_WORKER_METRICS_BIND is set (a taken port stops
    start-up with one line naming the setting). `storebridge run` starts none: its web's /metrics already
    includes this worker's counters, through the shared metrics directory."""
    if not settings.worker_metrics_bind:
        return None
    from bridge.logs import configure_logging
    from bridge.worker_http import WorkerHttp

    configure_logging(settings.log_level, settings)
    # A scrape is a request: bounded like the web's, so a stalled database answers 503, not a hung scrape.
    database = Database.for_settings(settings, serving_requests=True)
    listener = WorkerHttp(settings.worker_metrics_bind, database, lease_seconds=settings.lease_seconds)
    listener.start()
    return listener
