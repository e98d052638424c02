"""`storebridge setup` and `check`."""

from __future__ import annotations

import sys

import click

from bridge.check_calls import summary
from bridge.check_stores import check_settings, check_store_apis
from bridge.checks import check_transport, destination_checks, run_checks
from bridge.destinations import registry


@click.command()
@click.option(
    "--store",
    "stores",
    multiple=True,
    help="Shop domain / site URL to set up (repeatable; default: BRIDGE_SHOPIFY_SHOP and every store that has "
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
    for destination in registry.destinations():
        for line in destination.setup(settings, stores):
            click.echo(line.text, err=not line.ok)
            problems += not line.ok
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
