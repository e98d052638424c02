"""What is wrong right now, as alert conditions: the same five the Prometheus rules watch. Texts carry no
personal data: counts, destinations, sources, statuses in words, never a customer's email or a payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bridge.causes import status_words
from bridge.redaction import without_emails
from bridge.settings import Settings
from bridge.storage import Database, Storage
from bridge.storage.pauses import TOKEN_REJECTED, reason_words
from bridge.storage.tables import deliveries, events, store_sweeps
from bridge.vocabulary import DeliveryStatus, SweepOutcome

#: Oldest pending delivery older than this is a backlog.
BACKLOG_AFTER = 15 * 60.0
#: Deliveries gone dead within this window keep the "going dead" alert up.
DEAD_WINDOW = 15 * 60.0
#: A destination paused, or its circuit open, this long is an alert.
PAUSED_FOR = 5 * 60.0
#: An open circuit that closed less than this ago still counts (it flaps open and half-open during an outage).
CIRCUIT_GRACE = 120.0


@dataclass(frozen=True)
class Condition:
    """One thing wrong: `key` names it ("backlog:activecampaign"); `text` says it; `resolved` is said when it
    clears; it is alerted once it has held `for_seconds`."""

    key: str
    text: str
    resolved: str
    for_seconds: float = 0.0


def _minutes(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def backlog(db: Database, now: datetime) -> list[Condition]:
    """A destination whose oldest pending delivery has waited longer than BACKLOG_AFTER."""
    found = []
    for name, figures in sorted(Storage.of(db).queries.queue(now).items()):
        age = figures.get("oldest_pending_age") or 0.0
        if age > BACKLOG_AFTER:
            found.append(
                Condition(
                    f"backlog:{name}",
                    f"deliveries to {name} are backing up: the oldest has waited {_minutes(age)}, "
                    f"{figures['depth']} queued",
                    f"deliveries to {name} are flowing again",
                )
            )
    return found


def going_dead(db: Database, now: datetime) -> list[Condition]:
    """Deliveries that went dead within DEAD_WINDOW, per destination, with the last one's status in words."""
    since = now - timedelta(seconds=DEAD_WINDOW)
    query = (
        select(deliveries.c.destination, func.count(), func.max(deliveries.c.last_status))
        .where(deliveries.c.status == DeliveryStatus.DEAD, deliveries.c.updated_at >= since)
        .group_by(deliveries.c.destination)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    found = []
    for name, count, status in sorted(rows):
        why = f" (e.g. HTTP {status_words(int(status))})" if status else ""
        found.append(
            Condition(
                f"dead:{name}",
                f"{count} deliver{'y' if count == 1 else 'ies'} to {name} went dead in the last "
                f"{_minutes(DEAD_WINDOW)}{why}: see the dashboard's dead list, fix the cause, then retry them",
                f"no more deliveries to {name} going dead",
            )
        )
    return found


def held_back(db: Database, now: datetime) -> list[Condition]:
    """A destination paused (by hand, for a rejected token, by a long Retry-After) or its circuit open."""
    epoch = now.timestamp()
    found = []
    for name, state in sorted(Storage.of(db).throttles.all().items()):
        if state.manual_pause or state.paused_until > epoch:
            why = reason_words(state.pause_reason) if state.manual_pause else "asked to wait (Retry-After)"
            if state.manual_pause and state.pause_reason == TOKEN_REJECTED and state.pause_cause:
                why = f"{why}: {without_emails(state.pause_cause)}"
            found.append(
                Condition(
                    f"paused:{name}",
                    f"{name} is paused ({why}); its deliveries wait",
                    f"{name} is no longer paused",
                    PAUSED_FOR,
                )
            )
        elif state.circuit_open_until > epoch - CIRCUIT_GRACE:
            found.append(
                Condition(
                    f"circuit:{name}",
                    f"{name} is failing: its circuit is open after {state.consecutive_failures} failures in a row",
                    f"{name} answers again (circuit closed)",
                    PAUSED_FOR,
                )
            )
    return found


def reconcile_failing(db: Database) -> list[Condition]:
    """A store whose last reconciliation run failed."""
    query = select(store_sweeps.c.name, store_sweeps.c.last_error).where(
        store_sweeps.c.name.like("reconcile:%"), store_sweeps.c.last_outcome == SweepOutcome.FAILED
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    found = []
    for name, error in sorted(rows):
        source = name.partition(":")[2]
        why = f": {without_emails(error)[:300]}" if error else ""
        found.append(
            Condition(
                f"reconcile:{source}",
                f"reconciliation of {source} is failing{why}",
                f"reconciliation of {source} works again",
            )
        )
    return found


def last_webhooks(db: Database, sources: tuple[str, ...]) -> dict[str, datetime]:
    """When each of `sources` last delivered a webhook the bridge stored (sources that never did are absent).
    One index probe per source: the newest webhook-borne event by id."""
    found: dict[str, datetime] = {}
    with db.read() as conn:
        for source in sources:
            query = (
                select(events.c.received_at)
                .where(events.c.source == source, events.c.origin == "webhook")
                .order_by(events.c.id.desc())
                .limit(1)
            )
            received = conn.execute(query).scalar()
            if received is not None:
                found[source] = received
    return found


def quiet_sources(settings: Settings, db: Database, now: datetime) -> list[Condition]:
    """A configured source that sent no webhook for BRIDGE_QUIET_ALERT."""
    found = []
    for source, last in sorted(last_webhooks(db, settings.sources_with_secrets).items()):
        silent = (now - last).total_seconds()
        if silent > settings.quiet_alert:
            found.append(
                Condition(
                    f"quiet:{source}",
                    f"no webhook from {source} for {_minutes(silent)} (the last at {last:%Y-%m-%d %H:%M} UTC): "
                    "the store may have disabled or deleted its webhook; check it in the store's settings",
                    f"webhooks from {source} arrive again",
                )
            )
    return found


def current(settings: Settings, db: Database, now: datetime) -> list[Condition]:
    """Every condition that holds at `now`."""
    return [
        *backlog(db, now),
        *going_dead(db, now),
        *held_back(db, now),
        *reconcile_failing(db),
        *quiet_sources(settings, db, now),
    ]
