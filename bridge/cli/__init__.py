"""The `bridge` command line."""

from __future__ import annotations

import sys

import click

from bridge.cli import db as db_commands
from bridge.cli import events as events_commands
from bridge.cli import ops as ops_commands
from bridge.cli import reconcile as reconcile_commands
from bridge.cli import send as send_command
from bridge.cli import serve as serve_commands
from bridge.errors import BridgeError, SettingsError, StorageUnavailable
from bridge.settings import Settings, load_settings


class CliState:
    """Lazily loaded settings, shared by the subcommands of one invocation."""

    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except SettingsError as exc:
                click.echo(str(exc), err=True)
                sys.exit(2)
        return self._settings


class BridgeGroup(click.Group):
    """Turns the bridge's named errors into one clear line and exit status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StorageUnavailable as exc:
            click.echo(
                f"error: {exc.message} (is the database reachable, and migrated with `bridge db upgrade`?)", err=True
            )
            sys.exit(1)
        except BridgeError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=BridgeGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """storebridge: store webhooks in, ActiveCampaign and EcartAPI calls out."""
    ctx.obj = CliState()


serve_commands.register(main)
main.add_command(db_commands.db)
main.add_command(events_commands.events)
main.add_command(send_command.send)
main.add_command(ops_commands.setup)
main.add_command(ops_commands.check)
reconcile_commands.register(main)
