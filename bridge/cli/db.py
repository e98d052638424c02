"""`bridge db …`: schema migrations."""

from __future__ import annotations

import click

from bridge.storage import Database


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.pass_obj
def upgrade(state: object) -> None:
    """Apply pending migrations (safe to run at every start)."""
    settings = state.settings  # type: ignore[attr-defined]
    database = Database.for_settings(settings)
    before = database.current_revision()
    database.upgrade()
    click.echo(f"database at {database.current_revision()} (was {before or 'empty'})")


@db.command()
@click.pass_obj
def current(state: object) -> None:
    """Show the database's migration revision and the code's head."""
    settings = state.settings  # type: ignore[attr-defined]
    database = Database.for_settings(settings)
    click.echo(f"current {database.current_revision() or 'empty'}, head {database.head_revision}")
