"""Logging: one JSON object per line (or, on a terminal, one readable line), with secrets redacted wherever
they could appear.

`JsonFormatter` and `TextFormatter` apply bridge.redaction to every record (by key, by header pattern, by
registered value, emails masked), so every logger (the bridge's, gunicorn's, a library's) is covered.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.redaction import REDACTED, is_secret_key, mask_personal, redact, register_secrets, safe_url, scrub

if TYPE_CHECKING:
    from bridge.settings import Settings

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def register_settings_secrets(settings: Settings) -> None:
    """Register every secret `settings` hold (source secrets, tokens, the database password)."""
    register_secrets(settings.secret_values())


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
                entry[key] = REDACTED if is_secret_key(key) else redact(value)
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
                shown = REDACTED if is_secret_key(key) else redact(value)
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
