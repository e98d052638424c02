"""gunicorn settings for the web process (`gunicorn -c python:bridge.gunicorn_conf`), from bridge.settings.

It lives in the package so that `storebridge web` behaves the same from a pip install anywhere as from a
checkout. Every value comes from the one validated settings object (environment over `.env`), so a bad
`BRIDGE_WEB_*` is reported like any other setting; `storebridge web` loads the settings before it starts
gunicorn, so a bad value never gets this far.

Worker model: `gthread` — a few processes with a few threads each. A webhook request spends most of its time
waiting on the database commit (an fsync with SQLite synchronous=FULL, a round trip with PostgreSQL), during
which the GIL is released, so threads overlap those waits cheaply; several processes use both cores and keep
one slow request from stalling the rest. Async workers would buy nothing: the database drivers are blocking.
Slow or idle clients are the reverse proxy's problem (deploy/nginx/storebridge.conf buffers whole requests), not
gunicorn's.
"""

import multiprocessing
import os
import sys
from typing import TYPE_CHECKING

from bridge.errors import SettingsError
from bridge.settings import load_settings

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

try:
    _settings = load_settings()
except SettingsError as exc:  # plain `gunicorn -c python:bridge.gunicorn_conf`: the same one message, no traceback
    sys.exit(str(exc))

bind = _settings.bind  # `storebridge web --bind` overrides it on the command line
workers = _settings.web_workers or multiprocessing.cpu_count() * 2
worker_class = "gthread"
threads = _settings.web_threads
# With gthread, worker_connections (default 1000) caps the connections one process accepts. Left at 1000, the
# first process to wake took every keep-alive connection of a load test (wrk's 16 all on one worker) and the
# others idled: a 2.5x run-to-run swing in ingest throughput. One connection per thread spreads them evenly;
# extra connections wait in the listen backlog, where another process can take them.
worker_connections = threads
# gthread keeps a connection alive only in the slots above `threads` (worker_connections - threads = 0 here),
# so every answer closes its connection. Say so (keepalive 0) rather than let gunicorn warn at every boot:
# keep-alive towards clients is nginx's job (deploy/nginx/), and a fresh loopback connection per request
# between nginx and gunicorn costs little and lets any idle process take the next request.
keepalive = 0
# Shopify waits 5 s in all; anything near 30 s is stuck, not slow.
timeout = _settings.web_timeout
graceful_timeout = _settings.web_graceful_timeout
# The app logs one line per request itself; gunicorn's access log would only repeat it.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
# Each worker opens its own database connections after the fork.
preload_app = False
# Headers and request line limits stay at gunicorn's defaults; the body limit is BRIDGE_MAX_BODY in the app.
wsgi_app = "bridge.app:create_app()"
# gunicorn's own lines (boot, worker exits) in the same format as the app's, with the same redaction.
logger_class = "bridge.logs.GunicornLogger"
# gunicorn >= 25 opens a control socket (gunicornc) under $HOME/.gunicorn by default: in the image and under
# systemd $HOME is not writable ("Control server error: Permission denied" at every boot). Nothing here uses
# gunicornc; reloads and stops go through signals (SIGHUP, SIGTERM).
control_socket_disable = True


def child_exit(server: "Arbiter", worker: "Worker") -> None:
    """A worker process ended: drop its live-gauge files from the shared Prometheus directory (`bridge web`
    sets PROMETHEUS_MULTIPROC_DIR; its counters stay, so totals survive worker restarts)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server: "Arbiter") -> None:
    """The listening sockets are bound: say once what is running, where, and what it will do."""
    from bridge.logs import configure_logging
    from bridge.startup import log_startup

    configure_logging(_settings.log_level, _settings)
    addresses = [str(listener) for listener in getattr(server, "LISTENERS", [])] or [bind]
    log_startup(_settings, addresses[0])


def post_worker_init(worker: "Worker") -> None:
    """The worker has loaded the app: move every object it holds now (modules, the app, SQLAlchemy's and
    marshmallow's structures, ~100,000 of them) out of the garbage collector's sight. They live as long as the
    process, and a full collection walked them all: 30-65 ms of CPU, landing on whichever request was running
    (measured with bench/hostile.py). Later collections only walk what requests create."""
    import gc

    gc.freeze()
