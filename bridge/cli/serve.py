"""`bridge run`, `bridge web`: start the service under gunicorn (and, for `run`, the delivery worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import click

from bridge.metrics import enable_multiprocess
from bridge.storage import Database

#: The packaged gunicorn configuration (bridge/gunicorn_conf.py): found wherever the package is installed.
GUNICORN_CONF = "python:bridge.gunicorn_conf"


def gunicorn_argv(bind: str) -> list[str]:
    """The command line that serves the app under gunicorn with the project's settings."""
    return [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF, "--bind", bind, "bridge.app:create_app()"]


def _migrate(state: object) -> None:
    settings = state.settings  # type: ignore[attr-defined]
    Database.for_settings(settings).upgrade()


@click.command()
@click.option("--bind", help="host:port to listen on (default: BRIDGE_BIND).")
@click.pass_obj
def web(state: object, bind: str | None) -> None:
    """Apply migrations, then serve the webhook endpoints under gunicorn."""
    _migrate(state)
    enable_multiprocess(state.settings.database_url, clear=True)  # type: ignore[attr-defined]
    argv = gunicorn_argv(bind or state.settings.bind)  # type: ignore[attr-defined]
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process with gunicorn; argv is built above


@click.command()
@click.option("--bind", help="host:port to listen on (default: BRIDGE_BIND).")
@click.pass_obj
def run(state: object, bind: str | None) -> None:
    """Everything in one command: migrations, the web server and the delivery worker."""
    from bridge.delivery.service import run_worker

    _migrate(state)
    settings = state.settings  # type: ignore[attr-defined]
    enable_multiprocess(settings.database_url, clear=True)  # shared by gunicorn's workers and this worker
    server = subprocess.Popen(gunicorn_argv(bind or settings.bind))
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    watcher = threading.Thread(target=lambda: (server.wait(), stop.set()), daemon=True)
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
def worker(state: object) -> None:
    """Run the delivery worker: plans events, fires abandonment timers, calls the destinations."""
    from bridge.delivery.service import run_worker

    settings = state.settings  # type: ignore[attr-defined]
    enable_multiprocess(settings.database_url, clear=False)  # the web on this host may be running: keep its files
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_worker(settings, stop=stop)
