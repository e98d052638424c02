"""The per-app object holding settings and long-lived services; created once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from bridge.platforms.adapter import Source
from bridge.settings import Settings
from bridge.storage import Database, Events, Storage


@dataclass
class BridgeContext:
    """What request handlers need: settings, the storage facade (built once, here), the configured sources. (The
    admin keeps its own service in `app.extensions`: bridge.admin.init_app.)"""

    settings: Settings
    storage: Storage
    sources: dict[str, Source]

    @property
    def db(self) -> Database:
        """The database handle under the storage (migrations, health pings, raw reads of the alerts)."""
        return self.storage.db

    @property
    def events(self) -> Events:
        """The events repository (the webhook ack's)."""
        return self.storage.events

    @staticmethod
    def current() -> BridgeContext:
        """The context of the app handling the current request."""
        context: BridgeContext = current_app.extensions["bridge"]
        return context
