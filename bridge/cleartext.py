"""Configured API URLs that would carry a credential unencrypted: `http://` to a host that is not this machine.
Said at start-up (web and worker) and by `storebridge check`; not refused, since a TLS-terminating proxy on a
private network is a legitimate (if unusual) set-up."""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from bridge.destinations import registry
from bridge.settings import Settings


def is_loopback(host: str | None) -> bool:
    """True for `localhost` (and `*.localhost`) and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext_urls(settings: Settings) -> list[tuple[str, str, str]]:
    """(setting, host, credential) for each configured `http://` URL to a non-loopback host that is sent a
    credential (the destinations' tokens, the store API keys)."""
    candidates = (
        *(row for destination in registry.destinations() for row in destination.credential_urls(settings)),
        (
            "BRIDGE_WOOCOMMERCE_URL",
            settings.woocommerce_url if settings.woocommerce_key else None,
            "the WooCommerce API key",
        ),
        (
            "BRIDGE_SHOPIFY_SHOP",
            settings.shopify_base_url if settings.shopify_admin_token else None,
            "the Shopify admin token",
        ),
    )
    found = []
    for name, url, credential in candidates:
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
            found.append((name, parts.hostname or "", credential))
    return found


def cleartext_warnings(settings: Settings) -> list[str]:
    """One sentence per URL found by `cleartext_urls`."""
    return [
        f"{name} is http:// to {host}: {credential} travels unencrypted; use https://"
        for name, host, credential in cleartext_urls(settings)
    ]


def warn_cleartext(settings: Settings, log: logging.Logger) -> None:
    """Log each cleartext URL at WARNING (at start-up)."""
    for warning in cleartext_warnings(settings):
        log.warning(warning)
