"""`storebridge health`: the container / service-manager health check. Kept light (no database driver, no
destinations imported): it runs every few seconds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bridge.cli import CliState
from bridge.cli.addresses import default_url
from bridge.heartbeat import verdict
from bridge.metrics import metrics_dir


def detect_role(cmdline: list[str]) -> str:
    """What a container's main process (`/proc/1/cmdline`) runs: "worker" for `storebridge worker`, else "web"
    (`storebridge web` execs gunicorn; `storebridge run` serves HTTP too)."""
    if any("gunicorn" in arg for arg in cmdline):
        return "web"
    return "worker" if "worker" in cmdline[1:] else "web"


def _main_process_cmdline() -> list[str]:
    try:
        raw = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        return []
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


@click.command()
@click.option(
    "--role",
    type=click.Choice(["auto", "web", "worker"]),
    default="auto",
    show_default=True,
    help="What to check; auto: what the container's main process runs (the image's HEALTHCHECK uses this).",
)
@click.option("--url", help="Web: the readiness URL to probe (default: /readyz at BRIDGE_BIND).")
@click.pass_obj
def health(state: CliState, role: str, url: str | None) -> None:
    """Exit 0 when this host's web or delivery worker is healthy: for container and service-manager health
    checks. A worker is healthy while its heartbeat record is fresh, says the database took a write within
    BRIDGE_LEASE_SECONDS + 5 s, and shows every delivery thread alive (whether or not it serves HTTP on
    BRIDGE_WORKER_METRICS_BIND)."""
    settings = state.settings
    if role == "auto":
        role = detect_role(_main_process_cmdline())
    if role == "worker":
        healthy, reason = verdict(metrics_dir(settings.database_url), settings.lease_seconds)
        if not healthy:
            click.echo(f"unhealthy: {reason}", err=True)
            sys.exit(1)
        click.echo(f"ok: {reason}")
        return
    import requests

    target = url or f"{default_url(settings.bind)}/readyz"
    try:
        response = requests.get(target, timeout=3)
    except requests.RequestException as exc:
        click.echo(f"unhealthy: {target}: {type(exc).__name__}", err=True)
        sys.exit(1)
    if response.status_code != 200:
        click.echo(f"unhealthy: {target} answered {response.status_code} {response.text.strip()[:200]}", err=True)
        sys.exit(1)
    click.echo(f"ok: {target}")
