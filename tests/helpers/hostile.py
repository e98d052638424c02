"""A generated corpus of hostile webhook bodies (spec §11), per class and per source, shared by
tests/reliability/test_hostile_corpus.py and bench/hostile.py.

Each body starts from the source's sample fixture and changes one thing: a lone surrogate or NUL in a key
field, nesting 65 / 1,000 / 300,000 deep, 340,000 empty line items, 1,000 / 5,000 invalid items, a date of
40,000 / 200,000 spaces, a byte order mark, UTF-16/32, NaN/Infinity, a 1 MB string, 90,000 numbers, 60,000
keys, an oversized error set. Every body fits in the default BRIDGE_MAX_BODY (1 MiB).

`expected` says what the bridge must answer when the body is correctly signed, for the `custom` source
(validated in the request: 400 or 422) and for the platforms (stored raw, 202, then read by the worker:
`quarantined`, or 400 when the body is not JSON the bridge reads at all).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.helpers.env import fixture
from tests.helpers.webhooks import SAMPLES, SOURCES

MAX_BODY = 1_048_576
HOLE = "__HOSTILE__"  # a placeholder string replaced by raw JSON text after serialising
_HOLE = json.dumps(HOLE).encode()
BOM = b"\xef\xbb\xbf"

Path = tuple[str | int, ...]

#: Where each source keeps what a case aims at.
PATHS: dict[str, dict[str, Path]] = {
    "shopify": {
        "id": ("id",),
        "title": ("line_items", 0, "title"),
        "email": ("email",),
        "date": ("updated_at",),
        "items": ("line_items",),
        "discounts": ("discount_codes",),
        "extra": ("note",),
    },
    "woocommerce": {
        "id": ("id",),
        "title": ("line_items", 0, "name"),
        "email": ("billing", "email"),
        "date": ("date_modified_gmt",),
        "items": ("line_items",),
        "discounts": ("coupon_lines",),
        "extra": ("customer_note",),
    },
    "ecartapi": {
        "id": ("id",),
        "title": ("items", 0, "name"),
        "email": ("email",),
        "date": ("dates", "updatedAt"),
        "items": ("items",),
        "discounts": ("taxLines",),
        "extra": ("reference",),
    },
    "custom": {
        "id": ("data", "order_id"),
        "title": ("data", "line_items", 0, "name"),
        "email": ("data", "email"),
        "date": ("data", "updated_at"),
        "items": ("data", "line_items"),
        "discounts": ("data", "discounts"),
        "extra": ("data", "shipping_method"),
    },
}


@dataclass(frozen=True)
class Expected:
    """The answer to a correctly signed body: the status code for `custom`; for a platform, the status code
    and (after a 202) the status the worker leaves the event in."""

    custom: int
    platform: int
    final: str | None = None


REFUSED = Expected(400, 400)  # not JSON the bridge reads, for every source
UNSAFE = Expected(400, 202, "quarantined")  # text no database takes
INVALID = Expected(422, 202, "quarantined")  # JSON, but not a valid event
TOO_MANY = Expected(400, 202, "quarantined")  # more values than the request path reads
IGNORED_FIELD = Expected(422, 202, "accepted")  # hostile, but where only `custom` looks


@dataclass(frozen=True)
class HostileCase:
    """One hostile body for one source."""

    source: str
    name: str  # e.g. "surrogate-title"
    klass: str  # e.g. "surrogate"
    body: bytes
    expected: Expected

    @property
    def label(self) -> str:
        """`<source>:<name>`, for test ids and bench rows."""
        return f"{self.source}:{self.name}"

    def answer(self) -> tuple[int, str | None]:
        """The expected (status code, final event status) for this case's source."""
        if self.source == "custom":
            return self.expected.custom, None
        return self.expected.platform, self.expected.final


def base_document(source: str) -> dict[str, Any]:
    """The source's sample fixture, parsed."""
    return json.loads(fixture(source, SAMPLES[source]))


def _variant(source: str, n: int) -> dict[str, Any]:
    """The sample as order `n` of the corpus: its own id, so no case is a duplicate of another."""
    document = base_document(source)
    order_id = _get(document, PATHS[source]["id"])
    _set(document, PATHS[source]["id"], order_id + n if isinstance(order_id, int) else f"{order_id}-{n}")
    return document


