"""ActiveCampaign's settings: the account URL and token, the Deep Data connection, pacing, and how orders are sent.

Gathered into the one `Settings` object by `bridge/settings.py`; imports only the settings' bottom modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mfields

from bridge.setting_values import OFF, ON, BaseUrl
from bridge.settings_core import CoreSettings
from bridge.settings_schema import together


class ActiveCampaignSchema(Schema):
    """ActiveCampaign's BRIDGE_AC_* variables."""

    ac_url = BaseUrl(data_key="BRIDGE_AC_URL")
    ac_token = mfields.String(data_key="BRIDGE_AC_TOKEN")
    ac_connection_id = mfields.String(data_key="BRIDGE_AC_CONNECTION_ID", validate=validate.Regexp(r"^\d+$"))
    ac_rate = mfields.Float(data_key="BRIDGE_AC_RATE", validate=validate.Range(min=0.1, max=1000))
    ac_source = mfields.Integer(data_key="BRIDGE_AC_SOURCE", validate=validate.OneOf([0, 1]))
    ac_contact_sync = mfields.Boolean(data_key="BRIDGE_AC_CONTACT_SYNC", truthy=ON, falsy=OFF)
    ac_list_id = mfields.String(data_key="BRIDGE_AC_LIST_ID", validate=validate.Regexp(r"^[1-9]\d*$"))
    ac_revenue = mfields.String(data_key="BRIDGE_AC_REVENUE", validate=validate.OneOf(["net", "gross"]))
    ac_order_api = mfields.String(data_key="BRIDGE_AC_ORDER_API", validate=validate.OneOf(["graphql", "v3"]))
    ac_batch = mfields.Integer(data_key="BRIDGE_AC_BATCH", validate=validate.Range(min=1, max=1000))

    @validates_schema(skip_on_field_errors=False)
    def _ac_consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        msg = "BRIDGE_AC_URL and BRIDGE_AC_TOKEN go together: set both, or neither for dry-run"
        if errors := together(data, ("ac_url", "BRIDGE_AC_URL"), ("ac_token", "BRIDGE_AC_TOKEN"), msg):
            raise ValidationError(errors)


@dataclass(frozen=True, repr=False)
class ActiveCampaignSettings(CoreSettings):
    """ActiveCampaign's part of the settings."""

    DESTINATION: ClassVar[str | None] = "activecampaign"
    LIVE: ClassVar[str] = "ac_enabled"
    SCHEMA: ClassVar[type[Schema]] = ActiveCampaignSchema
    #: The long name people give ActiveCampaign in a variable (`BRIDGE_ACTIVECAMPAIGN_TOKEN`), for the hint.
    SYNONYMS: ClassVar[tuple[tuple[str, str], ...]] = (("ACTIVECAMPAIGN", "AC"),)

    ac_url: str | None = None
    ac_token: str | None = field(default=None, repr=False)
    ac_connection_id: str | None = None
    ac_rate: float = 5.0
    ac_source: int = 1
    ac_contact_sync: bool = True
    ac_list_id: str | None = None
    ac_revenue: str = "net"
    # Spec §14: paid orders, cancellations and refunds through AC's eComm GraphQL API (`graphql`) or v3 (`v3`).
    ac_order_api: str = "graphql"
    ac_batch: int = 50

    @property
    def ac_enabled(self) -> bool:
        """True when ActiveCampaign calls are really sent (not dry-run)."""
        return bool(self.ac_url and self.ac_token)
