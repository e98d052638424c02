"""The request path's depth test (bridge.documents), read off the bytes without a regex, against the depth of
the parsed document, for documents whose strings are full of brackets, quotes and backslashes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.documents import _FEW_ESCAPES, MAX_DEPTH, _too_deep, read_quickly

TRICKY = st.text(alphabet='[]{}"\\/ ux0', max_size=12)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int, leaf: Any) -> Any:
    for index in range(levels):
        leaf = [leaf] if index % 2 else {"k[": leaf, '"]\\': "[{"}
    return leaf


@settings(max_examples=300, deadline=None)
@given(levels=st.integers(min_value=55, max_value=75), leaf=TRICKY, keys=st.lists(TRICKY, max_size=5))
def test_depth_test_matches_the_parsed_depth(levels: int, leaf: str, keys: list[str]) -> None:
    document = {key: leaf for key in keys}
    document["deep"] = nested(levels, leaf)
    for ascii_only in (True, False):
        body = json.dumps(document, ensure_ascii=ascii_only).encode()
        assert _too_deep(body) == (depth(document) > MAX_DEPTH), body[:200]


def test_brackets_inside_strings_do_not_count() -> None:
    body = json.dumps({"a": "[" * 200 + '\\"' + "{" * 200, "b": "\\" * 9}).encode()
    assert not _too_deep(body)
    assert read_quickly(body)["b"] == "\\" * 9


@pytest.mark.parametrize("levels", [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 3])
@pytest.mark.parametrize("escapes", [1, _FEW_ESCAPES + 1], ids=["few escapes", "many escapes"])
def test_depth_test_is_exact_on_both_escape_paths(levels: int, escapes: int) -> None:
    """Few escapes go through one regex, many through two replaces: the same verdict either way."""
    document = {"pad": ['\\"[' * escapes, "\\" * escapes + "]"], "deep": nested(levels, '\\"{')}
    body = json.dumps(document).encode()
    assert (body.count(b"\\") > _FEW_ESCAPES) == (escapes > _FEW_ESCAPES)
    assert _too_deep(body) == (depth(document) > MAX_DEPTH)
