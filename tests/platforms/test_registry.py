"""The platform registry: every platform declares itself whole, and what it declares holds (its secret headers
are redacted in logs and never stored, its OpenAPI example is one of its fixtures, its README exists)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.platforms import PLATFORMS, READERS, SOURCES
from bridge.platforms.platform import Platform
from bridge.redaction import scrub
from tests.helpers.env import fixture_path

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"


def test_the_registry_lists_each_platform_once_under_its_source_name() -> None:
    assert list(PLATFORMS) == ["shopify", "woocommerce", "ecartapi", "custom"]
    assert all(isinstance(p, Platform) and p.source.name == name for name, p in PLATFORMS.items())
    assert {name: p.source for name, p in PLATFORMS.items()} == SOURCES
    assert {name: p.reader for name, p in PLATFORMS.items() if p.reader} == READERS


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_secret_headers_are_redacted_in_free_text_and_never_kept(name: str) -> None:
    platform = PLATFORMS[name]
    for header in platform.secret_headers:
        line = scrub(f"received {{'{header}': 'c2lnbmF0dXJlLXZhbHVl'}}")
        assert "c2lnbmF0dXJlLXZhbHVl" not in line, line
        assert header.lower() not in (kept.lower() for kept in platform.source.kept_headers)


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_each_platform_has_its_readme_and_its_example_fixture(name: str) -> None:
    platform = PLATFORMS[name]
    assert (BRIDGE / "platforms" / name / "README.md").is_file()
    assert fixture_path(name, platform.openapi.example["fixture"]).is_file()
    assert platform.signing_variable.startswith("BRIDGE_")
