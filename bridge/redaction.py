"""Secrets and personal data out of everything the bridge writes for people: log lines, admin answers, the
causes it stores. The one module that decides what counts as a credential, how long a secret must be to be
replaced by value, and what an email address looks like in free text; it imports nothing of the bridge but the
digest of an email, so every layer may use it.

Three ways a secret is found:

- by key: a mapping key that names a credential (`Authorization`, `Api-Token`, `X-Shopify-Hmac-Sha256`,
  any hyphenated header name with `hmac` or `signature` in it, anything with token/secret/…) has its value
  replaced;
- by header pattern: `Authorization: Bearer …`-like text inside a message or a traceback;
- by value: every configured secret, wherever it appears: in a finished log line (`register_secrets`, `scrub`;
  raw, JSON-escaped or URL-encoded) and in stored data an admin answer shows (`Redactor`).

Only *stored* data (events, deliveries, attempts) goes through a `Redactor`, never a whole page or answer: a
page also reflects what the request carried (the login's `next`, a filter's `q`, a path segment), and
redacting that would tell anyone whether a guess is a configured secret (an oracle, spec §11).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from bridge.privacy import log_digest

REDACTED = "[redacted]"
#: Secrets shorter than this are never replaced by value, neither in logs nor in admin answers: replacing `1`
#: or `admin` everywhere would shred every line and say what the secret is. 8, not 4: the admin redactor
#: always used 8, and the log redaction only ever received the admin's list, so 8 is what both did.
MIN_SECRET_CHARS = 8
#: Levels of a stored document the redactor walks; deeper parts are replaced whole (they cannot be shown).
MAX_DEPTH = 200
NESTED = "[nested too deeply to show]"
T = TypeVar("T")

_SECRET_KEYS = re.compile(
    r"(authorization|api-token|api_key|apikey|token|secret|signature|password|hmac|cookie)", re.IGNORECASE
)
#: `Name: value` / `'Name': 'value'` / `Name=value` for the credential headers, in free text.
_SECRET_HEADERS = re.compile(
    r"(?P<name>authorization|api-token|(?<![a-z0-9-])(?:[a-z0-9]+-)+(?:hmac|signature)(?:-[a-z0-9]+)*)"
    r"(?P<sep>[\\'\"]*\s*[:=]\s*[\\'\"]*)"
    r"(?P<value>(?:(?:bearer|basic|token)\s+)?[^\s\\'\",;}\][]+)",
    re.IGNORECASE,
)
#: Query parameters that name a person (AC's `filters[email]`, a search): a log line keeps a digest, not them.
_PERSONAL_KEYS = re.compile(r"(email|name|phone|address|search)", re.IGNORECASE)
#: An email address in free text (an error excerpt, a note, a log line): anything up to a quote, a bracket, a
#: comma or a space on either side of one `@`, ending in a dot and a top-level domain. Delimiters rather than
#: the RFC's letters, so a quoted address ('pat@example.com') loses its quotes to nobody and a non-ASCII one
#: (josé@…) is found whole.
EMAIL = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,}")

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


class HoldsSecrets(Protocol):
    """What the redaction needs of settings: the values of every setting that is a credential."""

    def secret_values(self) -> Iterable[str]: ...


def usable_secrets(values: Iterable[str | None]) -> tuple[str, ...]:
    """The values long enough to be replaced (MIN_SECRET_CHARS), without repeats, longest first (so a secret
    containing another is replaced whole)."""
    kept = {v for v in values if v and len(v) >= MIN_SECRET_CHARS}
    return tuple(sorted(kept, key=len, reverse=True))


def register_secrets(values: Iterable[str | None]) -> None:
    """Add secret values for `scrub` to replace wherever they appear in a log line, raw, JSON-escaped or
    URL-encoded (idempotent, thread-safe; values shorter than MIN_SECRET_CHARS are left out)."""
    global _secret_pattern
    forms: set[str] = set()
    for value in usable_secrets(values):
        forms |= {value, json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        ordered = sorted(_secrets, key=len, reverse=True)  # a secret containing another is replaced whole
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def scrub(text: str) -> str:
    """`text` with credential headers, every registered secret value and every email address replaced."""
    text = _SECRET_HEADERS.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = mask_personal(text) or text
    pattern = _secret_pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


def is_secret_key(key: str) -> bool:
    """True when a mapping key or log field names a credential (its value is never shown)."""
    return _SECRET_KEYS.search(key) is not None


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking mapping key's value replaced (dicts, header objects)."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    items = getattr(value, "items", None)
    if callable(items) and not isinstance(value, str | bytes):  # werkzeug Headers and other mapping-likes
        try:
            return redact(dict(items()))
        except (TypeError, ValueError):
            return value
    return value


def mask_personal(text: str | None) -> str | None:
    """`text` with every email address replaced by `email_sha256:<prefix>` (spec §16: logs carry ids, never
    emails); for free text that may quote a request or a response."""
    if not text or "@" not in text:
        return text
    return EMAIL.sub(lambda m: log_digest(m.group(0)), text)


def without_emails(text: str) -> str:
    """`text` with every email address replaced by `[email]`: a destination's message ("not a valid email
    address: pat@example.com") is a cause worth logging, the address in it is not."""
    return EMAIL.sub("[email]", text)


def _query_value(key: str, value: str) -> str:
    if is_secret_key(key):
        return REDACTED
    if "@" in value or "email" in key.lower():
        return log_digest(value) if value else value
    return REDACTED if _PERSONAL_KEYS.search(key) and value else value


def safe_url(url: str) -> str:
    """`url` without a password in it, with secret-looking query parameters redacted and personal ones (an
    email, a name, a search) replaced by a digest or redacted (for logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    netloc = parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, _query_value(k, v)) for k, v in pairs], safe="[]:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Redactor:
    """Replaces every secret in a JSON-like document (keys and string values)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = usable_secrets(secrets)

    @classmethod
    def for_settings(cls, settings: HoldsSecrets) -> Redactor:
        """The redactor of `settings`' secrets (those of at least MIN_SECRET_CHARS)."""
        return cls(settings.secret_values())

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
        assert dataclasses.is_dataclass(record) and not isinstance(record, type)
        changes = {f.name: self.scrub(getattr(record, f.name)) for f in dataclasses.fields(record)}
        return dataclasses.replace(record, **changes)
