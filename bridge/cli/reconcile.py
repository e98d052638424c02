"""`storebridge backfill` and `storebridge reconcile --once`: read the stores' own APIs (spec §13)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from bridge.cli import CliState
from bridge.delivery.owners import dead_local_owners, new_owner
from bridge.errors import BridgeError
from bridge.metrics import enable_multiprocess
from bridge.platforms import PLATFORMS, READERS, build_readers
from bridge.storage import Database
from bridge.sweeps.backfill import Backfill, Progress
from bridge.sweeps.reconcile import Reconciler
from bridge.timeutil import parse_datetime
from bridge.vocabulary import SweepOutcome


def _date(value: str | None) -> datetime | None:
    """`2026-01-31` (midnight UTC) or a full ISO-8601 timestamp."""
    if value is None:
        return None
    try:
        return parse_datetime(value) if "T" in value else datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or ISO-8601 timestamp") from None


def _database(state: CliState) -> Database:
    settings = state.settings
    db = Database.for_settings(settings)
    db.upgrade()
    return db


class ProgressLine:
    """One self-overwriting line on a terminal (counts and rate); nothing when the output is not a terminal."""

    def __init__(self, source: str, stream: object = None) -> None:
        self.source = source
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._export_shown = 0  # the width of a bulk export's line, blanked before the first page's

    def __call__(self, p: Progress) -> None:
        if self.tty:
            if self._export_shown:
                click.echo("\r" + " " * self._export_shown, nl=False, err=True)
                self._export_shown = 0
            line = f"\r{self.source}: page {p.pages}, {p.seen} read, {p.created} new, {p.rate:.1f}/s"
            click.echo(line, nl=False, err=True)

    def export_running(self, operation: dict[str, object]) -> None:
        """A bulk export still running at the store (before any page): its status and objects so far."""
        if self.tty:
            status, objects = operation.get("status"), operation.get("objectCount") or 0
            line = f"{self.source}: bulk export {status}, {objects} objects"
            click.echo("\r" + line.ljust(self._export_shown), nl=False, err=True)
            self._export_shown = max(self._export_shown, len(line))

    def close(self) -> None:
        """End the line."""
        if self.tty:
            click.echo("", err=True)


@click.command()
@click.option("--source", required=True, type=click.Choice(sorted(READERS)), help="The store API to read.")
@click.option("--since", help="Only orders modified since this date (YYYY-MM-DD or ISO-8601; default: all).")
@click.option("--until", help="Only orders modified before this date (default: now).")
@click.pass_obj
def backfill(state: CliState, source: str, since: str | None, until: str | None) -> None:
    """Load a store's past orders (and Shopify's abandoned checkouts) as history: ActiveCampaign gets them with
    `source: 0` (no automation fires), EcartAPI gets nothing. Interrupted, it resumes from its checkpoint when
    run again with the same range; a second run creates nothing."""
    settings = state.settings
    reader = READERS[source](settings)
    if not reader.configured:
        raise click.ClickException(f"{source}: the store API settings are not set (see docs/operating.md)")
    db = _database(state)
    line = ProgressLine(source)
    if hasattr(reader, "on_bulk_poll"):
        reader.on_bulk_poll = line.export_running
    job = Backfill(
        db,
        reader,
        new_owner(),
        since=_date(since),
        until=_date(until),
        stale_owner=lambda owner: bool(dead_local_owners([owner])),
    )
    try:
        result = job.run(line)
    except KeyboardInterrupt:
        line.close()
        click.echo(f"{source}: interrupted; run the same command again to resume", err=True)
        sys.exit(130)
    except BridgeError:
        line.close()  # the error (said by the command group) starts on a line of its own
        raise
    finally:
        db.dispose()
    line.close()
    resumed = " (resumed)" if result.resumed else ""
    click.echo(f"{source}: {result.seen} read, {result.created} new events{resumed}, {result.rate:.1f}/s")


@click.command()
@click.option("--once", is_flag=True, help="Run one reconciliation now and exit.")
@click.option("--source", type=click.Choice(sorted(READERS)), help="Only this store API (default: all configured).")
@click.pass_obj
def reconcile(state: CliState, once: bool, source: str | None) -> None:
    """Reconcile: read what changed in each configured store since the last run and store every order or
    checkout state no webhook brought. The worker does this every BRIDGE_RECONCILE_INTERVAL seconds."""
    if not once:
        raise click.UsageError("the worker reconciles on its schedule; pass --once to run one reconciliation now")
    settings = state.settings
    if not build_readers(settings):
        variables = [p.store_api.variable for p in PLATFORMS.values() if p.store_api]
        raise click.ClickException(f"no store API is configured ({', '.join(variables)}, …)")
    enable_multiprocess(settings.database_url, clear=False)  # the runs count in /metrics like the worker's
    db = _database(state)
    try:
        results = Reconciler(settings, db, new_owner()).run_once(source)
    finally:
        db.dispose()
    for r in results:
        detail = f": {r.error}" if r.error else ""
        click.echo(f"{r.source}: {r.outcome}, {r.seen} read, {r.recovered} recovered{detail}")
    sys.exit(1 if any(r.outcome == SweepOutcome.FAILED for r in results) else 0)


def register(group: click.Group) -> None:
    """Add the commands to the `storebridge` / `bridge` group."""
    group.add_command(backfill)
    group.add_command(reconcile)
