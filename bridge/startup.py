"""The one start-up line: what a first run needs to know, said once when the server is listening."""

from __future__ import annotations

import logging

from bridge import __version__
from bridge.destinations import registry
from bridge.destinations.base import DRY_RUN
from bridge.settings import Settings

log = logging.getLogger("bridge.startup")


def _display_database(url: str) -> str:
    from sqlalchemy import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        return f"sqlite {Path(parsed.database).expanduser().resolve()}"
    return parsed.render_as_string(hide_password=True)


def startup_facts(settings: Settings, address: str) -> dict[str, object]:
    """Address, database, sources with secrets, each destination live or dry-run, dashboard on or off."""
    base = address if address.startswith(("unix:", "http")) else f"http://{address}"
    return {
        "version": __version__,
        "address": base,
        "database": _display_database(settings.database_url),
        "sources_with_secrets": list(settings.sources_with_secrets),
        **{d.name: d.mode(settings) for d in registry.destinations()},
        "dashboard": "on" if settings.admin_token else "off",
    }


def startup_message(facts: dict[str, object]) -> str:
    """The facts as one sentence-like line."""
    sources = ", ".join(facts["sources_with_secrets"]) or "none (every webhook is answered 401)"  # type: ignore[arg-type]
    modes = [(name, facts[name]) for name in registry.names() if name in facts]
    dry = " (dry-run: calls are recorded, not sent)" if any(mode == DRY_RUN for _, mode in modes) else ""
    dashboard = (
        f"on at {facts['address']}/admin/" if facts["dashboard"] == "on" else "off (set BRIDGE_ADMIN_TOKEN to enable)"
    )
    return (
        f"storebridge {facts['version']} listening on {facts['address']} | database {facts['database']} | "
        f"sources with secrets: {sources} | {', '.join(f'{name} {mode}' for name, mode in modes)}{dry} | "
        f"dashboard {dashboard}"
    )


def log_startup(settings: Settings, address: str) -> None:
    """Log the start-up line (the same words on a terminal and in JSON's `msg`), then a warning for each API
    URL that would carry a credential unencrypted."""
    from bridge.cleartext import warn_cleartext

    log.info(startup_message(startup_facts(settings, address)))
    warn_settings(settings, log)
    warn_cleartext(settings, log)


def warn_settings(settings: Settings, logger: logging.Logger = log) -> None:
    """A WARNING for each problem in the configuration that does not stop start-up (an unknown BRIDGE_*
    variable, naming the closest setting): a typo would otherwise be silently ignored."""
    for warning in settings.warnings:
        logger.warning(warning)
