"""The destinations this bridge delivers to, one line each, in the order an event's legs are planned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bridge.destinations.activecampaign.destination import ActiveCampaign
from bridge.destinations.base import Destination
from bridge.destinations.ecartapi.destination import EcartAPI

_REGISTERED: list[Destination] = [
    ActiveCampaign(),
    EcartAPI(),
]


def destinations() -> tuple[Destination, ...]:
    """Every registered destination, in planning order."""
    return tuple(_REGISTERED)


def names() -> tuple[str, ...]:
    """Every registered destination's name."""
    return tuple(d.name for d in _REGISTERED)


def in_words() -> str:
    """The destinations in a sentence: `A and B`, `A, B and C`."""
    titles = [d.title or d.name for d in _REGISTERED]
    return " and ".join(filter(None, (", ".join(titles[:-1]), titles[-1]))) if titles else "nowhere"


def find(name: str) -> Destination | None:
    """The destination called `name`, or None."""
    return next((d for d in _REGISTERED if d.name == name), None)


def get(name: str) -> Destination:
    """The destination called `name`; KeyError when none is."""
    found = find(name)
    if found is None:
        raise KeyError(f"no destination {name!r}")
    return found


def attempt_summary(destination: str, url: str | None, request: str | None, response: str | None) -> str | None:
    """A recorded call in a few words, as its destination tells it (None: nothing to add to URL and status)."""
    found = find(destination)
    return found.describe_attempt(url, request, response) if found else None


@contextmanager
def registered(destination: Destination) -> Iterator[Destination]:
    """`destination` registered for the duration of the block (a throwaway destination in a test, a plug-in
    tried out in one process): one line, like the list above."""
    _REGISTERED.append(destination)
    try:
        yield destination
    finally:
        _REGISTERED.remove(destination)
