"""Wiring for `bridge worker` and `bridge run`."""

from __future__ import annotations

import logging
import threading

from bridge.cleartext import warn_cleartext
from bridge.delivery.worker import Worker
from bridge.logs import configure_logging
from bridge.settings import Settings
from bridge.startup import warn_settings
from bridge.storage import Database


def run_worker(settings: Settings, *, stop: threading.Event) -> None:
    """Migrate if needed, then run the delivery worker until `stop` is set."""
    configure_logging(settings.log_level, settings)
    warn_settings(settings, logging.getLogger("bridge.startup"))
    warn_cleartext(settings, logging.getLogger("bridge.startup"))  # the worker is what sends the tokens
    db = Database.for_settings(settings, durable=False)
    db.upgrade()
    try:
        Worker(settings, db, stop).run()
    finally:
        db.dispose()
