"""Prometheus metrics, correct across gunicorn's worker processes and the delivery worker.

Multiprocess mode: prometheus_client picks how it stores values when it is first imported, from
`PROMETHEUS_MULTIPROC_DIR`. `bridge web`, `bridge run` and `bridge worker` call `enable_multiprocess` before
anything imports it, so every process of one host writes its counters and histograms to files in one shared
directory, and `/metrics` (any gunicorn worker) sums them. This module therefore imports prometheus_client
lazily. Without the variable (the Flask test client, a bare `create_app()`), the default in-process
registry is used and nothing else changes.

Gauges that describe shared state (queue depth, oldest pending age, circuit state) are not recorded by any
process: `DatabaseCollector` (bridge/metrics_scrape.py) reads them from the database at scrape time, so every
process answers the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError

log = logging.getLogger("bridge.metrics")

METRICS_DIR_VARIABLE = "BRIDGE_METRICS_DIR"
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
INGEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PID_FILE = re.compile(r"_(\d+)\.db$")


# -- multiprocess wiring ---------------------------------------------------------------------------------


def metrics_dir(database_url: str, environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Path:
    """Where this host's processes share their metric files: `BRIDGE_METRICS_DIR` (environment, then `.env`),
    else `<temp dir>/storebridge-metrics-<hash of the database>`, the same for a web and a worker that use the
    same database from any working directory."""
    environ = os.environ if environ is None else environ
    chosen = (environ.get(METRICS_DIR_VARIABLE) or "").strip()
    if not chosen and env_file and Path(env_file).is_file():
        from dotenv import dotenv_values

        chosen = (dotenv_values(env_file).get(METRICS_DIR_VARIABLE) or "").strip()
    if chosen:
        return Path(chosen).expanduser().resolve()
    return default_metrics_dir(database_url)


def default_metrics_dir(database_url: str) -> Path:
    """`<temp dir>/storebridge-metrics-<hash of the database identity>`."""
    digest = hashlib.sha256(_database_identity(database_url).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"storebridge-metrics-{digest}"


def _database_identity(database_url: str) -> str:
    """The database a URL points at: SQLite paths made absolute, the password left out."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=True)


def enable_multiprocess(database_url: str, *, clear: bool, environ: Mapping[str, str] | None = None) -> Path:
    """Create the shared directory, optionally delete the files of processes that are gone (web and `run`
    start; never the worker, whose web may be running), and set `PROMETHEUS_MULTIPROC_DIR` for this process and
    its children. Call before anything imports prometheus_client."""
    path = metrics_dir(database_url, environ)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The default lives in a shared temp dir under a predictable name: never use one another user made.
    shared_default = path == default_metrics_dir(database_url)
    if shared_default and hasattr(os, "getuid") and path.stat().st_uid != os.getuid():
        raise BridgeError(f"metrics directory {path} belongs to another user; set {METRICS_DIR_VARIABLE}")
    if clear:
        removed = clear_stale(path)
        log.debug("removed stale metric files", extra={"files": removed, "dir": str(path)})
    os.environ[MULTIPROC_VARIABLE] = str(path)
    return path


def clear_stale(path: Path) -> int:
    """Delete the metric files of processes that no longer run (`<type>_<pid>.db`); returns how many. Files of
    live processes (a worker started before the web) are kept, so their counts survive a web restart."""
    removed = 0
    for file in path.glob("*.db"):
        match = _PID_FILE.search(file.name)
        if match and _alive(int(match.group(1))):
            continue
        file.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process is only starting: a file with its pid is a previous holder's
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def multiprocess_enabled() -> bool:
    """True when this process shares its metrics through `PROMETHEUS_MULTIPROC_DIR`."""
    return bool(os.environ.get(MULTIPROC_VARIABLE))


# -- instruments (recorded by every process) -------------------------------------------------------------


