"""A webhook's parsed body is freed by reference counting when the request ends, never left in a reference cycle
for the garbage collector (spec §11's CPU budget, issue 18 item 6): a collection that walked a 60,000-value body
cost a refused request ~8-15 ms more, at whatever moment it ran. Each failing marshmallow load used to leave
such a cycle (its frame holds its own error, and through the callers' frames everything the request held)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.helpers import hostile
from tests.helpers.webhooks import headers_for

#: Objects a request may leave to the collector (the framework's own small cycles), far below any body's.
TOLERATED = 500


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("source", "case"),
    [
        ("custom", "bad-items-1000"),  # 422: every item refused by the canonical schema
        ("custom", "bad-items-5000"),
        ("custom", "error-set"),
        ("custom", "depth-1000"),  # 400 from the parser
        ("woocommerce", "error-set"),  # 202: stored raw
        ("ecartapi", "surrogate-title"),  # 202: read exactly after orjson refused it, then stored raw
    ],
)
def test_no_request_leaves_its_body_to_the_collector(
    client: FlaskClient, collector_off: None, source: str, case: str
) -> None:
    body = hostile.case(source, case).body
    response = client.post(f"/webhooks/{source}", data=body, headers=headers_for(source, body))
    assert response.status_code in (202, 400, 422)
    del response
    assert gc.collect() < TOLERATED


@pytest.mark.parametrize("path", ["/webhooks//shopify", "/webhooks/%2Fshopify", "/webhooks//0"])
def test_doubled_slashes_are_a_json_404_not_a_redirect(client, path: str) -> None:
    """Found by the bad-input drill: Werkzeug merged the slashes and answered 308 with an HTML page."""
    response = client.post(path, data=b"{}")
    assert response.status_code == 404 and response.is_json, (response.status_code, response.data[:80])
