"""Whom an erasure or export request is about, and how an event names a person (spec §16)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bridge.privacy import email_digest, subject_digest


@dataclass(frozen=True)
class Subject:
    """Whom a request is about: emails, store customer ids (of `source`), orders (of `source`/`store`), or
    with `whole_store` every event of one store."""

    emails: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()
    source: str | None = None
    store: str | None = None
    whole_store: bool = False

    def digest(self) -> str:
        """What the record of a request names instead of the person: the SHA-256 of the (first) lower-case
        email, else of `source|customer id`, else of `source|store`."""
        if self.emails:
            return email_digest(self.emails[0])
        if self.customer_ids:
            return subject_digest(f"{self.source}|{self.customer_ids[0]}")
        return subject_digest(f"{self.source}|{self.store}")


@dataclass
class Found:
    """The events about a subject, and every email they name (to find the mapping rows keyed by it)."""

    event_ids: list[int] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)


def customer_of(document: Any) -> dict[str, Any]:
    """The customer object of a canonical payload or raw body (empty when it has none)."""
    customer = document.get("customer") if isinstance(document, dict) else None
    return customer if isinstance(customer, dict) else {}


def emails_in(payload: Any, body: Any) -> set[str]:
    """The emails an event's canonical payload (or, unread, its raw body) names."""
    found = set()
    for document in (payload, body):
        if isinstance(document, dict):
            for value in (document.get("email"), customer_of(document).get("email")):
                if isinstance(value, str) and "@" in value:
                    found.add(value.strip().lower())
    return found


def parsed(body: bytes) -> Any:
    """A raw body as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