class Instruments:
    """The counters and histograms; created once per process, on first use."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.events = Counter(
            "bridge_events_received", "Webhook requests by source, kind and outcome.", ("source", "kind", "outcome")
        )
        self.interpreted = Counter(
            "bridge_events_interpreted",
            "Raw platform events the worker mapped and validated, by source, kind and outcome.",
            ("source", "kind", "outcome"),
        )
        self.ingest = Histogram(
            "bridge_ingest_duration_seconds", "Webhook request handling time.", ("source",), buckets=INGEST_BUCKETS
        )
        self.finished = Counter(
            "bridge_deliveries_finished", "Deliveries that reached a final state.", ("destination", "state")
        )
        self.attempts = Counter(
            "bridge_delivery_attempts", "Destination calls by status class.", ("destination", "status_class")
        )
        self.attempt_latency = Histogram(
            "bridge_delivery_attempt_duration_seconds",
            "Destination call time (calls really sent).",
            ("destination",),
            buckets=ATTEMPT_BUCKETS,
        )
        self.waited = Counter(
            "bridge_ratelimit_wait_seconds", "Seconds spent waiting for a send slot in the pacer.", ("destination",)
        )
        self.limited = Counter("bridge_ratelimited_responses", "429 answers received.", ("destination",))
        self.reconcile_runs = Counter(
            "bridge_reconcile_runs", "Reconciliation runs by source and outcome (ok, failed).", ("source", "outcome")
        )
        self.reconcile_recovered = Counter(
            "bridge_reconcile_events_recovered",
            "Events reconciliation stored that no webhook had brought, by source.",
            ("source",),
        )


_instruments: Instruments | None = None
_instruments_lock = threading.Lock()


def instruments() -> Instruments:
    """This process's instruments (created on first call, after multiprocess mode is decided)."""
    global _instruments
    if _instruments is None:
        with _instruments_lock:
            if _instruments is None:
                _instruments = Instruments()
    return _instruments


def webhook_received(source: str, kind: str | None, outcome: str, seconds: float) -> None:
    """Count one webhook request and observe its latency (the hot path: one inc, one observe)."""
    m = _instruments or instruments()
    m.events.labels(source, kind or "none", outcome).inc()
    m.ingest.labels(source).observe(seconds)


def event_interpreted(source: str, kind: str | None, outcome: str) -> None:
    """Count one raw event interpreted by the worker: `accepted` or `quarantined`."""
    (_instruments or instruments()).interpreted.labels(source, kind or "none", outcome).inc()


def attempt_recorded(destination: str, call: Any) -> None:
    """Count one recorded destination call (`call` is a `CallLog`)."""
    m = _instruments or instruments()
    m.attempts.labels(destination, status_class(call.outcome, call.status_code)).inc()
    if call.outcome != "dry_run":
        m.attempt_latency.labels(destination).observe(call.duration_ms / 1000)
    if call.status_code == 429:
        m.limited.labels(destination).inc()


def status_class(outcome: str, status_code: int | None) -> str:
    """`dry_run`, `error` (no HTTP answer), or `2xx`…`5xx`."""
    if outcome == "dry_run":
        return "dry_run"
    if status_code is None:
        return "error"
    return f"{status_code // 100}xx"


def delivery_finished(destination: str, state: str) -> None:
    """Count a delivery that reached a final state (done, dead, stale, skipped, dry_run)."""
    (_instruments or instruments()).finished.labels(destination, state).inc()


def rate_limit_waited(destination: str, seconds: float) -> None:
    """Add time a sender waited for its pacing slot."""
    if seconds > 0:
        (_instruments or instruments()).waited.labels(destination).inc(seconds)


def reconcile_finished(source: str, outcome: str, recovered: int) -> None:
    """Count one reconciliation run and the events it recovered."""
    m = _instruments or instruments()
    m.reconcile_runs.labels(source, outcome).inc()
    m.reconcile_recovered.labels(source).inc(recovered)
