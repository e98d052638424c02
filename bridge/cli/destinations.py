"""`storebridge destinations …`: see each destination's state, pause it, resume it (what the dashboard's
destination panel does, from a shell)."""

from __future__ import annotations

import json
from typing import Any

import click

from bridge.admin.service import AdminService, resumed_message
from bridge.destinations import registry
from bridge.storage import Database


def _admin(state: object) -> AdminService:
    settings = state.settings  # type: ignore[attr-defined]
    return AdminService(settings, Database.for_settings(settings))


def describe(destination: dict[str, Any]) -> str:
    """One destination's state in words: what holds it back, if anything."""
    circuit, rate = destination["circuit"], destination["rate"]
    if destination["paused"] and destination.get("pause_reason") == "token_rejected":
        held = f"paused: token rejected ({destination.get('pause_cause') or 'HTTP 401/403'})"
    elif destination["paused"]:
        held = "paused by an operator"
    elif circuit["state"] == "open":
        held = f"circuit open for {circuit['open_for_seconds']:.0f} s more"
    elif rate["retry_after_seconds"]:
        held = f"waiting {rate['retry_after_seconds']:.0f} s more (Retry-After)"
    else:
        held = "running"
    failures = circuit["consecutive_failures"]
    return (
        f"{destination['name']}: {destination['mode'].replace('_', '-')}, {held}"
        + (f", {failures} failures in a row" if failures else "")
        + f"; {destination['queue_depth']} queued"
    )


@click.group()
def destinations() -> None:
    """ActiveCampaign and EcartAPI: state, pause, resume."""


@destinations.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_destinations(state: object, as_json: bool) -> None:
    """Each destination: live or dry-run, paused, circuit, Retry-After wait, queue depth."""
    for destination in _admin(state).destinations():
        click.echo(json.dumps(destination, default=str) if as_json else describe(destination))


@destinations.command("pause")
@click.argument("name", type=click.Choice(registry.names()))
@click.pass_obj
def pause(state: object, name: str) -> None:
    """Pause NAME: its deliveries wait in the queue without spending attempts, until resumed."""
    _admin(state).set_paused(name, True)
    click.echo(f"{name} paused")


@destinations.command("resume")
@click.argument("name", type=click.Choice(registry.names()))
@click.pass_obj
def resume(state: object, name: str) -> None:
    """Resume NAME now: clears a manual pause, a Retry-After pause and an open circuit, and makes its waiting
    deliveries due at once."""
    admin = _admin(state)
    hurried = admin.set_paused(name, False)
    click.echo(resumed_message(name, hurried))
    click.echo(describe(next(d for d in admin.destinations() if d["name"] == name)))
