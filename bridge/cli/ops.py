"""`storebridge setup` and `check`."""

from __future__ import annotations

import sys

import click

from bridge.check_calls import summary
from bridge.check_stores import check_settings, check_store_apis
from bridge.checks import check_transport, destination_checks, run_checks, setup_connections
from bridge.errors import BridgeError, DeliveryError
from bridge.platforms import PLATFORMS

#: The platforms whose own store `setup` sets up without --store (their store setting), and an example store.
_OWN_STORES = [p.store_api for p in PLATFORMS.values() if p.store_api and p.store_api.own_store]
_OWN_VARIABLES = " and ".join(api.variable for api in _OWN_STORES)
_EXAMPLE = next((api.own_store_example for api in _OWN_STORES if api.own_store_example), "your-store.example")


@click.command()
@click.option(
    "--store",
    "stores",
    multiple=True,
    help=f"Shop domain / site URL to set up (repeatable; default: {_OWN_VARIABLES} and every store that has "
    "sent events).",
)
@click.pass_obj
def setup(state: object, stores: tuple[str, ...]) -> None:
    """Find or create the ActiveCampaign connection of each store, and check both destinations' credentials.

    The worker finds or creates a store's connection by itself on first use; running setup first makes
    credential problems show now rather than in dead deliveries.
    """
    settings = state.settings  # type: ignore[attr-defined]
    problems = 0
    if settings.ac_connection_id:
        click.echo(f"activecampaign: every store uses BRIDGE_AC_CONNECTION_ID={settings.ac_connection_id}")
    elif settings.ac_enabled:
        try:
            connections = setup_connections(settings, stores)
        except (BridgeError, DeliveryError) as exc:
            click.echo(f"activecampaign: FAILED - {exc}", err=True)
            problems += 1
        else:
            for store, connection in connections.items():
                click.echo(f"activecampaign: store {store} -> connection {connection}")
            if not connections:
                click.echo(
                    f"activecampaign: no store has sent events yet; pass --store {_EXAMPLE} (or set {_OWN_VARIABLES})"
                )
    results = [
        *check_settings(settings),
        *check_transport(settings),
        *destination_checks(settings),
        *check_store_apis(settings),
    ]
    for check_result in results:
        click.echo(check_result.line)
        problems += not check_result.ok
    sys.exit(1 if problems else 0)


@click.command()
@click.pass_obj
def check(state: object) -> None:
    """Check the configuration, the database, the destinations and the store APIs whose credentials are set.
    Exit status 1 on any error; warnings are printed (and counted on the last line) but exit 0."""
    results = run_checks(state.settings)  # type: ignore[attr-defined]
    for result in results:
        click.echo(result.line)
    click.echo(summary(results))
    sys.exit(0 if all(r.ok for r in results) else 1)
