"""Parsing webhook bodies (spec §11): JSON objects only, UTF-8 only (no byte order mark), no NaN/Infinity, at
most 64 levels deep. Strings holding a lone surrogate or NUL are flagged apart (`UnsafeText`): no database or
encoder downstream can take them, yet for a platform source the signed body is still kept raw and quarantined
rather than refused.

Two readers share these rules. The request path (`read_quickly`) uses orjson and reads decimals as floats: it
only looks at ids, dates and statuses, and must cost milliseconds whatever the body. The worker and replays
(`parse_document`) read exactly: decimals stay Decimal, big integers stay int.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Iterator
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
_UNSAFE_ESCAPE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")  # a regex: its literal `\` prefix is scanned fast
# A backslash and the character it escapes: removed before the depth test reads quotes (see _too_deep).
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_FEW_ESCAPES = 4096
_UNSAFE = re.compile("[\ud800-\udfff\x00]")
# Every byte but brackets and quotes, deleted by the depth test (after escapes are gone, see _too_deep).
_NOT_SHAPE = bytes(sorted(set(range(256)) - set(b'[]{}"')))
# More than MAX_DEPTH brackets opened in a row (whitespace aside): too deep, whatever else the body holds. A
# linear test (translate, then a substring search) for bodies too big to parse in the request.
_OPEN_RUN = b"[" * (MAX_DEPTH + 1)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_SHAPE = bytes.maketrans(b"{}", b"[]")


class UnsafeText(MalformedPayload):
    """A string in the body holds a lone surrogate or NUL."""


class TooComplex(MalformedPayload):
    """The body holds more values than the request path reads (MAX_ELEMENTS)."""


def read_quickly(body: bytes) -> dict[str, Any]:
    """The request path's reading: every rule above, in bounded time; floats instead of Decimal.

    Raises TooComplex (before any parsing) over MAX_ELEMENTS, UnsafeText, or MalformedPayload."""
    opened = body.count(b"{") + body.count(b"[")
    if body.count(b",") + opened > MAX_ELEMENTS:
        if _OPEN_RUN in body.translate(_SHAPE, b" \t\r\n"):
            raise MalformedPayload(f"the body is nested more than {MAX_DEPTH} levels deep")
        raise TooComplex(f"the body holds more than {MAX_ELEMENTS} JSON values")
    try:
        with no_collection():
            document = orjson.loads(body)  # refuses what is not UTF-8, without a decoded copy of the body
    except orjson.JSONDecodeError as exc:
        _check_encoding(body)  # a BOM, UTF-16 or an empty body: say which
        if _SURROGATE_ESCAPE.search(body):
            parse_document(body)  # orjson refuses lone surrogates; the exact reader tells them from bad JSON
        raise MalformedPayload(f"the body is not valid JSON: {str(exc)[:200]}") from None
    if body.startswith(_BOM):  # should orjson ever skip one: the rule is the same for both readers
        raise MalformedPayload("the body starts with a byte order mark; send UTF-8 without one")
    return _checked(body, document, opened)


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic garbage collector off while a parser builds a document. Parsed JSON holds no reference
    cycles, yet every 700 new containers start a collection, and the older generations' collections walk the
    whole growing document again and again: 5,000 small line items cost ~75 ms of collections for a 15 ms
    parse. The request path (bridge.ingest) keeps it off until the document is gone, so no collection walks
    it at all. GC is process-wide; whoever turned it off turns it back on (other threads only collect a
    little later)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_document(body: bytes) -> dict[str, Any]:
    """The exact reading (decimals stay Decimal, big integers stay int), for the worker and replays.
    Raises UnsafeText or MalformedPayload."""
    _check_encoding(body)
    text = body.decode("utf-8")
    try:
        with no_collection():
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


def _checked(body: bytes, document: Any, opened: int | None = None) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise MalformedPayload(f"a JSON object is required, not {type(document).__name__}")
    if _too_deep(body, opened):
        raise MalformedPayload(f"the body is nested more than {MAX_DEPTH} levels deep")
    if _UNSAFE_ESCAPE.search(body) and _has_unsafe_text(document):
        raise UnsafeText("a string in the body holds a lone surrogate or NUL (\\u0000)")
    return document


def _too_deep(body: bytes, opened: int | None = None) -> bool:
    """Nesting deeper than MAX_DEPTH, read off the bytes of a body that parsed: strings removed, only the
    brackets kept, then one level of empty pairs removed per round (each round is one C-speed pass).
    `opened`: the body's count of `{` and `[` if the caller has it.

    Strings go without a regex over them (one over 5,000 small items cost ~25 ms): in a body that parsed, a
    backslash only occurs in a string, and once every escape is dropped (left to right, as JSON reads them:
    a regex while they are few, else two replaces that drop the escaped backslashes, then the escaped quotes),
    every quote left opens or closes a string. Reduced to its
    brackets and quotes, the body is runs of quotes between brackets, and a bracket lies inside a string when
    an odd number of quotes comes before it. Dropping `""` pairs keeps each run's parity, so one quote is left
    between two brackets exactly where the in-string state changes: what lies outside the strings is every
    other piece between the quotes left, which are only as many as the strings that hold a bracket (a split
    of the whole, one object per string, cost ~2 ms on a 5,000-item body)."""
    if (body.count(b"[") + body.count(b"{") if opened is None else opened) <= MAX_DEPTH:
        return False
    escapes = body.count(b"\\")
    if escapes > _FEW_ESCAPES:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    elif escapes:
        body = _ESCAPE.sub(b"", body)  # one pass, fast while matches are few; two-byte searches are slow
    shape = body.translate(_SHAPE, _NOT_SHAPE).replace(b'""', b"")
    if b'"' in shape:
        shape = b"".join(shape.split(b'"')[::2])
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
