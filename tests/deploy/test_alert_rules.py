"""deploy/prometheus/alerts.yml: valid Prometheus rules (`promtool check rules` when promtool is on PATH or in
$PROMTOOL), each alert complete, and every metric an expression uses exported by the app's /metrics."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
DURATION = re.compile(r"^\d+[smhdwy]$")
METRIC = re.compile(r"\b(bridge_[a-z0-9_]+)\b")
#: One rule per condition of spec §15 (and of bridge/alerts/conditions.py).
EXPECTED = {
    "StorebridgeDeliveriesBackingUp": "bridge_queue_oldest_pending_age_seconds",
    "StorebridgeDeliveriesGoingDead": "bridge_deliveries_finished_total",
    "StorebridgeDestinationPaused": "bridge_destination_paused",
    "StorebridgeCircuitOpen": "bridge_circuit_open",
    "StorebridgeReconciliationFailing": "bridge_reconcile_failing",
    "StorebridgeSourceQuiet": "bridge_source_last_webhook_age_seconds",
}


def _rules() -> list[dict]:
    parsed = yaml.safe_load(RULES.read_text())
    return [rule for group in parsed["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (the rules are still parsed and checked below)")
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_every_condition_has_a_complete_rule() -> None:
    rules = _rules()
    assert {rule["alert"]: METRIC.findall(rule["expr"])[0] for rule in rules} == EXPECTED
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert "for" not in rule or DURATION.match(rule["for"]), rule
    held = {rule["alert"]: rule.get("for") for rule in rules}
    assert held["StorebridgeDestinationPaused"] == held["StorebridgeCircuitOpen"] == "5m"
    assert "> 900" in next(r["expr"] for r in rules if r["alert"] == "StorebridgeDeliveriesBackingUp")


def test_every_metric_the_rules_use_is_exported(client) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    exported: set[str] = set()
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        exported.add(family.name)
        if family.type == "counter":
            exported.add(f"{family.name}_total")
        exported.update(sample.name for sample in family.samples)
    used = {name for rule in _rules() for name in METRIC.findall(rule["expr"])}
    assert used >= {"bridge_quiet_alert_seconds", *EXPECTED.values()}
    assert used - exported == set(), f"not exported by /metrics: {sorted(used - exported)}"
