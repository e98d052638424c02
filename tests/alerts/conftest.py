"""Alert tests run on SQLite and PostgreSQL (`database_url`); `sink` is a strict incoming webhook on loopback."""

from collections.abc import Iterator

import pytest

from tests.fakes.alert_sink import AlertSink
from tests.helpers.backends import database_url  # noqa: F401


@pytest.fixture
def sink() -> Iterator[AlertSink]:
    running = AlertSink().start()
    yield running
    running.stop()
