"""The field types and validators of the admin API's schemas (bridge.admin.schemas): each says in the OpenAPI
document exactly what it enforces."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

# RFC 3339 `date-time` (ISO-8601 with seconds and an offset): exactly what OpenAPI's `format: date-time` means.
# `\Z`, not `$`: `$` also matches before a trailing newline (`cursor=12%0A` got through and failed later).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


class FullMatch(validate.Regexp):
    """A Regexp validator matching the whole value: `$` alone also matches before a trailing newline, so
    `cursor=12%0A` passed and failed later (a 500). The pattern keeps `^…$` for the OpenAPI document."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# No NUL characters (PostgreSQL cannot compare text with them) and no lone surrogates (no database driver can
# encode them; JSON bodies can carry `\ud800`): no email or id contains either.
NO_NUL = FullMatch(r"^[^\x00\ud800-\udfff]*$", error="Must not contain NUL characters or lone surrogates.")


class RFC3339DateTime(fields.DateTime):
    """An RFC 3339 date-time with an explicit offset, loaded as aware UTC.

    Instants beyond what Python can represent in UTC (year 1 with a positive offset, year 9999 with a negative
    one) are clamped to the first or last representable instant, which filters identically.
    """

    default_error_messages = {"invalid": "Not an RFC 3339 date-time with an offset, e.g. 2026-11-20T15:00:00Z."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            edge = datetime.min if parsed.year == datetime.min.year else datetime.max
            return edge.replace(tzinfo=UTC)


def text(max_len: int = 255, **kwargs: Any) -> fields.String:
    """A non-empty string of at most `max_len` characters, without NUL or lone surrogates."""
    return fields.String(validate=[validate.Length(min=1, max=max_len), NO_NUL], **kwargs)


def choice(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    """A string that is one of `choices` (an enum in the OpenAPI document)."""
    return fields.String(validate=validate.OneOf(choices), **kwargs)
