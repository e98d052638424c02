"""Rejected webhooks for the overview, read from the Prometheus counters (`bridge_events_received`, outcome
`rejected_401`): a wrong or missing secret is the commonest set-up mistake, and it leaves nothing in the
database (an unauthenticated request never writes). The counters are summed over every process of the host
since the web last started."""

from __future__ import annotations

from typing import Any

METRIC = "bridge_events_received"
REJECTED = "rejected_401"


def _registry() -> Any:
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    from bridge.metrics import multiprocess_enabled

    if not multiprocess_enabled():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def rejected_by_source() -> dict[str, int]:
    """Source -> webhooks answered 401 (bad or missing signature), this host, since the web started."""
    counts: dict[str, int] = {}
    for metric in _registry().collect():
        if metric.name != METRIC:
            continue
        for sample in metric.samples:
            if sample.name == f"{METRIC}_total" and sample.labels.get("outcome") == REJECTED:
                source = sample.labels.get("source", "unknown")
                counts[source] = counts.get(source, 0) + int(sample.value)
    return {source: n for source, n in sorted(counts.items()) if n}
