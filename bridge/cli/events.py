"""`bridge events …`: look at what came in, and replay it."""

from __future__ import annotations

import json
from typing import Any

import click

from bridge.admin.schemas import EVENT_STATUSES
from bridge.canonical import KINDS
from bridge.cli import CliState
from bridge.cli.event_text import describe
from bridge.platforms import SOURCES
from bridge.redaction import Redactor
from bridge.replay import Replayer
from bridge.storage import EventRecord, Events, Storage
from bridge.storage.lanes import ahead_of
from bridge.timeutil import parse_datetime
from bridge.vocabulary import EventStatus


def _storage(state: CliState) -> Storage:
    return state.storage


def _store(state: CliState) -> Events:
    return _storage(state).events


@click.group()
def events() -> None:
    """Inbound events."""


@events.command("list")
# Choices, not free text: a typo (`--status deadd`) is a usage error, not an empty list that looks like "none".
@click.option("--status", type=click.Choice(EVENT_STATUSES))
@click.option("--source", type=click.Choice(sorted(SOURCES)))
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_events(
    state: CliState, status: str | None, source: str | None, kind: str | None, limit: int, as_json: bool
) -> None:
    """List events, newest first."""
    rows = _store(state).list(status=status, source=source, kind=kind, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(summary(row)))
        return
    click.echo(f"{'ID':>7}  {'RECEIVED (UTC)':19}  {'SOURCE':11}  {'KIND':16}  {'STATUS':11}  ORDER / CHECKOUT")
    for row in rows:
        ref = row.order_id or row.checkout_id or "-"
        click.echo(
            f"{row.id:>7}  {row.received_at:%Y-%m-%d %H:%M:%S}  {row.source:11}  {(row.kind or row.topic):16}  "
            f"{row.status:11}  {ref}"
        )


@events.command("show")
@click.argument("event_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Everything stored, as one JSON document.")
@click.pass_obj
def show(state: CliState, event_id: int, as_json: bool) -> None:
    """Show one event: what it is, its deliveries and attempts (readable); --json adds headers, the raw body
    and the canonical form."""
    storage = _storage(state)
    record = storage.events.get(event_id)
    if record is None:
        raise click.ClickException(f"no event {event_id}")
    deliveries = storage.deliveries
    shown = {
        **detail(record),
        "deliveries": [_jsonable(d) for d in deliveries.for_event(event_id)],
        "attempts": [_jsonable(a) for a in deliveries.attempts_for_event(event_id)],
    }
    # Which earlier delivery of the same order each waiting one is held behind (what the dashboard says too).
    shown["ahead"] = {str(k): v for k, v in ahead_of(storage.db, shown["deliveries"]).items()}
    # A destination may echo a credential back in an error body: never print a configured secret.
    redactor = Redactor.for_settings(state.settings)
    if as_json:
        click.echo(json.dumps(redactor.scrub(shown), indent=2, ensure_ascii=False))
    else:
        click.echo(redactor.text(describe(redactor.scrub(shown))))


@events.command()
@click.argument("event_ids", nargs=-1, type=int)
@click.option("--status", type=click.Choice(["dead"]), help="Retry every dead delivery instead of named events.")
@click.option("--since", help="With --status dead: only deliveries that died at or after this ISO-8601 time.")
@click.pass_obj
def replay(state: CliState, event_ids: tuple[int, ...], status: str | None, since: str | None) -> None:
    """Replay events by id (quarantined ones are re-read with today's code; others are planned again and
    sent idempotently), or retry every dead delivery with --status dead [--since T]."""
    if bool(event_ids) == bool(status):
        raise click.UsageError("give event ids, or --status dead")
    replayer = Replayer(state.settings, _storage(state).db)
    if status:
        try:
            cutoff = parse_datetime(since) if since else None
        except ValueError:
            raise click.BadParameter(f"not an ISO-8601 time: {since}", param_hint="--since") from None
        requeued = replayer.replay_dead(cutoff)
        click.echo(f"requeued dead deliveries of {len(requeued)} event(s): {', '.join(map(str, requeued)) or '-'}")
        return
    failed = False
    for event_id in event_ids:
        outcome = replayer.replay(event_id)
        failed |= outcome.status not in (EventStatus.ACCEPTED,)
        click.echo(f"{outcome.event_id}: {outcome.status} - {outcome.message}")
    if failed:
        raise SystemExit(1)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def summary(row: EventRecord) -> dict[str, Any]:
    """The list view of an event."""
    return {
        "id": str(row.id),
        "received_at": row.received_at.isoformat(),
        "source": row.source,
        "topic": row.topic,
        "kind": row.kind,
        "status": row.status,
        "store": row.store,
        "order_id": row.order_id,
        "checkout_id": row.checkout_id,
    }


def detail(row: EventRecord) -> dict[str, Any]:
    """Everything stored about an event."""
    return {
        **summary(row),
        "dedupe_key": row.dedupe_key,
        "occurred_at": row.occurred_at.isoformat() if row.occurred_at else None,
        "headers": row.headers,
        "payload": row.payload,
        "errors": row.errors,
        "note": row.note,
        "body": row.body.decode("utf-8", errors="replace"),
    }
