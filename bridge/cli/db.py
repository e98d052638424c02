"""`bridge db …`: schema migrations."""

from __future__ import annotations

import json

import click

from bridge.cli import CliState
from bridge.storage import Database
from bridge.timeutil import utcnow


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_obj
def upgrade(state: CliState) -> None:
    """Apply pending migrations (safe to run at every start)."""
    settings = state.settings
    database = Database.for_settings(settings)
    before = database.current_revision()
    database.upgrade()
    click.echo(f"database at {database.current_revision()} (was {before or 'empty'})")


@db.command()
@click.pass_obj
def current(state: CliState) -> None:
    """Show the database's migration revision and the code's head."""
    settings = state.settings
    database = Database.for_settings(settings)
    click.echo(f"current {database.current_revision() or 'empty'}, head {database.head_revision}")


@db.command()
@click.option("--dry-run", is_flag=True, help="Only count what would be erased.")
@click.pass_obj
def prune(state: CliState, dry_run: bool) -> None:
    """Erase what BRIDGE_RETENTION_DAYS no longer keeps (what the worker does every few minutes), in short
    batches; prints the counts as JSON."""
    settings = state.settings
    counts = state.storage.retention.prune(utcnow(), settings.retention_days, dry_run=dry_run)
    click.echo(json.dumps({"retention_days": settings.retention_days, **counts.as_dict()}))
