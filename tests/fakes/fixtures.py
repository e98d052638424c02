"""Ready-made pytest fixtures for the fakes.

Use from another test module or conftest with::

    from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401

Each fixture starts a fresh fake on a free loopback port, stops it at teardown, and fails the test if the
fake itself crashed on a request (``fake.errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from .activecampaign import FakeActiveCampaign
from .ecartapi import FakeEcartAPI

Fake = TypeVar("Fake")


def serve(fake: Fake, prepare: Callable[[Fake], Any] | None = None) -> Iterator[Fake]:
    """Start `fake`, optionally `prepare` it, yield it, stop it; then fail the test if the fake crashed on a
    request. For fixtures: ``yield from serve(FakeWooCommerce())``."""
    fake.start()  # type: ignore[attr-defined]
    if prepare is not None:
        prepare(fake)
    try:
        yield fake
    finally:
        fake.stop()  # type: ignore[attr-defined]
    errors = fake.errors  # type: ignore[attr-defined]
    assert not errors, "the fake crashed:\n" + "\n".join(errors)


def serve_ac(**options: Any) -> Iterator[FakeActiveCampaign]:
    """A FakeActiveCampaign with `options` (rate, customer_unique …) and connection ``1`` preloaded."""
    return serve(FakeActiveCampaign(**options), FakeActiveCampaign.preload_connection)


@pytest.fixture
def fake_ac() -> Iterator[FakeActiveCampaign]:
    """A running FakeActiveCampaign (token ``test-ac-token``, 5 req/s) with connection ``1`` preloaded."""
    yield from serve_ac()


@pytest.fixture
def fake_ecart() -> Iterator[FakeEcartAPI]:
    """A running FakeEcartAPI (token ``test-ecart-token``)."""
    yield from serve(FakeEcartAPI())
