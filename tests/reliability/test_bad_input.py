"""Drill: well over 1,000 generated hostile requests against every source, through the Flask test client.

Random bytes, truncated JSON, huge numbers, deep nesting, wrong types, unicode edge cases (lone surrogates,
invalid UTF-8, NUL, bidi marks), missing and duplicated headers, oversize bodies, bad signatures, odd
content types, and correctly signed hostile JSON (signed with the configured secrets, so it gets as far as
validation). For every request: never a 5xx; the answer is a JSON object (an error names itself in `error`,
with a `message` or the field `errors`; a 2xx has a `status`); nothing is stored unless the request was
authentic, and nothing is stored for any 4xx.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bridge.app import create_app
from bridge.storage import Database
from bridge.storage.tables import events
from tests.helpers import signing
from tests.helpers.delivery import topic_of
from tests.helpers.env import fixture_path, make_settings
from tests.helpers.webhooks import interpret_stored

MAX_BODY = 16_384
SOURCES = ("shopify", "woocommerce", "ecartapi", "custom")
FIXTURE_FILES = {source: sorted(p.name for p in fixture_path(source).glob("*.json")) for source in SOURCES}
# 401, 404 and 413 answer with the error code alone (the response table in docs/receiving.md): a signature failure says
# nothing more on purpose, and the code is the whole message for the other two.
CODE_ONLY = {401, 404, 413}
SUCCESS = {"accepted", "duplicate", "ignored", "quarantined"}
WRONG_CUSTOM_SECRET = "whsec_" + base64.b64encode(b"a-secret-the-bridge-does-not-know").decode()
CONTENT_TYPES = ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "", "*/*"]
DRILL = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    derandomize=False,
)


@dataclass
class Attempt:
    """One generated request: where it goes, what it carries, and whether it is authentic."""

    source: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    authentic: bool = False
    method: str = "POST"
    label: str = ""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FlaskClient, Database]]:
    path = tmp_path_factory.mktemp("bad-input") / "bridge.db"
    config = make_settings(path, BRIDGE_MAX_BODY=str(MAX_BODY), BRIDGE_LOG_LEVEL="ERROR")
    db = Database(config.database_url, timeout=config.db_timeout)
    db.upgrade()
    app = create_app(config, db=db)
    yield app.test_client(), db
    db.dispose()


def stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


EVERY_OUTCOME = (
    "202 accepted",
    "worker accepted",  # what the worker made of the raw platform events it read (spec §10)
    "worker quarantined",
    "200 ignored",
    "400 malformed_json",
    "401 invalid_signature",
    "404 unknown_source",
    "405 method_not_allowed",
    "413 too_large",
    "422 invalid_payload",
)
OUTCOMES: Counter[str] = Counter()  # "202 accepted", "worker quarantined", "401 invalid_signature", ... (module)


def check(env: tuple[FlaskClient, Database], attempt: Attempt) -> None:
    client, db = env
    before = stored(db)
    response = client.open(f"/webhooks/{attempt.source}", method=attempt.method, data=attempt.body,
                           headers=attempt.headers)  # fmt: skip
    after = stored(db)
    where = f"{attempt.label} -> {response.status_code} {response.data[:300]!r}"
    assert response.status_code < 500, where
    body = json.loads(response.data)
    assert isinstance(body, dict), where
    OUTCOMES[f"{response.status_code} {body.get('status') or body.get('error')}"] += 1
    if response.status_code >= 400:
        assert isinstance(body.get("error"), str) and body["error"], where
        if response.status_code == 422:
            assert body.get("errors"), where
        elif response.status_code not in CODE_ONLY:
            assert isinstance(body.get("message"), str) and body["message"].strip(), where
        assert after == before, f"stored on a {response.status_code}: {where}"
    else:
        assert body.get("status") in SUCCESS, where
        if body["status"] == "accepted":
            assert after == before + 1, where
            _interpret(env, int(body["event_id"]), where)
        else:
            assert after == before, where
    if not attempt.authentic:
        assert after == before, f"stored without a valid signature: {where}"


def _interpret(env: tuple[FlaskClient, Database], event_id: int, where: str) -> None:
    """The worker's first step over the new event, as it would run: it must settle it, never crash."""
    client, db = env
    interpret_stored(client, db)
    with db.read() as conn:
        status = conn.execute(select(events.c.status).where(events.c.id == event_id)).scalar_one()
    assert status in ("accepted", "quarantined", "done"), where
    OUTCOMES[f"worker {status}"] += 1


