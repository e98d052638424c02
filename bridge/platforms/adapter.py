"""What every webhook source provides, and the values it hands back to the ingest pipeline."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from bridge.settings_core import CoreSettings
from bridge.timeutil import parse_datetime


@dataclass(frozen=True)
class Inbound:
    """A webhook request as the sources see it: raw bytes and case-insensitive headers."""

    body: bytes
    headers: Mapping[str, str]
    mimetype: str
    received_at: datetime

    def header(self, name: str) -> str | None:
        """A header's value with surrounding whitespace removed, or None when absent or blank."""
        value = self.headers.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None


@dataclass(frozen=True)
class Ignored:
    """An authentic request the bridge answers 200 and does not store."""

    reason: str


@dataclass(frozen=True)
class Interpreted:
    """An authentic event: its topic, dedupe key and the kind it maps to, ready for `to_canonical`."""

    topic: str
    dedupe_key: str
    kind: str
    document: Any
    store: str | None = None


class Source(ABC):
    """One store platform. Subclasses live in `bridge/platforms/<name>/`, listed in `bridge.platforms.SOURCES`."""

    name: ClassVar[str]
    #: Headers kept with the stored event (never signatures or tokens).
    kept_headers: ClassVar[tuple[str, ...]] = ()
    #: True when an invalid payload is the sender's to fix (422); False to quarantine it (202).
    rejects_invalid: ClassVar[bool] = False

    def __init__(self, settings: CoreSettings) -> None:
        # The gathered Settings; each subclass narrows `settings` to its platform's part.
        self.settings = settings

    def delivery_key(self, inbound: Inbound) -> str | None:
        """The platform's delivery id (a header), when it sends one: a retried delivery is known by it before
        its body is parsed. Default: none (WooCommerce's changes on every send; EcartAPI sends none)."""
        return None

    def preflight(self, inbound: Inbound) -> Ignored | None:
        """Answer a request before authentication (e.g. an unsigned ping). Default: nothing to answer."""
        return None

    @abstractmethod
    def authenticate(self, inbound: Inbound) -> None:
        """Raise InvalidSignature unless the request is signed by (or carries) a configured secret."""

    @abstractmethod
    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        """Decide what the authentic JSON `document` is: an event to store (its topic, kind and identity), or
        one to ignore. Cheap and total: it reads a few keys and never validates (the worker does)."""

    def contradiction(self, event: Interpreted, inbound: Inbound) -> str | None:
        """Why the body contradicts the topic its (unsigned) headers claim, or None (spec §8). Default: the
        topic cannot lie (the custom source signs it; EcartAPI's kind comes from the body)."""
        return None

    @abstractmethod
    def to_canonical(self, event: Interpreted, inbound: Inbound) -> dict[str, Any]:
        """Map the platform payload to a canonical candidate. Raises marshmallow ValidationError."""

    def sign(self, body: bytes, *, topic: str | None = None, store: str | None = None) -> dict[str, str]:
        """Headers a real sender would put on `body`, signed with the first configured secret (`bridge send`)."""
        raise NotImplementedError(f"{self.name} cannot sign")

    def keep_headers(self, inbound: Inbound) -> dict[str, str]:
        """The headers worth storing with the event."""
        return {name: value for name in self.kept_headers if (value := inbound.header(name)) is not None}


def body_digest(body: bytes) -> str:
    """A stable fallback identity for a payload that lacks its natural key."""
    return hashlib.sha256(body).hexdigest()


def key_time(value: object) -> str | None:
    """A timestamp as it goes into an identity: UTC, ISO-8601 to the second, whatever offset or format the
    platform (or its API, for reconciliation) wrote it in; None when it is not a readable date."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = parse_datetime(value)
        except (ValueError, OverflowError):
            return None
    else:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store_url(url: str | None) -> str:
    """A store's URL as an identity: WooCommerce's `X-WC-Webhook-Source` ends with a slash, its REST API's
    base may not."""
    return (url or "").strip().rstrip("/")


def dedupe_key(source: str, *parts: object) -> str:
    """`source:part|part…`, hashed when it would not fit the column."""
    key = f"{source}:" + "|".join("" if p is None else str(p) for p in parts)
    if len(key) > 200:
        key = f"{source}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key
