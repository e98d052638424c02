"""`storebridge setup` and `check`."""

from __future__ import annotations

import sys

import click

from bridge.checks import (
    check_ac_entitlements,
    check_ac_list,
    check_ac_orders,
    check_activecampaign,
    check_ecartapi,
    check_transport,
    run_checks,
    setup_connections,
)
from bridge.errors import BridgeError, DeliveryError


@click.command()
@click.option(
    "--store",
    "stores",
    multiple=True,
    help="Shop domain / site URL to set up (repeatable; default: every store that has sent events).",
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
                click.echo("activecampaign: no store has sent events yet; pass --store your-shop.myshopify.com")
    checks = (check_activecampaign, check_ac_list, check_ac_orders, check_ac_entitlements, check_ecartapi)
    for check_result in [*check_transport(settings), *(run(settings) for run in checks)]:
        click.echo(f"{check_result.name}: {check_result.label} - {check_result.detail}")
        problems += not check_result.ok
    sys.exit(1 if problems else 0)


@click.command()
@click.pass_obj
def check(state: object) -> None:
    """Check the configuration, the database and both destinations; exit non-zero on any problem."""
    results = run_checks(state.settings)  # type: ignore[attr-defined]
    for result in results:
        click.echo(f"{result.name}: {result.label} - {result.detail}")
    sys.exit(0 if all(r.ok for r in results) else 1)