# -- signing ------------------------------------------------------------------------------------------------


def signed_headers(source: str, body: bytes, topic: str | None = None) -> list[tuple[str, str]]:
    """The headers a genuine sender puts on `body` (a fresh id each time)."""
    if source == "shopify":
        return list(signing.shopify_headers(body, topic or "orders/paid").items())
    if source == "woocommerce":
        return list(signing.woo_headers(body, topic or "order.updated").items())
    if source == "ecartapi":
        return list(signing.ecart_headers().items())
    return list(signing.custom_headers(body).items())


SIGNATURE_HEADER = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "woocommerce": "X-WC-Webhook-Signature",
    "ecartapi": "Authorization",
    "custom": "webhook-signature",
}


# -- strategies ---------------------------------------------------------------------------------------------

sources = st.sampled_from(SOURCES)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "\ud800",
            "\udfff",
            "\x00",
            "\u202e\u2066evil\u2069",
            "\ufeff",
            "😀" * 50,
            "a" * 5000,
            "",
            " ",
            "null",
            "NaN",
            "Infinity",
            "-0",
            "1e999999",
            "0x10",
            "٣",
            "2026-13-45T25:61:61Z",
            "9999-12-31T23:59:59+14:00",
            "0000-00-00",
            "<script>alert(1)</script>",
            "'; DROP TABLE events; --",
        ]
    ),
)
hostile_number = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([2**53 + 1, 2**63, -(2**63) - 1, 10**300]),
    st.floats(allow_nan=False, allow_infinity=False),
)


def deep(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


hostile_value = st.one_of(
    hostile_text,
    hostile_number,
    st.none(),
    st.booleans(),
    st.just([]),
    st.just({}),
    st.lists(st.one_of(hostile_text, hostile_number, st.none()), max_size=5),
    st.dictionaries(hostile_text, st.one_of(hostile_text, hostile_number), max_size=4),
    st.builds(deep, st.integers(5, 400), st.sampled_from(["list", "dict"])),
)


def paths(document: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path (keys and indexes) in a JSON document."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index))


def replace(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


def encode(document: Any, style: int) -> bytes:
    """JSON bytes: escaped, raw UTF-8 (lone surrogates become invalid UTF-8), or Python's NaN/Infinity."""
    if style == 0:
        return json.dumps(document).encode()
    if style == 1:
        return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(document, separators=(",", ":"), allow_nan=True).encode()


@st.composite
def hostile_json(draw: st.DrawFn) -> Attempt:
    """A real fixture with some values replaced by hostile ones, signed with the configured secret."""
    source = draw(sources)
    name = draw(st.sampled_from(FIXTURE_FILES[source]))
    document = json.loads(fixture_path(source, name).read_bytes())
    all_paths = list(paths(document))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(all_paths))
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier replacement removed this path
            # deepcopy: a drawn container may be drawn again and nested inside itself (a circular document).
            document = replace(document, path, copy.deepcopy(draw(hostile_value)))
    if draw(st.booleans()) and isinstance(document, dict):
        document[draw(hostile_text)] = copy.deepcopy(draw(hostile_value))
    body = encode(document, draw(st.integers(0, 2)))
    topic = topic_of(name, "/" if source == "shopify" else ".") if source in ("shopify", "woocommerce") else None
    return Attempt(source, body, signed_headers(source, body, topic), True, label=f"hostile {source}/{name}")


@st.composite
def raw_bodies(draw: st.DrawFn) -> Attempt:
    """Bodies that are not the expected JSON object at all, signed or not."""
    source = draw(sources)
    name = draw(st.sampled_from(FIXTURE_FILES[source]))
    fixture_bytes = fixture_path(source, name).read_bytes()
    kind = draw(st.sampled_from(["random", "truncated", "deep", "huge-int", "huge-exp", "scalar", "empty", "utf"]))
    if kind == "random":
        body = draw(st.binary(max_size=2000))
    elif kind == "truncated":
        body = fixture_bytes[: draw(st.integers(0, len(fixture_bytes) - 1))]
    elif kind == "deep":
        depth = draw(st.integers(500, 100_000))
        body = b'{"a":' * depth + b"1" + b"}" * depth if draw(st.booleans()) else b"[" * depth + b"]" * depth
    elif kind == "huge-int":
        body = b'{"id": 1' + b"0" * draw(st.integers(4000, 15_000)) + b', "total_price": "1"}'
    elif kind == "huge-exp":
        body = b'{"total_price": 1e' + str(draw(st.integers(300, 10**9))).encode() + b', "currency": "USD"}'
    elif kind == "scalar":
        body = draw(st.sampled_from([b"[]", b"null", b"1", b'"x"', b"true", b"[{}]", b"NaN", b"-Infinity"]))
    elif kind == "empty":
        body = draw(st.sampled_from([b"", b" ", b"\n\t", b"\x00"]))
    else:
        body = draw(st.sampled_from([b"\xff\xfe{}", b'{"a": "\xc3\x28"}', b"\xef\xbb\xbf{}", b'{"\xed\xa0\x80": 1}']))
    authentic = draw(st.booleans())
    headers = signed_headers(source, body) if authentic else []
    if not authentic and draw(st.booleans()):
        headers = signed_headers(source, fixture_bytes)  # signed for another body
        authentic = source == "ecartapi"  # EcartAPI's token does not depend on the body
    return Attempt(source, body, headers, authentic, label=f"raw {kind}")


def _bad_signature(draw: st.DrawFn, source: str, genuine: str, body: bytes) -> str:
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return ""
    if choice == 1:
        return base64.b64encode(draw(st.binary(min_size=32, max_size=32))).decode()
    if choice == 2:
        return genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    if choice == 3:
        return genuine.lower() if genuine.lower() != genuine else genuine.upper()
    if choice == 4:
        return "v1," + "A" * 10_000
    if choice == 5:
        return draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=200))
    # Signed, but with a secret the bridge does not know.
    if source == "custom":
        return signing.custom_headers(body, secret=WRONG_CUSTOM_SECRET)["webhook-signature"]
    return "Bearer not-the-token" if source == "ecartapi" else signing.b64_hmac("not-the-secret", body)


