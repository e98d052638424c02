"""gunicorn settings for the web process, read from the environment.

Worker model: `gthread` — a few processes with a few threads each. A webhook request spends most of its time
waiting on the database commit (an fsync with SQLite synchronous=FULL, a round trip with PostgreSQL), during
which the GIL is released, so threads overlap those waits cheaply; several processes use both cores and keep
one slow request from stalling the rest. Async workers would buy nothing: the database drivers are blocking.
"""

import multiprocessing
import os

bind = os.environ.get("BRIDGE_BIND") or "127.0.0.1:8000"
workers = int(os.environ.get("BRIDGE_WEB_WORKERS") or multiprocessing.cpu_count() * 2)
worker_class = "gthread"
threads = int(os.environ.get("BRIDGE_WEB_THREADS") or 4)
# gthread accepts up to `worker_connections` (default 1000) keep-alive connections per process, and the
# process that wins the accept race takes them all: measured with wrk's 16 connections, one of 4 processes
# served every request while the others idled, and throughput swung 2.5x from run to run by which process that
# was. At most `threads` connections each spreads them evenly (the rest wait in the shared listen backlog).
worker_connections = threads
# Shopify waits 5 s in all; anything near 30 s is stuck, not slow.
timeout = int(os.environ.get("BRIDGE_WEB_TIMEOUT") or 30)
graceful_timeout = int(os.environ.get("BRIDGE_WEB_GRACEFUL_TIMEOUT") or 20)
keepalive = 5
# The app logs one JSON line per request itself; gunicorn's access log would only repeat it.
accesslog = None
errorlog = "-"
loglevel = (os.environ.get("BRIDGE_LOG_LEVEL") or "info").lower()
# Each worker opens its own database connections after the fork.
preload_app = False
# Headers and request line limits stay at gunicorn's defaults; the body limit is BRIDGE_MAX_BODY in the app.
wsgi_app = "bridge.app:create_app()"
# gunicorn's own lines (boot, worker exits) as JSON, with the same redaction as the app's.
logger_class = "bridge.logs.GunicornJsonLogger"


def child_exit(server, worker):
    """A worker process ended: drop its live-gauge files from the shared Prometheus directory (`bridge web`
    sets PROMETHEUS_MULTIPROC_DIR; its counters stay, so totals survive worker restarts)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
