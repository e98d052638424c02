"""Helpers for the observability tests: a real `bridge web` process, scraping and parsing `/metrics`, and
reading a process's output as JSON lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import signing

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """GET /metrics on a fresh connection, parsed by prometheus_client: {(sample name, labels): value}."""
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """One sample's value; None when the series does not exist."""
    return samples.get((name, frozenset(labels.items())))


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every series of one sample name."""
    return {labels: v for (n, labels), v in samples.items() if n == name}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a process's output, each parsed as one JSON object (fails on any other line)."""
    entries = []
    for number, line in enumerate(path.read_text(errors="strict").splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"{path.name}:{number} is not JSON: {line!r}")
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def shopify_wrong_signature(body: bytes) -> dict[str, str]:
    """Shopify headers signed with a secret the bridge does not know (401)."""
    return signing.shopify_headers(body, "orders/paid", secret="not-the-configured-secret")


def aware(moment: datetime) -> datetime:
    """An aware datetime from the database (SQLite hands back naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
