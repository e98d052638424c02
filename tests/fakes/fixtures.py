"""Ready-made pytest fixtures for the fakes.

Use from another test module or conftest with::

    from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401

Each fixture starts a fresh fake on a free loopback port, stops it at teardown, and fails the test if the
fake itself crashed on a request (``fake.errors``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .activecampaign import FakeActiveCampaign
from .ecartapi import FakeEcartAPI


@pytest.fixture
def fake_ac() -> Iterator[FakeActiveCampaign]:
    """A running FakeActiveCampaign (token ``test-ac-token``, 5 req/s) with connection ``1`` preloaded."""
    fake = FakeActiveCampaign().start()
    fake.preload_connection()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.errors, "the fake crashed:\n" + "\n".join(fake.errors)


@pytest.fixture
def fake_ecart() -> Iterator[FakeEcartAPI]:
    """A running FakeEcartAPI (token ``test-ecart-token``)."""
    fake = FakeEcartAPI().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.errors, "the fake crashed:\n" + "\n".join(fake.errors)
