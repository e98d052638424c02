"""Logging: one JSON object per line (or, on a terminal, one readable line), with secrets redacted wherever
they could appear.

Three layers of redaction, all applied by `JsonFormatter` and `TextFormatter`, so every logger (the bridge's,
gunicorn's, a library's) is covered:

- by key: an `extra` field or a mapping key that names a credential (`Authorization`, `Api-Token`,
  `X-Shopify-Hmac-Sha256`, `X-WC-Webhook-Signature`, `webhook-signature`, anything with token/secret/…);
- by header pattern: `Authorization: Bearer …`-like text inside a message or a traceback;
- by value: every configured secret (registered from Settings at app and worker start), wherever it appears
  in the finished line, raw, JSON-escaped or URL-encoded.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from bridge.privacy import log_digest

if TYPE_CHECKING:
    from bridge.settings import Settings

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SECRET_KEYS = re.compile(
    r"(authorization|api-token|api_key|apikey|token|secret|signature|password|hmac|cookie)", re.IGNORECASE
)
#: `Name: value` / `'Name': 'value'` / `Name=value` for the credential headers, in free text.
_SECRET_HEADERS = re.compile(
    r"(?P<name>authorization|api-token|x-shopify-hmac-sha256|x-wc-webhook-signature|webhook-signature)"
    r"(?P<sep>[\\'\"]*\s*[:=]\s*[\\'\"]*)"
    r"(?P<value>(?:(?:bearer|basic|token)\s+)?[^\s\\'\",;}\][]+)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
#: Query parameters that name a person (AC's `filters[email]`, a search): a log line keeps a digest, not them.
_PERSONAL_KEYS = re.compile(r"(email|name|phone|address|search)", re.IGNORECASE)
#: An email address anywhere in free text (an error excerpt, a note): replaced by its digest's prefix.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_EMAILS = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,}")
#: Configured secrets shorter than this are not replaced by value (they would shred every line).
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def register_secrets(values: Iterable[str | None]) -> None:
    """Add secret values to replace wherever they appear in a log line (idempotent, thread-safe)."""
    global _secret_pattern
    forms: set[str] = set()
    for value in values:
        if not value or len(value) < MIN_SECRET_LENGTH:
            continue
        forms |= {value, json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(forms)
        ordered = sorted(_secrets, key=len, reverse=True)  # a secret containing another is replaced whole
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_settings_secrets(settings: Settings) -> None:
    """Register every secret `settings` hold (source secrets, tokens, the database password)."""
    from bridge.admin.redact import secret_values  # the one list of what counts as a secret

    register_secrets(secret_values(settings))


def scrub(text: str) -> str:
    """`text` with credential headers, every registered secret value and every email address replaced."""
    text = _SECRET_HEADERS.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = mask_personal(text) or text
    pattern = _secret_pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking mapping key's value replaced (dicts, header objects)."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else redact(v) for k, v in value.items()}
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
    return _EMAIL.sub(lambda m: log_digest(m.group(0)), text)


def _query_value(key: str, value: str) -> str:
    if _SECRET_KEYS.search(key):
        return REDACTED
    if "@" in value or "email" in key.lower():
        return log_digest(value) if value else value
    return REDACTED if _PERSONAL_KEYS.search(key) and value else value


def without_emails(text: str) -> str:
    """`text` with every email address replaced by `[email]`: a destination's message ("not a valid email
    address: pat@example.com") is a cause worth logging, the address in it is not."""
    return _EMAILS.sub("[email]", text)


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


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, pid, message, then the record's `extra`
    fields; secrets are redacted by key, by header pattern and by value."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = REDACTED if _SECRET_KEYS.search(key) else redact(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """A readable line for a terminal: `12:00:01 info  bridge.web: msg key=value …`, redacted like the JSON."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        parts = [f"{when} {record.levelname.lower():7} {record.name}: {record.getMessage()}"]
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                shown = REDACTED if _SECRET_KEYS.search(key) else redact(value)
                text = shown if isinstance(shown, str | int | float) else json.dumps(shown, default=str)
                parts.append(f"{key}={text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return scrub(line)


def make_formatter(log_format: str = "auto", stream: Any = None) -> logging.Formatter:
    """`json`, `text`, or `auto`: text when `stream` (default stderr) is a terminal, JSON otherwise (files,
    pipes, journald, container logs), so machines get JSON and a person trying it out gets sentences."""
    if log_format == "auto":
        stream = stream if stream is not None else sys.stderr
        isatty = getattr(stream, "isatty", None)
        log_format = "text" if callable(isatty) and isatty() else "json"
    return TextFormatter() if log_format == "text" else JsonFormatter()


def _gunicorn_logger_class() -> type:
    from gunicorn.glogging import Logger

    class GunicornLogger(Logger):
        """gunicorn's logger (`logger_class`) with its own lines (boot, worker exits, errors) in the bridge's
        format (BRIDGE_LOG_FORMAT) and redaction."""

        def setup(self, cfg: Any) -> None:
            """Let gunicorn install its handlers, then give every one of them the bridge's formatter."""
            from bridge.settings import load_settings

            super().setup(cfg)
            log_format = load_settings().log_format
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(make_formatter(log_format, getattr(handler, "stream", None)))

    return GunicornLogger


def __getattr__(name: str) -> Any:
    """`GunicornLogger` (bridge/gunicorn_conf.py's `logger_class`) is built on first access, so importing
    this module does not import gunicorn. `GunicornJsonLogger` is its old name."""
    if name in ("GunicornLogger", "GunicornJsonLogger"):
        cls = globals().get("GunicornLogger") or _gunicorn_logger_class()
        globals()["GunicornLogger"] = globals()["GunicornJsonLogger"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configure_logging(level: str = "INFO", settings: Settings | None = None) -> None:
    """Send every log record to stderr, as JSON or readable text (settings.log_format; idempotent); register
    `settings`' secrets for redaction."""
    if settings is not None:
        register_settings_secrets(settings)
    root = logging.getLogger()
    if any(
        getattr(h, "_bridge_handler", False) or isinstance(h.formatter, JsonFormatter | TextFormatter)
        for h in root.handlers
    ):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(settings.log_format if settings is not None else "auto", sys.stderr))
    handler._bridge_handler = True  # type: ignore[attr-defined]
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces its dialect on every revision check (/readyz); migrations log through the CLI instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def log_attempt(log: logging.Logger, delivery: Any, call: Any) -> None:
    """One JSON line per delivery attempt: `delivery` has `id`, `event_id`, `destination` (a `Delivery`), `call`
    is the attempt's `Attempt`. Never headers; the URL without a password or secret-looking query values."""
    log.info(
        "attempt",
        extra={
            "event_id": delivery.event_id,
            "delivery_id": delivery.id,
            "destination": delivery.destination,
            "method": call.method,
            "url": safe_url(call.url),
            "status": call.status_code,
            "duration_ms": call.duration_ms,
            "outcome": call.outcome,
            "error": mask_personal(call.error),
        },
    )
