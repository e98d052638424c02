"""`GET /openapi.json`: a valid OpenAPI 3.1 document covering every endpoint and answer, built once per app, with
webhook examples that are real (trimmed) fixtures — and schemathesis finds the live app keeps to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.core.parameters import ParameterLocation
from werkzeug.datastructures import Headers

from bridge.app import create_app
from bridge.ingest import canonicalise
from bridge.platforms import PLATFORMS, SOURCES
from bridge.platforms.adapter import Ignored, Inbound
from bridge.storage import Database
from bridge.web import openapi
from tests.helpers.env import fixture, make_settings
from tests.helpers.live_server import serve
from tests.helpers.webhooks import headers_for, post

ADMIN_TOKEN = "openapi-admin-token-0123456789"
EXAMPLES = {name: platform.openapi.example for name, platform in PLATFORMS.items()}
SECTION_3 = {"202", "200", "400", "401", "413", "503"}  # every source path; plus 422 (custom) and 404 (unknown)


@pytest.fixture
def doc(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_document_is_built_once_per_app(app, client, monkeypatch):
    builds = []
    real = openapi.build_document
    monkeypatch.setattr(openapi, "build_document", lambda: builds.append(1) or real())
    first = [client.get("/openapi.json").get_json() for _ in range(3)]
    assert len(builds) == 1 and first[0] == first[1] == first[2]
    assert openapi.document(app) is openapi.document(app)
    other = create_app(app.extensions["bridge"].settings, db=app.extensions["bridge"].db)
    other.test_client().get("/openapi.json")
    assert len(builds) == 2, "each app builds its own document"


def test_every_endpoint_and_answer_is_documented(doc):
    paths = doc["paths"]
    for source in SOURCES:
        operation = paths[f"/webhooks/{source}"]["post"]
        expected = SECTION_3 | ({"422"} if source == "custom" else set())
        assert set(operation["responses"]) == expected, source
        assert operation["security"], f"{source}: the signature is not documented"
        assert "Retry-After" in operation["responses"]["503"]["headers"]
        assert operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(paths["/webhooks/{source}"]["post"]["responses"]) == SECTION_3 | {"404", "422"}
    body = paths["/webhooks/custom"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CustomEnvelope"}
    envelope = doc["components"]["schemas"]["CustomEnvelope"]["properties"]["data"]
    assert envelope == {"$ref": "#/components/schemas/CanonicalEventData"}
    canonical = doc["components"]["schemas"]["CanonicalEvent"]["properties"]
    assert canonical["occurred_at"] == {"type": "string", "format": "date-time"}
    assert {"line_items", "total", "currency", "checkout_id"} <= set(canonical)

    admin = {path: ops for path, ops in paths.items() if path.startswith("/admin/api/")}
    assert len([op for ops in admin.values() for op in ops]) == 12  # 9, and privacy's forget, export, requests
    for path, ops in admin.items():
        for method, operation in ops.items():
            assert operation["security"] == [{"adminBearer": []}], (method, path)
            assert {"401", "404"} <= set(operation["responses"]), (method, path)
    assert doc["components"]["securitySchemes"]["adminBearer"] == {
        "type": "http", "scheme": "bearer", "description": "BRIDGE_ADMIN_TOKEN"}  # fmt: skip
    assert set(paths["/admin/api/deliveries/{delivery_id}/retry"]["post"]["responses"]) == {"202", "401", "404", "409"}
    assert set(paths["/admin/api/events/{event_id}/replay"]["post"]["responses"]) == {"202", "401", "404", "409"}
    listing = paths["/admin/api/events"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "source", "kind", "store", "q", "since", "until",
                                                          "destination_status", "limit", "cursor"}  # fmt: skip
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert "/healthz" in paths and "/openapi.json" in paths


# -- the webhook examples are real payloads -------------------------------------------------------------------


def _canonical(source: str, name: str, document: Any) -> tuple[Any, ...]:
    """Topic, dedupe key (when it comes from the body) and canonical form the bridge makes of `document`."""
    body = json.dumps(document).encode()
    inbound = Inbound(body, Headers(headers_for(source, body, name=name)), "application/json", datetime.now(UTC))
    adapter = SOURCES[source](make_settings(Path("unused.db")))
    interpreted = adapter.recognise(inbound, document)
    assert not isinstance(interpreted, Ignored)
    payload, errors = canonicalise(adapter, interpreted, inbound)
    assert errors is None, errors
    key = interpreted.dedupe_key if source in ("woocommerce", "ecartapi") else None
    return interpreted.topic, key, payload


def _is_trimmed_copy(example: Any, original: Any) -> bool:
    """Every key of `example` is in `original` with the same value (recursively); lists keep their prefix."""
    if isinstance(example, dict):
        return isinstance(original, dict) and all(k in original and _is_trimmed_copy(v, original[k])
                                                  for k, v in example.items())  # fmt: skip
    if isinstance(example, list):
        return isinstance(original, list) and len(example) <= len(original) and all(
            _is_trimmed_copy(e, o) for e, o in zip(example, original, strict=False))  # fmt: skip
    return example == original


@pytest.mark.parametrize("source", list(SOURCES))
def test_examples_are_trimmed_fixtures_with_the_same_meaning(client, doc, source):
    example = EXAMPLES[source]
    original = json.loads(fixture(source, example["fixture"]))
    assert _is_trimmed_copy(example["value"], original)
    assert _canonical(source, example["fixture"], example["value"]) == _canonical(source, example["fixture"], original)
    documented = doc["paths"][f"/webhooks/{source}"]["post"]["requestBody"]["content"]["application/json"]
    assert [e["value"] for e in documented["examples"].values()] == [example["value"]]
    body = json.dumps(example["value"]).encode()
    reply = post(client, source, body, headers_for(source, body, name=example["fixture"], topic=example["topic"]))
    assert (reply.status_code, reply.get_json()["status"]) == (202, "accepted")


# -- schemathesis against the live app ------------------------------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(openapi.build_document())


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real HTTP server: every source configured, admin on, a few events of each kind stored."""
    config = make_settings(tmp_path_factory.mktemp("openapi") / "bridge.db", BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN)
    database = Database(config.database_url, timeout=config.db_timeout)
    database.upgrade()
    app = create_app(config, db=database)
    app.config["BRIDGE_QUIET_REQUESTS"] = True
    client = app.test_client()
    for source, name in (("shopify", "orders_paid__basic.json"), ("woocommerce", "order_updated__processing.json"),
                         ("ecartapi", "order__paid.json"), ("custom", "order_paid__basic.json")):  # fmt: skip
        body = fixture(source, name)
        assert post(client, source, body, headers_for(source, body, name=name)).status_code == 202
    # One process serves here, so /metrics must not read another process's files: a test that enabled the
    # multiprocess mode may have left PROMETHEUS_MULTIPROC_DIR in this process's environment.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
        try:
            with serve(app) as url:
                yield url
        finally:
            database.dispose()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


# Nothing is excluded: every operation, every check. The webhook operations answer 401 to generated bodies
# (no generated signature is valid), which the document says; the admin ones get the real token.
@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_live_app_keeps_to_its_document(case, live_url, session):
    # The admin token is added, except to a negative case whose headers were generated to break the document
    # (it left out the required Authorization on purpose: adding it back would make that case valid).
    meta = getattr(case, "_meta", None)
    unauthorised = meta is not None and meta.is_negative_at(ParameterLocation.HEADER)
    admin = case.path.startswith("/admin/") and not unauthorised
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if admin else None
    case.call_and_validate(base_url=live_url, session=session, headers=headers, timeout=10)
