"""`bridge send FILE --source S --url URL`: sign a payload as the platform would and post it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import requests

from bridge.cli import CliState
from bridge.cli.addresses import default_url
from bridge.platforms import PLATFORMS, SOURCES

# Fixture names encode the topic: `orders_paid__jpy.json` → `orders/paid`, `order_updated__x.json` → `order.updated`.
_TOPIC_SEPARATOR = {name: p.send.topic_separator for name, p in PLATFORMS.items() if p.send.topic_separator}
#: The topics the bridge handles, per source that sends one (the others carry no topic header).
HANDLED_TOPICS: dict[str, tuple[str, ...]] = {
    name: platform.send.handled_topics for name, platform in PLATFORMS.items() if platform.send.handled_topics
}
#: What --store means, per platform that takes one: `Shop domain (Shopify) or site URL (…) to send as.`
_STORE_HELP = " or ".join(p.send.store_help for p in PLATFORMS.values() if p.send.store_help)


def topic_from_filename(path: Path, source: str) -> str | None:
    """The handled topic a fixture file name encodes, if any (`products_update.json` encodes one the bridge
    does not handle: None, so the caller asks for --topic rather than sending something that is ignored)."""
    stem = path.stem.split("__", 1)[0]
    separator = _TOPIC_SEPARATOR.get(source)
    if separator is None or "_" not in stem:
        return None
    head, _, tail = stem.partition("_")
    topic = f"{head}{separator}{tail}"
    return topic if topic in HANDLED_TOPICS.get(source, ()) else None


def webhook_url(url: str, source: str) -> str:
    """Accept either the bridge's base URL or the full webhook URL."""
    url = url.rstrip("/")
    return url if "/webhooks/" in url else f"{url}/webhooks/{source}"


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", required=True, type=click.Choice(sorted(SOURCES)))
@click.option("--url", help="Bridge base or webhook URL (default: http:// + BRIDGE_BIND).")
@click.option("--topic", help="Platform topic (default: from the file name, e.g. orders_paid__x.json).")
@click.option("--store", help=f"{_STORE_HELP[:1].upper()}{_STORE_HELP[1:]} to send as.")
@click.pass_obj
def send(state: CliState, file: Path, source_name: str, url: str | None, topic: str | None, store: str | None) -> None:
    """Sign FILE with the configured secret for SOURCE and POST it, printing the bridge's answer.

    Exits 0 only when the bridge took the event (accepted, or a duplicate of one it has): an ignored event or
    a refusal (4xx/5xx) exits 1, so a script notices."""
    settings = state.settings
    source = SOURCES[source_name](settings)
    body = file.read_bytes()
    if topic is None and source_name in HANDLED_TOPICS:
        topic = topic_from_filename(file, source_name)
        if topic is None:
            raise click.UsageError(
                f"cannot tell a handled {source_name} topic from the file name {file.name!r} "
                f"(e.g. {HANDLED_TOPICS[source_name][-1].replace('/', '_').replace('.', '_')}__x.json); "
                f"pass --topic, one of: {', '.join(HANDLED_TOPICS[source_name])}"
            )
    if url is None and settings.bind.startswith("unix:"):
        raise click.UsageError("BRIDGE_BIND is a unix socket: pass --url")
    url = url or default_url(settings.bind)
    try:
        headers = source.sign(body, topic=topic, store=store)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    target = webhook_url(url, source_name)
    try:
        # Not followed: the signed body and its signature are for this bridge only.
        response = requests.post(target, data=body, headers=headers, timeout=30, allow_redirects=False)
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach {target}: {exc}") from None
    click.echo(f"{response.status_code} {response.text.strip()}")
    sys.exit(0 if response.status_code < 400 and _answer_status(response) in ("accepted", "duplicate") else 1)


def _answer_status(response: requests.Response) -> str | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer.get("status") if isinstance(answer, dict) else None
