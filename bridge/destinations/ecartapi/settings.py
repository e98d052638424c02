"""EcartAPI's settings as a destination: its API address and token, and which events update which order status.

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, post_load
from marshmallow import fields as mfields

from bridge.setting_values import BaseUrl
from bridge.settings_core import CoreSettings

ECART_STATUS_VALUES = ("on_hold", "pending", "paid", "cancelled", "refunded")
ECART_EVENT_KINDS = ("order.paid", "order.cancelled", "order.refunded")


class _StatusMap(mfields.Field[dict[str, str]]):
    """`paid=paid,cancelled=cancelled` -> {"order.paid": "paid", ...}; empty or `none`: no EcartAPI legs."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, str):
            raise ValidationError("must look like paid=paid,cancelled=cancelled")
        mapping: dict[str, str] = {}
        if value.strip().lower() in ("", "none"):
            return mapping
        for pair in filter(None, (p.strip() for p in value.split(","))):
            event, sep, status = (s.strip() for s in pair.partition("="))
            kind = event if event.startswith("order.") else f"order.{event}"
            if not sep or kind not in ECART_EVENT_KINDS:
                raise ValidationError(f"{pair!r}: the left side must be one of paid, cancelled, refunded")
            if status not in ECART_STATUS_VALUES:
                raise ValidationError(f"{pair!r}: the status must be one of {', '.join(ECART_STATUS_VALUES)}")
            mapping[kind] = status
        return mapping


class EcartAPISchema(Schema):
    """EcartAPI's BRIDGE_ECART_* variables."""

    ecart_url = BaseUrl(data_key="BRIDGE_ECART_URL")
    ecart_token = mfields.String(data_key="BRIDGE_ECART_TOKEN")
    # Empty is meaningful here (no EcartAPI legs), not "unset".
    ecart_statuses = _StatusMap(data_key="BRIDGE_ECART_STATUSES", metadata={"empty_means": True})

    @post_load
    def _ecart_normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Only a variable that was set (even empty, or invalid) reaches here as a key.
        data["ecart_statuses_explicit"] = "ecart_statuses" in data
        return data


@dataclass(frozen=True, repr=False)
class EcartAPISettings(CoreSettings):
    """EcartAPI's part of the settings, as a destination."""

    DESTINATION: ClassVar[str | None] = "ecartapi"
    LIVE: ClassVar[str] = "ecart_enabled"
    SCHEMA: ClassVar[type[Schema]] = EcartAPISchema
    #: The longer name people give EcartAPI in a variable (`BRIDGE_ECARTAPI_TOKEN`), for the "did you mean" hint.
    SYNONYMS: ClassVar[tuple[tuple[str, str], ...]] = (("ECARTAPI", "ECART"),)

    ecart_url: str = "https://api.ecartapi.com"
    ecart_token: str | None = field(default=None, repr=False)
    ecart_statuses: Mapping[str, str] = field(
        default_factory=lambda: {"order.paid": "paid", "order.cancelled": "cancelled", "order.refunded": "refunded"}
    )
    #: BRIDGE_ECART_STATUSES was set (even empty): EcartAPI legs are planned as it says, token or not.
    ecart_statuses_explicit: bool = False

    @property
    def ecart_enabled(self) -> bool:
        """True when EcartAPI calls are really sent (not dry-run)."""
        return bool(self.ecart_token)

    @property
    def ecart_used(self) -> bool:
        """True when EcartAPI is a destination at all: its token is set, or BRIDGE_ECART_STATUSES was set on
        purpose, or nothing is live (the trial, where every leg is a dry-run worth seeing). A Shopify -> AC shop
        (AC live, no EcartAPI token) gets no EcartAPI deliveries, banners or check lines."""
        if self.ecart_statuses_explicit and not self.ecart_statuses:
            return False  # BRIDGE_ECART_STATUSES=none: no event updates EcartAPI, whatever else is set
        # Named through the class: on the gathered Settings, `self.DESTINATION` is the first part's.
        others_live = any(name != EcartAPISettings.DESTINATION for name in self.live_destinations)
        return self.ecart_enabled or self.ecart_statuses_explicit or not others_live
