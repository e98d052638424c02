"""Setting values beyond marshmallow's own fields: durations with units (`90s`, `15m`, `1h`, `2d`, or plain
seconds), comma lists, on/off switches, and the warning for a `BRIDGE_*` variable no setting reads (a typo is
otherwise silently ignored).

Imports nothing from the bridge, so every settings module (the core's and each integration's) can use it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from marshmallow import ValidationError
from marshmallow import fields as mfields

#: Seconds in one of each unit a duration may use.
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_PART = re.compile(rf"({_NUMBER})\s*(ms|s|m|h|d)", re.IGNORECASE)
_WHOLE = re.compile(rf"^\s*(?:(?:{_NUMBER})\s*(?:ms|s|m|h|d)\s*)+$", re.IGNORECASE)
_PLAIN = re.compile(rf"^\s*(?:{_NUMBER})\s*$")
DURATION_HINT = "a number of seconds (90) or a number with a unit: 90s, 15m, 1h, 2d (also 1h30m)"

#: Variables read outside the Settings object (and the test suite's own), never reported as unknown.
READ_ELSEWHERE = frozenset({"BRIDGE_METRICS_DIR"})
IGNORED_PREFIXES = ("BRIDGE_TEST_",)


def parse_duration(text: str) -> float:
    """Seconds in `text`: `90` and `90s` are 90.0, `15m` 900.0, `1h30m` 5400.0, `250ms` 0.25.

    Raises ValueError (with the accepted forms in its message) for anything else."""
    if _PLAIN.match(text):
        return float(text)
    if not _WHOLE.match(text):
        raise ValueError(f"not a duration: {text.strip()!r}; use {DURATION_HINT}")
    return sum(float(number) * UNITS[unit.lower()] for number, unit in _PART.findall(text))


class Duration(mfields.Field[float | int]):
    """A duration setting: seconds as a float (or an int with `whole=True`, for gunicorn's timeouts)."""

    def __init__(self, *, whole: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.whole = whole

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | int:
        if isinstance(value, bool):
            raise ValidationError(f"must be {DURATION_HINT}")
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str):
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        else:
            raise ValidationError(f"must be {DURATION_HINT}")
        if not self.whole:
            return seconds
        if not seconds.is_integer():
            raise ValidationError(f"must be whole seconds, got {seconds:g} s")
        return int(seconds)


class CommaList(mfields.Field[tuple[str, ...]]):
    """A comma-separated list of non-empty strings ("a, b" -> ("a", "b"))."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, ...]:
        if not isinstance(value, str):
            raise ValidationError("must be a comma-separated string")
        return tuple(part.strip() for part in value.split(",") if part.strip())


#: The words an on/off setting accepts, in lower, upper and title case.
ON = {v for w in ("on", "1", "true", "yes") for v in (w, w.upper(), w.title())}
OFF = {v for w in ("off", "0", "false", "no") for v in (w, w.upper(), w.title())}


class UpperString(mfields.String):
    """A string compared case-insensitively (`debug` and `DEBUG` are the same log level)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).strip().upper()


def trim_url(url: str) -> str:
    """A base URL without its trailing slash or `/api/3` (people paste the URL from the ActiveCampaign
    developer page with /api/3 on it; every client adds its own path itself)."""
    url = url.rstrip("/")
    return url[: -len("/api/3")] if url.endswith("/api/3") else url


class BaseUrl(mfields.Url):
    """An http(s) base URL of a service, trimmed as it loads (`trim_url`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(require_tld=False, schemes={"http", "https"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return trim_url(str(super()._deserialize(value, attr, data, **kwargs)))


class DurationList(mfields.Field[tuple[float, ...]]):
    """Comma-separated positive durations (`5s, 30s, 2m, 10m`): the retry schedule."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[float, ...]:
        if not isinstance(value, str):
            raise ValidationError("must be comma-separated durations, e.g. 5s,30s,2m,10m")
        try:
            numbers = tuple(parse_duration(item) for item in value.split(",") if item.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if not numbers or any(n <= 0 for n in numbers):
            raise ValidationError("must list at least one positive duration, e.g. 5s,30s,2m,10m")
        return numbers


def unknown_variable_warnings(
    names: Iterable[str], known: Iterable[str], synonyms: Iterable[tuple[str, str]] = ()
) -> list[str]:
    """One warning per `BRIDGE_*` name that no setting reads, naming the closest known one when there is one
    (`BRIDGE_AC_API_KEY`: "did you mean BRIDGE_AC_TOKEN?"). Sorted, so start-up says them in a stable order.

    `synonyms` are (word people use, word a setting uses) pairs beyond the common ones (`SYNONYMS`): each
    integration declares its own (its short names), so this module names none."""
    known_names = sorted({*known, *READ_ELSEWHERE})
    pairs = (*SYNONYMS, *synonyms)
    warnings = []
    for name in sorted(set(names)):
        if not name.startswith("BRIDGE_") or name in known_names or name.startswith(IGNORED_PREFIXES):
            continue
        close = _closest(name, known_names, pairs)
        hint = f"; did you mean {close}?" if close else ""
        warnings.append(f"{name} is not a setting the bridge reads, so it is ignored{hint}")
    return warnings


#: Words people use for what a setting calls otherwise (`BRIDGE_DB_URL` is `BRIDGE_DATABASE_URL`).
SYNONYMS = (
    ("API_KEY", "TOKEN"),
    ("APIKEY", "TOKEN"),
    ("KEY", "TOKEN"),
    ("PASSWORD", "TOKEN"),
    ("SECRET", "TOKEN"),
    ("TOKEN", "SECRET"),
    ("ENDPOINT", "URL"),
    ("HOST", "URL"),
    ("DB", "DATABASE"),
    ("PORT", "BIND"),
    ("LISTEN", "BIND"),
    ("ADDRESS", "BIND"),
)


def _variants(stem: str, synonyms: Iterable[tuple[str, str]]) -> list[str]:
    """`stem` and the names it becomes with the synonyms swapped in (one or several), original first."""
    found = [stem]
    for old, new in synonyms:
        pattern = re.compile(rf"(?<![A-Z0-9]){old}(?![A-Z0-9])")
        found += [pattern.sub(new, name) for name in found if pattern.search(name)]
    return list(dict.fromkeys(found))


def _closest(name: str, known: list[str], synonyms: Iterable[tuple[str, str]]) -> str | None:
    """The known name most like `name`, compared without the common prefix (every name has it, which would
    make any two look alike): a synonym that names a setting exactly, else the closest spelling."""
    stems = {k.removeprefix("BRIDGE_"): k for k in known}
    variants = _variants(name.removeprefix("BRIDGE_"), synonyms)
    exact = next((v for v in variants if v in stems), None)
    if exact is not None:
        return stems[exact]
    scored = [(difflib.SequenceMatcher(None, variant, other).ratio(), other) for variant in variants for other in stems]
    ratio, best = max(scored, default=(0.0, ""))
    return stems[best] if ratio >= 0.6 else None
