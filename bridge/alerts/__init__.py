"""Alerts: the conditions worth waking someone for (read from the database, so every process agrees), the
scrape-time gauges Prometheus's rules in deploy/prometheus/alerts.yml use, and the worker's own notifier for
BRIDGE_ALERT_URL (docs/alerts.md)."""
