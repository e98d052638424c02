"""`bridge send FILE --source S --url URL`: sign a payload as the platform would and post it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import requests

from bridge.sources import SOURCES

# Fixture names encode the topic: `orders_paid__jpy.json` → `orders/paid`, `order_updated__x.json` → `order.updated`.
_TOPIC_SEPARATOR = {"shopify": "/", "woocommerce": "."}


def topic_from_filename(path: Path, source: str) -> str | None:
    """The topic a fixture file name encodes, if any."""
    stem = path.stem.split("__", 1)[0]
    separator = _TOPIC_SEPARATOR.get(source)
    if separator is None or "_" not in stem:
        return None
    head, _, tail = stem.partition("_")
    return f"{head}{separator}{tail}"


def webhook_url(url: str, source: str) -> str:
    """Accept either the bridge's base URL or the full webhook URL."""
    url = url.rstrip("/")
    return url if "/webhooks/" in url else f"{url}/webhooks/{source}"


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", required=True, type=click.Choice(sorted(SOURCES)))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Bridge base or webhook URL.")
@click.option("--topic", help="Platform topic (default: from the file name, e.g. orders_paid__x.json).")
@click.option("--store", help="Shop domain (Shopify) or site URL (WooCommerce) to send as.")
@click.pass_obj
def send(state: object, file: Path, source_name: str, url: str, topic: str | None, store: str | None) -> None:
    """Sign FILE with the configured secret for SOURCE and POST it, printing the bridge's answer."""
    settings = state.settings  # type: ignore[attr-defined]
    source = SOURCES[source_name](settings)
    body = file.read_bytes()
    try:
        headers = source.sign(body, topic=topic or topic_from_filename(file, source_name), store=store)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    target = webhook_url(url, source_name)
    try:
        response = requests.post(target, data=body, headers=headers, timeout=30)
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach {target}: {exc}") from None
    click.echo(f"{response.status_code} {response.text.strip()}")
    sys.exit(0 if response.status_code < 400 else 1)