@st.composite
def header_games(draw: st.DrawFn) -> Attempt:
    """A genuine body with missing, forged, duplicated or mangled headers."""
    source = draw(sources)
    name = draw(st.sampled_from(FIXTURE_FILES[source]))
    body = fixture_path(source, name).read_bytes()
    topic = topic_of(name, "/" if source == "shopify" else ".") if source in ("shopify", "woocommerce") else None
    headers = signed_headers(source, body, topic)
    sig_name = SIGNATURE_HEADER[source]
    genuine = dict(headers).get(sig_name, "")
    game = draw(st.sampled_from(["drop", "forge", "dup-bad-first", "dup-good-first", "mangle-other", "case"]))
    authentic = True
    if game == "drop":
        dropped = draw(st.sampled_from([k for k, _ in headers]))
        headers = [(k, v) for k, v in headers if k != dropped]
        authentic = dropped != sig_name and not (source == "custom" and dropped.startswith("webhook-"))
    elif game == "forge":
        headers = [(k, _bad_signature(draw, source, v, body) if k == sig_name else v) for k, v in headers]
        authentic = False
    elif game.startswith("dup"):
        bad = (sig_name, _bad_signature(draw, source, genuine, body))
        headers = [h for h in headers if h[0] != sig_name]
        headers += [bad, (sig_name, genuine)] if game == "dup-bad-first" else [(sig_name, genuine), bad]
        # Repeated headers reach the app joined ("a, b", as in any WSGI server): the request still carries the
        # genuine signature, so it may be accepted (Standard Webhooks reads a list of signatures) or refused.
        authentic = True
    elif game == "mangle-other":
        target = draw(st.sampled_from([k for k, _ in headers if k != sig_name] or [sig_name]))
        value = draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=300))
        headers = [(k, value if k == target else v) for k, v in headers]
        if (source == "custom" and target.startswith("webhook-")) or target == sig_name:
            authentic = False
    else:
        headers = [(k.upper() if draw(st.booleans()) else k.lower(), v) for k, v in headers]
    if draw(st.booleans()):
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("Content-Type", draw(st.sampled_from(CONTENT_TYPES))))
    return Attempt(source, body, headers, authentic, label=f"headers {game} {source}/{name}")


