"""Plain words for why a call failed: the one place that turns an exception or an HTTP answer into a cause a
shop owner can act on ("cannot resolve host api.example.com", "timed out after 10 s", "401 token rejected",
AC's own message) instead of a class name or raw JSON. Used by `check`, the logs, the dashboard and the CLI.

A bottom-layer module: it imports nothing from the bridge.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests

#: Longest cause shown; a store's or AC's message beyond this is cut with an ellipsis.
LONGEST = 300

_STATUS_WORDS = {
    400: "bad request",
    401: "token rejected",
    402: "payment required (the account's plan)",
    403: "token rejected (forbidden)",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    409: "conflict",
    413: "request too large",
    422: "refused as invalid",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def host_of(url: str | None) -> str:
    """The host name of `url` (no user info, no port), or "" if it has none."""
    if not url:
        return ""
    return urlsplit(url).hostname or ""


def status_words(status: int) -> str:
    """`401 token rejected`, `503 service unavailable`, `418` for a status without common words."""
    words = _STATUS_WORDS.get(status)
    if words is None and 500 <= status < 600:
        words = "server error"
    return f"{status} {words}" if words else str(status)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _messages(body: Any) -> list[str]:
    """The human messages inside a JSON error body as AC, EcartAPI, Shopify and WooCommerce write them."""
    found: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "title", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                found.append(value.strip())
                break
        errors = body.get("errors")
        if isinstance(errors, str):
            found.append(errors)
        elif isinstance(errors, list):
            for item in errors[:5]:
                found.extend(_messages(item) if isinstance(item, dict) else [str(item)])
        elif isinstance(errors, dict):
            for key, value in list(errors.items())[:5]:
                text = "; ".join(str(v) for v in value[:3]) if isinstance(value, list) else str(value)
                found.append(f"{key}: {text}")
    elif isinstance(body, str) and body.strip():
        found.append(body.strip())
    unique: list[str] = []
    for message in found:
        if message not in unique:
            unique.append(message)
    return unique


def answer_message(text: str | None) -> str:
    """The service's own message out of an answer's body (JSON `errors`/`message`/…), or "" if it holds none.
    A body that is not JSON is used as is when it is short plain text, never when it is an HTML page."""
    if not text or not text.strip():
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        stripped = text.strip()
        if stripped.startswith("<") or len(stripped) > LONGEST:
            return ""
        return _cut(stripped)
    return _cut("; ".join(_messages(body)))


def http_cause(status: int, text: str | None = None) -> str:
    """`HTTP 422 refused as invalid: Email is not valid` — the status in words, then the service's message."""
    message = answer_message(text)
    head = f"HTTP {status_words(status)}"
    return f"{head}: {message}" if message else head


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = current.__cause__ or current.__context__ or nested
        reason = getattr(seen[-1], "reason", None)
        if current is None and isinstance(reason, BaseException):
            current = reason
    return seen


def _text_says(exc: BaseException, *needles: str) -> bool:
    text = str(exc).lower()
    return any(needle in text for needle in needles)


def exception_cause(exc: BaseException, *, url: str | None = None, timeout: float | None = None) -> str:
    """Plain words for a failed request: "cannot resolve host X", "connection refused by X", "TLS error with X
    (certificate verify failed)", "timed out after 10 s", "connection reset". Never the URL's query (it may
    carry an email address)."""
    host = host_of(url) or "the host"
    chain = _chain(exc)
    after = f" after {timeout:g} s" if timeout else ""
    for item in chain:
        if isinstance(item, socket.gaierror) or _text_says(
            item,
            "name or service not known",
            "nodename nor servname",
            "failed to resolve",
            "name resolution",
            "temporary failure in name resolution",
            "no address associated",
        ):
            return f"cannot resolve host {host}"
    for item in chain:
        if isinstance(item, (ssl.SSLError, requests.exceptions.SSLError)):
            match = re.search(r"certificate verify failed: ([^(\]]+)", str(item))
            detail = f" ({match.group(1).strip()})" if match else ""
            return f"TLS error with {host}{detail}"
    for item in chain:
        if isinstance(item, ConnectionRefusedError) or _text_says(item, "connection refused", "errno 111"):
            return f"connection refused by {host}"
    for item in chain:
        if isinstance(item, (requests.exceptions.Timeout, TimeoutError, socket.timeout)) or _text_says(
            item, "timed out"
        ):
            return f"timed out{after} waiting for {host}"
    for item in chain:
        if isinstance(item, ConnectionResetError) or _text_says(item, "connection reset", "remotedisconnected"):
            return f"connection to {host} was reset"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot connect to {host}"
    if isinstance(exc, requests.exceptions.RequestException):
        return f"request to {host} failed ({type(exc).__name__})"
    return _cut(f"{type(exc).__name__}: {exc}")
