"""`storebridge forget` and `storebridge export` (spec §16): a person's data, erased or printed as JSON."""

from __future__ import annotations

import json

import click

from bridge.cli import CliState
from bridge.platforms import PLATFORMS
from bridge.storage.erasure import Subject
from bridge.timeutil import utcnow


def _subject(email: str | None, customer_id: str | None, source: str | None) -> Subject:
    if bool(email) == bool(customer_id):
        raise click.UsageError("give --email, or --customer-id with --source")
    if customer_id and not source:
        raise click.UsageError(f"--customer-id needs --source ({', '.join(PLATFORMS)})")
    if email:
        return Subject(emails=(email.strip().lower(),), source=source)
    assert customer_id  # exactly one of the two was given (checked above)
    return Subject(customer_ids=(customer_id.strip(),), source=source)


_OPTIONS = (
    click.option("--email", help="The person's email address (any case)."),
    click.option("--customer-id", help="The store's customer id (with --source)."),
    click.option("--source", help=f"The source the customer id belongs to ({', '.join(list(PLATFORMS)[:2])}, …)."),
)


def _with_subject_options(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.command()
@_with_subject_options
@click.pass_obj
def forget(state: CliState, email: str | None, customer_id: str | None, source: str | None) -> None:
    """Erase everything stored about one person (bodies, canonical events, call excerpts, the AC mapping and
    contact state keyed by their email) and record the erasure (a SHA-256, the time, the counts). Prints
    the counts as JSON."""
    subject = _subject(email, customer_id, source)
    counts = state.storage.erasure.erase(subject, utcnow(), origin="cli")
    click.echo(json.dumps({"subject_sha256": subject.digest(), "erased": counts}))


@click.command()
@_with_subject_options
@click.pass_obj
def export(state: CliState, email: str | None, customer_id: str | None, source: str | None) -> None:
    """Print, as JSON, everything stored about one person."""
    subject = _subject(email, customer_id, source)
    click.echo(json.dumps(state.storage.erasure.export(subject), ensure_ascii=False, indent=2))