@st.composite
def odd_requests(draw: st.DrawFn) -> Attempt:
    """Oversize bodies, unknown sources, other methods."""
    kind = draw(st.sampled_from(["oversize", "exactly-max", "unknown-source", "method"]))
    source = draw(sources)
    if kind in ("oversize", "exactly-max"):
        size = MAX_BODY + draw(st.integers(1, 50_000)) if kind == "oversize" else MAX_BODY
        body = b'{"pad": "' + b"x" * (size - 11) + b'"}'
        authentic = draw(st.booleans())
        return Attempt(source, body, signed_headers(source, body) if authentic else [], authentic, label=kind)
    if kind == "unknown-source":
        name = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.%~", min_size=1, max_size=40))
        return Attempt(name if name not in SOURCES else name + "x", b"{}", [], False, label="unknown source")
    method = draw(st.sampled_from(["GET", "PUT", "DELETE", "PATCH"]))
    return Attempt(source, b"{}", signed_headers(source, b"{}"), False, method=method, label=f"method {method}")


# -- the drill: 4 x 300 generated requests ------------------------------------------------------------------


@DRILL
@given(attempt=hostile_json())
def test_signed_hostile_json_never_5xx(env, attempt):
    check(env, attempt)


@DRILL
@given(attempt=raw_bodies())
def test_raw_garbage_never_5xx_and_never_stored_unsigned(env, attempt):
    check(env, attempt)


@DRILL
@given(attempt=header_games())
def test_header_games_never_5xx_and_never_stored_unsigned(env, attempt):
    check(env, attempt)


@DRILL
@given(attempt=odd_requests())
def test_oversize_unknown_and_other_methods(env, attempt):
    check(env, attempt)


def test_drill_stored_only_authentic_events(env):
    """Runs after the generated ones (same module database): whatever was stored is intact."""
    _, db = env
    with db.read() as conn:
        rows = conn.execute(select(events.c.status, events.c.payload, events.c.errors, events.c.body)).all()
    for status, payload, errors, body in rows:
        assert body, "an event without its raw body"
        if status == "quarantined":
            assert errors
            assert len(json.dumps(errors)) <= 17_000, "stored errors are capped (spec §11)"
        elif status != "done":  # done without a payload: a status the bridge ignores, read by the worker
            assert payload and payload.get("kind"), status


def test_a_seeded_sample_of_every_kind_runs(env):
    """Make sure no category silently never runs (hypothesis chooses freely above): one of each, fixed."""
    rng = random.Random(6)
    source = rng.choice(SOURCES)
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    check(env, Attempt(source, body, signed_headers(source, body), True, label="deep dict"))
    body = b'{"id": 1' + b"0" * 5000 + b"}"
    check(env, Attempt(source, body, signed_headers(source, body), True, label="huge int"))
    body = b'{"a": "\xed\xa0\x80"}'
    check(env, Attempt(source, body, signed_headers(source, body), True, label="lone surrogate bytes"))
    body = b"x" * (MAX_BODY + 1)
    check(env, Attempt(source, body, signed_headers(source, body), True, label="oversize"))
    check(env, Attempt("custom", b"{}", [("webhook-id", "m"), ("webhook-timestamp", "9" * 400),
                                         ("webhook-signature", "v1,AAAA")], False, label="huge timestamp"))  # fmt: skip
    check(env, Attempt("custom", b"{}", [("webhook-id", "m"), ("webhook-timestamp", "-1e9"),
                                         ("webhook-signature", "v1,AAAA")], False, label="odd timestamp"))  # fmt: skip
    assert fixture_path("custom").is_dir()


def test_the_drill_reached_every_outcome():
    """The generated requests (run above, in this module) were many and got every kind of answer: the signed
    hostile ones reached validation (accepted, quarantined, 422), the rest were refused at each gate."""
    total = sum(OUTCOMES.values())
    if total < 1000:
        pytest.skip(f"only {total} requests ran (a subset of this module was selected)")
    print(f"{total} requests: {dict(OUTCOMES.most_common())}")
    for outcome in EVERY_OUTCOME:
        assert OUTCOMES[outcome], f"no request got {outcome}: {dict(OUTCOMES)}"
