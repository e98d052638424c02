"""What every store API reader hands back: pages of order (and checkout) states, each with the identity its
webhook would have, and a checkpoint to resume after the page."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from bridge.settings_core import CoreSettings


@dataclass(frozen=True)
class StoreState:
    """One state of an order, checkout or refund as the store's API shows it.

    `dedupe_key` is the identity the webhook for the same state gets (bridge/platforms/*: order_key, …), so
    whichever arrives second is a duplicate. `candidate` is the canonical candidate (not validated yet), or
    None with the mapping's `errors`. `changed_at` is the state's modification time (the live window)."""

    source: str
    topic: str
    kind: str
    dedupe_key: str
    store: str | None
    document: dict[str, Any]
    candidate: dict[str, Any] | None
    errors: dict[str, Any] | None
    changed_at: datetime
    #: The platform reports this kind of state once per order (Shopify's orders/paid, orders/cancelled): a later
    #: version of an order already paid is no new event (a refunded order would otherwise be "paid" again).
    once_per_order: bool = False


@dataclass(frozen=True)
class Page:
    """One page read from a store API; `resume` continues after it (None: this was the last page).

    `checkpoint_only`: no states, only a point to resume from (a bulk export started: a restart must find it
    again, not start a second one); it is no page of the progress line. `restart`: everything counted before
    this page is read again from the beginning (a new export replaced one that failed or expired)."""

    states: list[StoreState]
    resume: dict[str, Any] | None
    checkpoint_only: bool = False
    restart: bool = False


class StoreReader(ABC):
    """Reads one platform's orders (and checkouts) changed in a time range, page by page."""

    name: str

    def __init__(self, settings: CoreSettings) -> None:
        # The gathered Settings; each subclass narrows `settings` to its platform's part.
        self.settings = settings

    @property
    @abstractmethod
    def configured(self) -> bool:
        """True when the settings hold what this reader needs (URL and credentials)."""

    @abstractmethod
    def restate(self, document: dict[str, Any], topic: str) -> StoreState | None:
        """The state a stored event's body (an API node this reader read) describes, mapped with today's
        code: how a quarantined reconciled or backfilled event is replayed."""

    @abstractmethod
    def pages(self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None) -> Iterator[Page]:
        """Every state changed in [since, until) (until None: up to now), from `resume` if given. Raises
        PermanentError (bad credentials, a shape it cannot read) or RetryableError (the store stayed down)."""

    def backfill_pages(
        self, since: datetime, until: datetime | None, resume: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """What a backfill reads: `pages` unless the platform has a faster way for a long history (Shopify's
        bulk operations); the same states, checkpoints and page sizes either way."""
        return self.pages(since, until, resume)


def mapped(
    mapper: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(candidate, None), or (None, field errors) when the API's shape does not load."""
    try:
        return mapper(), None
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return None, messages
