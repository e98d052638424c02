"""Keep setting values (secrets, tokens, the database password) out of admin answers, whatever got stored.

Only *stored* data (events, deliveries, attempts) goes through the redactor, never a whole page or answer: a
page also reflects what the request carried (the login's `next`, a filter's `q`, a path segment), and
redacting that would tell anyone whether a guess is a configured secret (an oracle, spec §11). Values shorter
than MIN_SECRET_CHARS are not redacted either: replacing `1` or `admin` everywhere says what the secret is.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from bridge.platforms import webhook_secrets
from bridge.settings import Settings

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8
#: Levels of a stored document the redactor walks; deeper parts are replaced whole (they cannot be shown).
MAX_DEPTH = 200
NESTED = "[nested too deeply to show]"
T = TypeVar("T")


def secret_values(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, longest first (so a secret containing another is replaced whole)."""
    values: set[str] = {
        *webhook_secrets(settings),  # every platform's
        # A Standard Webhooks secret is also used without its prefix (the base64 key).
        *(s.removeprefix("whsec_") for s in settings.webhook_secrets),
    }
    # An alert URL (a Slack incoming webhook) is itself the credential.
    for token in (settings.ac_token, settings.ecart_token, settings.admin_token, settings.alert_url):
        if token:
            values.add(token)
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL holds no password we could find; the settings check rejects it anyway
        password = None
    if password:
        values.add(str(password))
    return tuple(sorted((v for v in values if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True))


class Redactor:
    """Replaces every secret in a JSON-like document (keys and string values)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        """The redactor of `settings`' secrets."""
        return cls(secret_values(settings))

    def text(self, value: str) -> str:
        """`value` with every secret replaced."""
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def scrub(self, document: Any, _depth: int = 0) -> Any:
        """A copy of `document` (dicts, lists, strings, bytes, scalars) with every secret replaced; parts
        nested deeper than MAX_DEPTH are replaced by a marker (a stored body may be ~1000 levels deep)."""
        if isinstance(document, str):
            return self.text(document)
        if isinstance(document, bytes | memoryview):
            return self.text(bytes(document).decode("utf-8", errors="replace")).encode()
        if isinstance(document, dict | list | tuple) and _depth >= MAX_DEPTH:
            return NESTED
        if isinstance(document, dict):
            return {self.text(k) if isinstance(k, str) else k: self.scrub(v, _depth + 1) for k, v in document.items()}
        if isinstance(document, list | tuple):
            return [self.scrub(item, _depth + 1) for item in document]
        return document

    def record(self, record: T) -> T:
        """A copy of a stored record (a dataclass such as EventRecord) with every field scrubbed."""
        if not self.secrets:
            return record
        changes = {f.name: self.scrub(getattr(record, f.name)) for f in dataclasses.fields(record)}  # type: ignore[arg-type]
        return dataclasses.replace(record, **changes)  # type: ignore[type-var]
