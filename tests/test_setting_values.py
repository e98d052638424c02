"""Durations with units and the closest-setting hint, as functions (the CLI tests show them end to end)."""

from __future__ import annotations

import pytest

from bridge.setting_values import parse_duration, unknown_variable_warnings

KNOWN = ("BRIDGE_AC_TOKEN", "BRIDGE_AC_URL", "BRIDGE_WOOCOMMERCE_SECRET", "BRIDGE_DATABASE_URL", "BRIDGE_BIND")


@pytest.mark.parametrize(
    "text, seconds",
    [("90", 90), ("0.5", 0.5), ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("250ms", 0.25),
     ("1h30m", 5400), (" 1H ", 3600), ("1h 30m", 5400)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1y", "1 hour", "-5", "5m-", "1e3", "1h30"])
def test_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_unknown_names_get_the_closest_known_one_and_known_or_foreign_names_nothing() -> None:
    names = ["BRIDGE_AC_API_KEY", "BRIDGE_WOO_SECRET", "BRIDGE_DB_URL", "BRIDGE_PORT", "BRIDGE_ZZZZZZZZ",
             "BRIDGE_AC_TOKEN", "BRIDGE_METRICS_DIR", "BRIDGE_TEST_PG_DSN", "PATH"]  # fmt: skip
    assert unknown_variable_warnings(names, KNOWN) == [
        "BRIDGE_AC_API_KEY is not a setting the bridge reads, so it is ignored; did you mean BRIDGE_AC_TOKEN?",
        "BRIDGE_DB_URL is not a setting the bridge reads, so it is ignored; did you mean BRIDGE_DATABASE_URL?",
        "BRIDGE_PORT is not a setting the bridge reads, so it is ignored; did you mean BRIDGE_BIND?",
        "BRIDGE_WOO_SECRET is not a setting the bridge reads, so it is ignored; did you mean "
        "BRIDGE_WOOCOMMERCE_SECRET?",
        "BRIDGE_ZZZZZZZZ is not a setting the bridge reads, so it is ignored",
    ]
