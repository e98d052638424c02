"""The per-app object holding settings and long-lived services; created once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from bridge.platforms.adapter import Source
from bridge.settings import Settings
from bridge.storage import Database, EventStore


@dataclass
class BridgeContext:
    """What request handlers need: settings, the database and its stores, the configured sources. (The admin
    keeps its own service in `app.extensions`: bridge.admin.init_app.)"""

    settings: Settings
    db: Database
    events: EventStore
    sources: dict[str, Source]

    @staticmethod
    def current() -> BridgeContext:
        """The context of the app handling the current request."""
        context: BridgeContext = current_app.extensions["bridge"]
        return context
