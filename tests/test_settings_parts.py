"""Each integration declares its own settings in its folder, and the settings module gathers them: every part is
gathered, a part module imports only the settings' bottom modules (so no import cycle can form), and a throwaway
part is gathered like the real ones, its bad variables named with the core's at once."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from marshmallow import Schema, ValidationError, validates_schema
from marshmallow import fields as mfields

from bridge.errors import SettingsError
from bridge.settings import Settings, load_settings, schema_of
from bridge.settings_core import CoreSettings

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"
PART_MODULES = sorted(BRIDGE.glob("*/*/settings.py"))
#: What a part module may import from the bridge: the settings' bottom modules (and, for EcartAPI's platform
#: part, which extends it, the destination's part).
BOTTOM = {
    "bridge.setting_values",
    "bridge.settings_core",
    "bridge.settings_schema",
    "bridge.destinations.ecartapi.settings",
}


def test_every_integration_folder_with_settings_is_gathered() -> None:
    gathered = {part.__module__ for part in Settings.parts()}
    found = {".".join(path.relative_to(BRIDGE.parent).with_suffix("").parts) for path in PART_MODULES}
    assert found and found == gathered


@pytest.mark.parametrize("path", PART_MODULES, ids=lambda p: p.parent.name + "/" + p.parent.parent.name)
def test_a_part_imports_only_the_settings_bottom_modules(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {name for name in imported if name.startswith("bridge")} <= BOTTOM


def test_each_platform_and_destination_is_named_once_in_gathering_order() -> None:
    assert [part.PLATFORM for part in Settings.parts() if "PLATFORM" in vars(part)] == [
        "shopify", "woocommerce", "ecartapi", "custom"
    ]  # fmt: skip
    assert [part.DESTINATION for part in Settings.parts() if "DESTINATION" in vars(part)] == [
        "activecampaign", "ecartapi"
    ]  # fmt: skip


class ToySchema(Schema):
    toy_url = mfields.Url(data_key="BRIDGE_TOY_URL", require_tld=False)
    toy_token = mfields.String(data_key="BRIDGE_TOY_TOKEN")

    @validates_schema(skip_on_field_errors=False)
    def _toy_consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("toy_token") and not data.get("toy_url"):
            raise ValidationError({"BRIDGE_TOY_URL": ["required with BRIDGE_TOY_TOKEN"]})


@dataclass(frozen=True, repr=False)
class ToySettings(CoreSettings):
    DESTINATION: ClassVar[str | None] = "toy"
    LIVE: ClassVar[str] = "toy_token"
    SCHEMA: ClassVar[type[Schema]] = ToySchema

    toy_url: str | None = None
    toy_token: str | None = None


@dataclass(frozen=True, repr=False)
class ToyGathered(ToySettings, CoreSettings):
    pass


def test_a_throwaway_part_is_gathered_like_the_real_ones() -> None:
    schema = schema_of(ToyGathered)()
    values = schema.load({"BRIDGE_TOY_URL": "http://toy.test", "BRIDGE_TOY_TOKEN": "t", "BRIDGE_BIND": "0.0.0.0:80"})
    settings = ToyGathered(**values)
    assert (settings.toy_url, settings.bind, settings.live_destinations) == ("http://toy.test", "0.0.0.0:80", ("toy",))
    with pytest.raises(ValidationError) as caught:
        schema.load({"BRIDGE_TOY_TOKEN": "t", "BRIDGE_BIND": "nowhere"})
    assert set(caught.value.messages) == {"BRIDGE_TOY_URL", "BRIDGE_BIND"}


def test_bad_variables_of_several_parts_and_the_core_are_named_at_once() -> None:
    env = {"BRIDGE_AC_RATE": "0", "BRIDGE_SHOPIFY_SHOP": "s.myshopify.com", "BRIDGE_WEBHOOK_SECRET": "nope",
           "BRIDGE_ECART_STATUSES": "paid=bogus", "BRIDGE_MAX_BODY": "1"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert set(caught.value.problems) == {
        "BRIDGE_AC_RATE", "BRIDGE_SHOPIFY_ADMIN_TOKEN", "BRIDGE_WEBHOOK_SECRET", "BRIDGE_ECART_STATUSES",
        "BRIDGE_MAX_BODY",
    }  # fmt: skip
