"""The floor plan holds: each integration lives in its own folders, and no module holds two jobs."""

from __future__ import annotations

import pytest

from tests.helpers.layout import INTEGRATIONS, files_naming, module_lengths

MOST_FILES_OUTSIDE = 3
LONGEST_MODULE = 300


@pytest.mark.parametrize("integration", sorted(INTEGRATIONS))
def test_an_integration_is_named_in_code_in_at_most_three_modules_outside_its_folders(integration: str) -> None:
    files = files_naming(integration)
    assert len(files) <= MOST_FILES_OUTSIDE, f"{integration} is named in code outside its folders in {files}"


def test_no_module_of_the_bridge_is_over_300_lines() -> None:
    over = {module: lines for module, lines in module_lengths().items() if lines > LONGEST_MODULE}
    assert over == {}
