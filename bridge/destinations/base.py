"""The destination interface: everything the generic modules (planner, executor, metrics, admin, checks, the
start-up line) ask of a destination, so that none of them names one. A destination is a folder
`bridge/destinations/<name>/` holding a `Destination` subclass, plus one line in `registry.py`.

Two objects per destination: the `Destination` itself (stateless, built once at import: what it is, whether
it is live, which deliveries an event needs, how it is checked and set up), and its `Sender`, built once per worker
process by the executor, holding what the process keeps between deliveries (remote-id mappings, a batcher)
and building each delivery's runner around the executor's paced, recording HTTP caller.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bridge.outbound.http import HttpCaller
from bridge.vocabulary import Outcome

if TYPE_CHECKING:
    from bridge.check_calls import Check
    from bridge.settings import Settings
    from bridge.storage import Database
    from bridge.storage.events import EventRecord

#: The three modes a destination is in: it sends, it records what it would send, or it is not used at all.
LIVE, DRY_RUN, NOT_USED = "live", "dry-run", "not used"


class Runner(Protocol):
    """One delivery's work at one destination: `run` raises the `DeliveryError`s of bridge/errors.py, or
    returns how it ended (`done`, or `skipped` with the reason)."""

    def run(self, event: dict[str, Any]) -> Outcome: ...


@dataclass(frozen=True)
class RunContext:
    """What the executor hands a sender to build one delivery's runner."""

    #: Paced through the database, recording every call as the delivery's attempt; in a dry-run it records
    #: the calls it would make and answers them itself.
    caller: HttpCaller
    dry_run: bool
    #: The stored event (its source, its raw body, whether it is history from a backfill).
    record: EventRecord
    #: What the deliveries claimed together share (`Sender.group`), or None for a delivery run alone.
    group: Any = None


@dataclass(frozen=True)
class SetupLine:
    """One line `storebridge setup` prints for a destination (failures go to stderr and fail the command)."""

    text: str
    ok: bool = True


class Sender(ABC):
    """A destination's state in one worker process, shared by its delivery threads."""

    @abstractmethod
    def runner(self, context: RunContext) -> Runner:
        """The runner of one delivery (live or dry-run, as `context.dry_run` says)."""

    def prepare(self, event: dict[str, Any], record: EventRecord) -> dict[str, Any]:
        """The canonical event as this destination's runner reads it (by default, unchanged)."""
        return event

    def failed(self, runner: Runner) -> None:
        """The runner raised: keep whatever must survive it (what the remote side already holds)."""
        return None  # nothing by default

    def writes(self, runner: Runner) -> list[Any]:
        """Statements to write in the same transaction as the runner's outcome (none by default)."""
        return []

    def group_size(self) -> int:
        """How many due deliveries one claim may take to run together (1: one at a time)."""
        return 1

    def group(self, members: int, events: Sequence[dict[str, Any]] = ()) -> Any:
        """What the members of a group claimed together share (e.g. one batch, and their reads done ahead);
        `events`: the members' canonical events that loaded. None by default."""
        return None

    def leave(self, group: Any) -> None:
        """A member of `group` has finished."""
        return None  # nothing by default

    def group_done(self, group: Any) -> None:
        """Every member of `group` has finished (what the group learnt may serve later groups)."""
        return None  # nothing by default


class Destination(ABC):
    """One destination: its name, its mode, the deliveries it wants, its sender, its checks and set-up."""

    #: The name of its deliveries, metrics labels, pauses and admin entries (`destinations.destination`).
    name: str = ""
    #: What it is called in sentences ("… delivered to ActiveCampaign Deep Data and EcartAPI").
    title: str = ""
    #: The setting that holds its token (named in the line that says how to fix a rejected token).
    credential_setting: str = ""
    #: What home (`GET /`) says when the destination is not used (only destinations that may be unused).
    unused_hint: str = ""

    # -- mode ----------------------------------------------------------------------------------------------

    @abstractmethod
    def live(self, settings: Settings) -> bool:
        """True when configured to really send; otherwise calls are recorded, not sent (dry-run)."""

    def used(self, settings: Settings) -> bool:
        """False when this bridge does not deliver to it at all (no runner, no check, no dry-run banner)."""
        return True

    def mode(self, settings: Settings) -> str:
        """`live`, `dry-run` or `not used`."""
        if self.live(settings):
            return LIVE
        return DRY_RUN if self.used(settings) else NOT_USED

    @abstractmethod
    def token(self, settings: Settings) -> str | None:
        """The token this process sends (its fingerprint says whether a rejected one has changed since)."""

    @abstractmethod
    def headers(self, settings: Settings) -> dict[str, str]:
        """The headers of every call (the credential among them)."""

    def credential_urls(self, settings: Settings) -> list[tuple[str, str | None, str]]:
        """(setting, URL or None when not sent to, the credential in words) for each URL it sends a credential
        to: `check` and the start-up warn when one is plain http:// to another machine."""
        return []

    def rate(self, settings: Settings) -> float | None:
        """Calls per second the account allows (paced across processes); None: not paced."""
        return None

    # -- planning ------------------------------------------------------------------------------------------

    @abstractmethod
    def lanes(
        self,
        settings: Settings,
        record: EventRecord,
        payload: dict[str, Any],
        with_checkout: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[str]:
        """The lanes of the deliveries an accepted event needs here (none: nothing to deliver). A lane runs
        one delivery at a time, in event order. `with_checkout(payload)` adds the checkout of an order that
        names none (read from the order's earlier events)."""

    def version_subject(self, lane: str, kind: str, refund_id: str | None) -> str:
        """What "older than already applied" compares within (default: the lane)."""
        return lane

    # -- sending -------------------------------------------------------------------------------------------

    @abstractmethod
    def sender(self, settings: Settings, db: Database) -> Sender:
        """This destination's state for one worker process."""

    # -- operator ------------------------------------------------------------------------------------------

    def checks(self, settings: Settings) -> list[Check]:
        """Its lines of `storebridge check` and `setup` (only asked when it is used)."""
        return []

    def setup(self, settings: Settings, stores: tuple[str, ...]) -> list[SetupLine]:
        """What `storebridge setup` creates or finds at this destination before the first delivery."""
        return []

    def describe_attempt(self, url: str | None, request: str | None, response: str | None) -> str | None:
        """One recorded call in a few words where the URL and status are not enough (None: nothing to add)."""
        return None
