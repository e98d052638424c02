"""HTTP fakes of ActiveCampaign (Deep Data v3) and EcartAPI served on real loopback sockets.

Names are re-exported lazily so ``python -m tests.fakes.activecampaign`` does not import the module twice.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FakeActiveCampaign": "activecampaign",
    "FakeEcartAPI": "ecartapi",
    "FakeService": "base",
    "Hold": "base",
    "RecordedRequest": "base",
    "FakeServer": "server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the exported classes on first use."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
