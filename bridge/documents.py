"""Parsing webhook bodies (spec §11): JSON objects only, UTF-8 only (no byte order mark), no NaN/Infinity, at
most 64 levels deep. Strings holding a lone surrogate or NUL are flagged apart (`UnsafeText`): no database or
encoder downstream can take them, yet for a platform source the signed body is still kept raw and quarantined
rather than refused.

Two readers share these rules. The request path (`read_quickly`) uses orjson and reads decimals as floats: it
only looks at ids, dates and statuses, and must cost milliseconds whatever the body. The worker and replays
(`parse_document`) read exactly: decimals stay Decimal, big integers stay int.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson

from bridge.errors import MalformedPayload

MAX_DEPTH = 64
#: Values (roughly: commas, objects and arrays) a body may hold to be read in the request. Far above a real
#: order under BRIDGE_MAX_BODY, it keeps the request's parse within a few milliseconds. A denser body is not
#: refused for that alone: a platform's is stored raw for the worker to read, a `custom` one is a 400.
MAX_ELEMENTS = 100_000
_BOM = b"\xef\xbb\xbf"
# Only an escape can put a surrogate or NUL into a parsed string: strict UTF-8 and JSON's ban on raw control
# characters keep them out otherwise. Bodies without such an escape skip every per-string check.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NUL_ESCAPE = re.compile(rb"\\u0000")
_UNSAFE = re.compile("[\ud800-\udfff\x00]")
# A JSON string, unrolled so the regex engine does not backtrack (the body already parsed: strings are sound).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# More than MAX_DEPTH brackets opened in a row (whitespace aside): too deep, whatever else the body holds. A
# linear test (translate, then a substring search) for bodies too big to parse in the request.
_OPEN_RUN = b"[" * (MAX_DEPTH + 1)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_SHAPE = bytes.maketrans(b"{}", b"[]")
_NOT_SHAPE_OR_QUOTE = bytes(sorted(set(range(256)) - set(b'[]{}"')))


class UnsafeText(MalformedPayload):
    """A string in the body holds a lone surrogate or NUL."""


class TooComplex(MalformedPayload):
    """The body holds more values than the request path reads (MAX_ELEMENTS)."""


def read_quickly(body: bytes) -> dict[str, Any]:
    """The request path's reading: every rule above, in bounded time; floats instead of Decimal.

    Raises TooComplex (before any parsing) over MAX_ELEMENTS, UnsafeText, or MalformedPayload."""
    if body.count(b",") + body.count(b"{") + body.count(b"[") > MAX_ELEMENTS:
        if _OPEN_RUN in body.translate(_SHAPE, b" \t\r\n"):
            raise MalformedPayload(f"the body is nested more than {MAX_DEPTH} levels deep")
        raise TooComplex(f"the body holds more than {MAX_ELEMENTS} JSON values")
    _check_encoding(body)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _SURROGATE_ESCAPE.search(body):
            parse_document(body)  # orjson refuses lone surrogates; the exact reader tells them from bad JSON
        raise MalformedPayload(f"the body is not valid JSON: {str(exc)[:200]}") from None
    return _checked(body, document)


def parse_document(body: bytes) -> dict[str, Any]:
    """The exact reading (decimals stay Decimal, big integers stay int), for the worker and replays.
    Raises UnsafeText or MalformedPayload."""
    _check_encoding(body)
    text = body.decode("utf-8")
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise MalformedPayload(f"the body is not valid JSON: {reason}") from None
    return _checked(body, document)


def _check_encoding(body: bytes) -> None:
    if body.startswith(_BOM):
        raise MalformedPayload("the body starts with a byte order mark; send UTF-8 without one")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8 (UTF-16 and UTF-32 are refused)") from None
    if not body.strip():
        raise MalformedPayload("the body is empty; a JSON object is required")


def _checked(body: bytes, document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise MalformedPayload(f"a JSON object is required, not {type(document).__name__}")
    if _too_deep(body):
        raise MalformedPayload(f"the body is nested more than {MAX_DEPTH} levels deep")
    if (_SURROGATE_ESCAPE.search(body) or _NUL_ESCAPE.search(body)) and _has_unsafe_text(document):
        raise UnsafeText("a string in the body holds a lone surrogate or NUL (\\u0000)")
    return document


def _too_deep(body: bytes) -> bool:
    """Nesting deeper than MAX_DEPTH, read off the bytes of a body that parsed: strings removed, only the
    brackets kept, then one level of empty pairs removed per round (each round is one C-speed pass)."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    if b"\\" in body:
        shape = _STRING.sub(b"", body).translate(_SHAPE, _NOT_BRACKET)
    else:
        # No escapes, so no quote inside a string: strings are every other stretch between quotes. Without the
        # regex this costs a third of the time on a typical order.
        shape = b"".join(body.translate(_SHAPE, _NOT_SHAPE_OR_QUOTE).split(b'"')[::2])
    for _ in range(MAX_DEPTH):
        if not shape:
            return False
        shape = shape.replace(b"[]", b"")
    return bool(shape)


def _has_unsafe_text(document: Any) -> bool:
    """A lone surrogate or NUL in any key or string (only walked when the bytes hold such an escape)."""
    stack = [document]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
        for key, value in items:
            if isinstance(key, str) and _UNSAFE.search(key):
                return True
            if isinstance(value, str):
                if _UNSAFE.search(value):
                    return True
            elif isinstance(value, dict | list):
                stack.append(value)
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