def _set(document: Any, path: Path, value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


def _get(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def _spliced(source: str, n: int, path: Path, raw: bytes) -> bytes:
    """Order `n` with the value at `path` replaced by the raw JSON text `raw` (which may be anything)."""
    document = _variant(source, n)
    _set(document, path, HOLE)
    head, _, tail = json.dumps(document, separators=(",", ":")).encode().partition(_HOLE)
    return head + raw + tail


def _with(source: str, n: int, path: Path, value: Any) -> bytes:
    """Order `n` with the value at `path` replaced (escapes as json.dumps writes them: `\\ud800`, `\\u0000`)."""
    document = _variant(source, n)
    _set(document, path, value)
    return json.dumps(document, separators=(",", ":")).encode()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def _bad_items(source: str, count: int) -> bytes:
    """`count` line items, each wrong in several fields the mapping reads (wrong types, no usable price)."""
    template = _get(base_document(source), PATHS[source]["items"])[0]
    wanted = ("id", "name", "title", "sku", "quantity", "price", "unit_price", "external_id", "product_id")
    item = {key: {"x": [1]} for key in wanted if key in template}
    body = json.dumps(item, separators=(",", ":")).encode()
    return b"[" + b",".join([body] * count) + b"]"


def _error_set(source: str) -> bytes:
    """A body whose validation could list tens of thousands of errors: 20,000 wrong-typed fields with long
    names where the mapping reads them (the order object itself), each a different message."""
    fields = b",".join(b'"%s_%05d":{"x":[1]}' % (b"f" * 30, i) for i in range(20_000))
    return b"{" + fields + b"}"


def _utf(source: str, n: int, codec: str) -> bytes:
    return json.dumps(_variant(source, n), ensure_ascii=False).encode(codec)


Builder = Callable[[], bytes]


def _cases(source: str) -> Iterator[tuple[str, str, Builder, Expected]]:
    """(name, class, body builder, expected) of every case for `source`; bodies are built only when asked for."""
    paths = PATHS[source]
    n = iter(range(1, 1000))  # each case is its own order (see _variant), numbered at listing time

    def spliced(path: Path, raw: bytes) -> Builder:
        return functools.partial(_spliced, source, next(n), path, raw)

    def replaced(path: Path, value: Any) -> Builder:
        return functools.partial(_with, source, next(n), path, value)

    def array(item: bytes, count: int) -> bytes:
        return b"[" + b",".join([item] * count) + b"]"

    def lazy_array(item: bytes, count: int, path: Path) -> Builder:
        number = next(n)
        return lambda: _spliced(source, number, path, array(item, count))

    for field in ("id", "title", "email"):
        yield f"surrogate-{field}", "surrogate", replaced(paths[field], "A\ud800B"), UNSAFE
    for field in ("id", "email", "extra"):
        yield f"nul-{field}", "nul", replaced(paths[field], "A\x00B"), UNSAFE
    yield "surrogate-key", "surrogate", spliced(paths["extra"], b'{"\\udfff":1}'), UNSAFE
    for depth in (65, 1000, 300_000):
        yield f"depth-{depth}", "depth", spliced(paths["extra"], _nested(depth)), REFUSED
    # Over MAX_ELEMENTS values: `custom` is a 400 before any parsing; a platform's is stored raw.
    yield "items-340k-empty", "items", lazy_array(b"{}", 340_000, paths["items"]), TOO_MANY
    # Under it: the collections are capped before any per-item validation.
    yield "items-30k-empty", "items", lazy_array(b"{}", 30_000, paths["items"]), INVALID
    if source != "ecartapi":  # EcartAPI orders carry one coupon object, not a list
        yield "discounts-20k-empty", "items", lazy_array(b"{}", 20_000, paths["discounts"]), INVALID
    for count in (1000, 5000):
        number = next(n)
        build = functools.partial(
            lambda num, c: _spliced(source, num, paths["items"], _bad_items(source, c)), number, count
        )
        yield f"bad-items-{count}", "bad-items", build, INVALID
    for spaces in (40_000, 200_000):
        yield f"date-{spaces // 1000}k-spaces", "date", replaced(paths["date"], "2026" + " " * spaces + "x"), INVALID
    bom = replaced(paths["extra"], "with a byte order mark")
    yield "bom", "encoding", lambda: BOM + bom(), REFUSED
    for codec in ("utf-16", "utf-16-le", "utf-32", "utf-32-be"):
        yield codec, "encoding", functools.partial(_utf, source, next(n), codec), REFUSED
    yield "nan", "nan", spliced(paths["extra"], b"NaN"), REFUSED
    yield "infinity", "nan", spliced(paths["extra"], b"-Infinity"), REFUSED
    number = next(n)
    yield "string-1mb", "big-string", lambda: _with(source, number, paths["title"], "x" * 1_000_000), INVALID
    # In a field the platforms' mappings never read (the note): their events are fine; `custom` types it.
    yield "numbers-90k", "numbers", lazy_array(b"1.5", 90_000, paths["extra"]), IGNORED_FIELD
    number = next(n)
    keys = lambda: b"{" + b",".join(b'"k%d":0' % i for i in range(60_000)) + b"}"  # noqa: E731
    yield "keys-60k", "keys", lambda: _spliced(source, number, paths["extra"], keys()), IGNORED_FIELD
    number = next(n)
    yield (
        "error-set",
        "errors",
        lambda: _spliced(source, number, paths["items"], b"[" + _error_set(source) + b"]"),
        INVALID,
    )


def names(source: str) -> list[str]:
    """The case names of `source`, in corpus order (cheap: no body is built)."""
    return [name for name, _, _, _ in _cases(source)]


def case(source: str, name: str) -> HostileCase:
    """One case, its body built now."""
    for found, klass, build, expected in _cases(source):
        if found == name:
            body = build()
            assert len(body) <= MAX_BODY, (source, name, len(body))
            return HostileCase(source, name, klass, body, expected)
    raise KeyError((source, name))


def corpus(sources: tuple[str, ...] = SOURCES) -> Iterator[HostileCase]:
    """Every hostile case of `sources`, each body built as it is reached (the corpus is ~100 MB in all)."""
    for source in sources:
        for name, klass, build, expected in _cases(source):
            body = build()
            assert len(body) <= MAX_BODY, (source, name, len(body))
            yield HostileCase(source, name, klass, body, expected)
