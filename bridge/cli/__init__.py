"""The `storebridge` command line (`bridge` is an alias)."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import click

from bridge import __version__
from bridge.errors import BridgeError, SettingsError, StorageUnavailable
from bridge.settings import Settings, load_settings

if TYPE_CHECKING:
    from bridge.storage import Storage

#: Subcommand -> "module:attribute", imported only when that subcommand runs: `storebridge health` (a container
#: health check, every few seconds) and `--version` do not pay for SQLAlchemy, alembic and the destinations.
SUBCOMMANDS = {
    "run": "bridge.cli.serve:run",
    "web": "bridge.cli.serve:web",
    "worker": "bridge.cli.serve:worker",
    "db": "bridge.cli.db:db",
    "events": "bridge.cli.events:events",
    "destinations": "bridge.cli.destinations:destinations",
    "send": "bridge.cli.send:send",
    "setup": "bridge.cli.ops:setup",
    "check": "bridge.cli.ops:check",
    "health": "bridge.cli.health:health",
    "backfill": "bridge.cli.reconcile:backfill",
    "reconcile": "bridge.cli.reconcile:reconcile",
    "forget": "bridge.cli.privacy:forget",
    "export": "bridge.cli.privacy:export",
}


class CliState:
    """Lazily loaded settings and storage, shared by the subcommands of one invocation."""

    _settings: Settings | None = None
    _storage: Storage | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except SettingsError as exc:
                click.echo(str(exc), err=True)
                sys.exit(2)
        return self._settings

    @property
    def storage(self) -> Storage:
        """The storage facade of the configured database, built on first use (a command that never touches
        the database, such as `health`, never loads SQLAlchemy)."""
        if self._storage is None:
            from bridge.storage import Storage

            self._storage = Storage.for_settings(self.settings)
        return self._storage


class BridgeGroup(click.Group):
    """Turns the bridge's named errors into one clear line and exit status 1, not a traceback; loads each
    subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

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
@click.version_option(__version__, prog_name="storebridge", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """storebridge: store webhooks in, ActiveCampaign and EcartAPI calls out."""
    ctx.obj = CliState()
