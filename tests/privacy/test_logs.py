"""Spec §16: log lines carry ids, never emails, names, phones or addresses. Deliveries of orders whose buyers
have distinctive personal values run through the whole path (webhook, planner, AC with a customer that exists
already, so the bridge looks it up by email), every record is captured at DEBUG, and none of them carries any
of those values, neither in its attributes nor once formatted."""

from __future__ import annotations

import json
import logging

import pytest

from bridge.logs import JsonFormatter, TextFormatter
from bridge.privacy import log_digest
from bridge.redaction import safe_url
from tests.fakes import FakeActiveCampaign
from tests.helpers.delivery import wait_final
from tests.helpers.signing import SHOP_DOMAIN
from tests.privacy.people import Person, post_signed


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {
        "BRIDGE_ECART_STATUSES": "",
        "BRIDGE_AC_LIST_ID": "1",
        "BRIDGE_AC_CONTACT_SYNC": "on",
        "BRIDGE_AC_REVENUE": "net",
    }


def test_no_log_record_carries_a_buyers_personal_data(
    client, db, fake_ac: FakeActiveCampaign, worker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    returning, newcomer = Person(1), Person(2)
    connection = fake_ac.preload_connection(externalid=SHOP_DOMAIN)
    fake_ac.preload_customer(email=returning.email, externalid=returning.customer_id, connectionid=connection)

    for person in (returning, newcomer):
        response = post_signed(client, person.order_body(1), "orders/paid")
        assert response.status_code == 202, response.get_json()
        assert wait_final(db, int(response.get_json()["event_id"]))["activecampaign"]["status"] == "done"

    # The existing customer was looked up by email: the case the attempt line used to leak.
    lookups = [r for r in caplog.records if r.getMessage() == "attempt" and "filters[email]" in str(r.url)]
    assert lookups, "the bridge did not look the existing customer up by email"
    assert f"filters[email]={log_digest(returning.email)}" in lookups[0].url

    leaks = []
    for record in caplog.records:
        shown = " ".join(
            [
                json.dumps(vars(record), default=str, ensure_ascii=False),
                JsonFormatter().format(record),
                TextFormatter().format(record),
            ]
        ).lower()
        leaks += [(record.getMessage(), v) for p in (returning, newcomer) for v in p.personal() if v.lower() in shown]
    assert leaks == []


def test_a_logged_url_keeps_ids_and_hides_personal_query_values() -> None:
    url = "https://acme.api-us1.com/api/3/ecomCustomers?filters[email]=Pat%40x.example&filters[connectionid]=1"
    shown = safe_url(url)
    assert "pat" not in shown.lower() and "x.example" not in shown
    assert "filters[email]=email_sha256:" in shown and "filters[connectionid]=1" in shown
    assert safe_url("https://s.example/orders?search=Jane+Doe&page=2").endswith("search=[redacted]&page=2")
