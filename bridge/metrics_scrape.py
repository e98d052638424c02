"""The `/metrics` answer at scrape time: every process's instruments (bridge/metrics.py) plus gauges read from
the database, so every process answers the same: queue depth and age, circuit and pause of each registered
destination, unplanned events, table sizes."""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterable, Iterator
from typing import Any

from bridge.destinations.registry import names as destination_names
from bridge.metrics import CONTENT_TYPE, instruments, multiprocess_enabled

log = logging.getLogger("bridge.metrics")


class DatabaseCollector:
    """Gauges read from the database at scrape time: the same figure from every process."""

    def __init__(self, db: Any, destinations: Iterable[str] | None = None) -> None:
        self.db = db
        # Every registered destination has its gauges, zero before its first delivery.
        self.destinations = tuple(destination_names() if destinations is None else destinations)

    def describe(self) -> list[Any]:
        """Nothing up front: registering must not query the database."""
        return []

    def collect(self) -> Iterator[Any]:
        """Queue figures per destination, unplanned events and the circuit state of each destination."""
        from prometheus_client.core import GaugeMetricFamily

        from bridge.storage.facade import Storage
        from bridge.storage.pauses import pause_label
        from bridge.timeutil import utcnow

        up = GaugeMetricFamily("bridge_metrics_database_up", "1 if this scrape could read the database.")
        try:
            storage = Storage.of(self.db)
            queries = storage.queries
            queue, unplanned, throttles = queries.queue(utcnow()), queries.unplanned(), storage.throttles.all()
        except Exception as exc:  # a scrape must answer even while the database is down
            log.warning("metrics: database unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        names = sorted({*self.destinations, *queue, *throttles})
        one = ["destination"]
        gauges = {
            "depth": GaugeMetricFamily("bridge_queue_depth", "Deliveries pending or in flight.", labels=one),
            "age": GaugeMetricFamily(
                "bridge_queue_oldest_pending_age_seconds", "Oldest pending/in-flight delivery (0: none).", labels=one
            ),
            "status": GaugeMetricFamily(
                "bridge_deliveries_by_status", "Deliveries by current status.", labels=[*one, "status"]
            ),
            "open": GaugeMetricFamily("bridge_circuit_open", "1 while the circuit is open.", labels=one),
            "failures": GaugeMetricFamily("bridge_circuit_consecutive_failures", "Consecutive failures.", labels=one),
            "paused": GaugeMetricFamily(
                "bridge_destination_paused",
                "1 while paused; reason: manual, token_rejected or retry_after (empty when not paused).",
                labels=[*one, "reason"],
            ),
        }
        now = time.time()
        for name in names:
            entry = queue.get(name, {})
            gauges["depth"].add_metric([name], entry.get("depth", 0))
            gauges["age"].add_metric([name], entry.get("oldest_pending_age") or 0.0)
            for status, count in sorted(entry.get("by_status", {}).items()):
                gauges["status"].add_metric([name, status], count)
            state = throttles.get(name)
            gauges["open"].add_metric([name], 1 if state and state.circuit_open_until > now else 0)
            gauges["failures"].add_metric([name], state.consecutive_failures if state else 0)
            reason = pause_label(state, now)
            gauges["paused"].add_metric([name, reason], 1 if reason else 0)
        yield from gauges.values()
        unplanned_gauge = GaugeMetricFamily("bridge_events_unplanned", "Events accepted but not planned yet.")
        unplanned_gauge.add_metric([], unplanned)
        yield unplanned_gauge
        from bridge.storage.sizes import gauges as table_gauges

        yield from table_gauges(self.db)


class _Forward:
    """Exposes another registry's metrics (the default one, in single-process mode)."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        return iter(self.registry.collect())


def render(db: Any, settings: Any = None) -> tuple[bytes, str]:
    """The `/metrics` body and content type: every process's instruments plus the database gauges (and, given
    the settings, the alert gauges of bridge/alerts/gauges.py)."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    instruments()
    registry = CollectorRegistry()
    if multiprocess_enabled():
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(db))
    if settings is not None:
        from bridge.alerts.gauges import AlertGauges

        registry.register(AlertGauges(db, settings))
    for attempt in range(3):
        try:
            return generate_latest(registry), CONTENT_TYPE
        except (struct.error, ValueError, OSError):
            # A process that has just started may be caught creating its metrics file (still empty):
            # reading again a moment later finds it complete.
            if attempt == 2:
                raise
            time.sleep(0.02)
    raise AssertionError("unreachable")
