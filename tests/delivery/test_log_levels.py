"""Log levels and causes (spec §15): a retry, a circuit opening, a refused list subscription are WARNING; a
dead delivery is ERROR; each says the plain cause, never an email address. An in-process worker against the
strict fake AC over loopback HTTP; the records are read with caplog."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.helpers.delivery import custom_order, post_custom, wait_final, wait_until

DNS_FAILS = {"BRIDGE_ECART_STATUSES": "", "BRIDGE_AC_URL": "http://ac-host.invalid", "BRIDGE_RETRY_MAX_AGE": "1"}


def _records(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    """The records of `message`, once there is one (a delivery's outcome is written before its log line)."""
    wait_until(lambda: [r for r in caplog.records if r.getMessage() == message], 10, describe=message)
    return [r for r in caplog.records if r.getMessage() == message]


def _no_email(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        fields: dict[str, Any] = vars(record)
        assert "@example.com" not in " ".join(str(v) for v in fields.values()), record


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_CIRCUIT_THRESHOLD": "1", "BRIDGE_ECART_STATUSES": ""}])
def test_a_retry_and_a_circuit_opening_are_warnings_with_the_cause(
    client, fake_ac, start_worker, db, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ac.fail_next(503, body={"message": "Maintenance"}, path_prefix="/api/3/")
    with caplog.at_level(logging.INFO):
        event_id = post_custom(client, "order.paid", custom_order("lv-1", "2026-11-20T10:00:00+00:00"))
        start_worker()
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "done"
    [retry] = _records(caplog, "delivery will retry")
    assert retry.levelno == logging.WARNING and retry.cause == "HTTP 503 service unavailable: Maintenance"  # type: ignore[attr-defined]
    [opened] = _records(caplog, "circuit open")
    assert opened.levelno == logging.WARNING and "the last: HTTP 503 service unavailable" in opened.cause  # type: ignore[attr-defined]
    _no_email(caplog)


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_ECART_STATUSES": ""}])
def test_a_dead_delivery_is_an_error_with_the_cause_and_no_email_address(
    client, fake_ac, start_worker, db, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = {"errors": [{"title": "Email address is not valid", "detail": "not valid: 'pat@example.com'"}]}
    fake_ac.fail_next(422, body=refusal, method="POST", path_prefix="/api/3/ecomOrders")
    with caplog.at_level(logging.INFO):
        event_id = post_custom(client, "order.paid", custom_order("lv-2", "2026-11-20T10:00:00+00:00"))
        start_worker()
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "dead"
    [dead] = _records(caplog, "delivery dead")
    assert dead.levelno == logging.ERROR
    assert dead.cause == "HTTP 422 refused as invalid: not valid: '[email]'"  # type: ignore[attr-defined]
    _no_email(caplog)


@pytest.mark.parametrize(
    "env_overrides",
    [{"BRIDGE_ECART_STATUSES": "", "BRIDGE_AC_CONTACT_SYNC": "on", "BRIDGE_AC_LIST_ID": "999"}],
)
def test_a_refused_list_subscription_is_a_warning(client, fake_ac, start_worker, db, caplog) -> None:
    order = custom_order(
        "lv-3",
        "2026-11-20T10:00:00+00:00",
        customer={"external_id": "cus-3", "email": "pat@example.com", "accepts_marketing": True},
    )
    with caplog.at_level(logging.INFO):
        event_id = post_custom(client, "order.paid", order)
        start_worker()
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "done"
    [refused] = _records(caplog, "list subscription refused")
    assert refused.levelno == logging.WARNING and refused.list_id == "999"  # type: ignore[attr-defined]
    assert refused.cause.startswith("HTTP 422 refused as invalid")  # type: ignore[attr-defined]
    _no_email(caplog)


@pytest.mark.parametrize("env_overrides", [DNS_FAILS])
def test_a_dns_failure_is_named_in_the_retry_warning(client, start_worker, db, caplog) -> None:
    with caplog.at_level(logging.INFO):
        event_id = post_custom(client, "order.paid", custom_order("lv-4", "2026-11-20T10:00:00+00:00"))
        start_worker()
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "dead"
    records = _records(caplog, "delivery dead") + _records(caplog, "delivery will retry")
    causes = {r.cause for r in records}  # type: ignore[attr-defined]
    assert causes and all(c.startswith("cannot resolve host ac-host.invalid") for c in causes), causes
    assert all(r.levelno == logging.ERROR for r in _records(caplog, "delivery dead"))
