"""Scrape-time gauges for the alert rules (deploy/prometheus/alerts.yml), read from the database like the
queue gauges: seconds since each configured source's last webhook, the BRIDGE_QUIET_ALERT threshold the rule
compares it with, and whether each store's last reconciliation failed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from bridge.alerts.conditions import last_webhooks
from bridge.settings import Settings
from bridge.storage.tables import store_sweeps


class AlertGauges:
    """A prometheus_client collector; registered by `bridge.metrics_scrape.render` when it has the settings."""

    def __init__(self, db: Any, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def describe(self) -> list[Any]:
        """Nothing up front: registering must not query the database."""
        return []

    def collect(self) -> Iterator[Any]:
        """The gauges; nothing when the database cannot be read (`bridge_metrics_database_up` says so)."""
        from prometheus_client.core import GaugeMetricFamily

        try:
            last = last_webhooks(self.db, self.settings.sources_with_secrets)
            query = select(store_sweeps.c.name, store_sweeps.c.last_outcome)
            with self.db.read() as conn:
                sweeps = conn.execute(query.where(store_sweeps.c.name.like("reconcile:%"))).all()
        except Exception:  # a scrape answers while the database is down (DatabaseCollector logs it)
            return
        quiet = GaugeMetricFamily("bridge_quiet_alert_seconds", "BRIDGE_QUIET_ALERT: a source silent this long alerts.")
        quiet.add_metric([], self.settings.quiet_alert)
        yield quiet
        age = GaugeMetricFamily(
            "bridge_source_last_webhook_age_seconds",
            "Seconds since the last webhook stored from each configured source (absent: none yet).",
            labels=["source"],
        )
        now = time.time()
        for source, received in sorted(last.items()):
            age.add_metric([source], max(0.0, now - received.timestamp()))
        yield age
        failing = GaugeMetricFamily(
            "bridge_reconcile_failing", "1 if the last reconciliation run of a store failed.", labels=["source"]
        )
        for name, outcome in sorted(sweeps):
            failing.add_metric([name.partition(":")[2]], 1 if outcome == "failed" else 0)
        yield failing
