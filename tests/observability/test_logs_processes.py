"""Spec §6 logs, from the real processes: every line `bridge web` (gunicorn included) and `bridge worker` print
is one JSON object; every request has its line, every delivery attempt too; no secret appears anywhere, even
when a client sends credentials in its headers or a destination echoes one back in an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bridge.storage import Database
from tests.helpers import signing
from tests.helpers.delivery import attempt_rows, custom_order, delivery_rows, wait_until
from tests.helpers.env import fixture
from tests.observability.helpers import json_lines

pytestmark = pytest.mark.slow

REQUEST_FIELDS = {"method", "path", "status", "duration_ms"}
WEBHOOK_FIELDS = REQUEST_FIELDS | {"source", "event_id", "outcome", "kind"}
ATTEMPT_FIELDS = {"event_id", "delivery_id", "destination", "method", "url", "status", "duration_ms", "outcome"}


def _custom(order_id: str, email: str) -> tuple[bytes, dict[str, str]]:
    data = custom_order(order_id, "2026-11-20T10:00:00+00:00", email=email)
    body = json.dumps({"type": "order.paid", "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()
    return body, signing.custom_headers(body)


def _final(db: Database, destination: str, count: int) -> bool:
    rows = [r for r in delivery_rows(db) if r["destination"] == destination]
    return len(rows) == count and all(r["status"] in ("done", "dead") for r in rows)


def test_every_line_is_json_with_the_fields_and_no_secret(processes, bridge_env, fake_ac, tmp_path):
    web = processes["start_web"](bridge_env)
    worker = processes["start_worker"](bridge_env)
    db = Database(bridge_env["BRIDGE_DATABASE_URL"])
    ac_token = bridge_env["BRIDGE_AC_TOKEN"]
    sent_signatures: list[str] = []

    # A Shopify webhook carrying, besides its signature, other credentials a proxy or a confused client added.
    body = fixture("shopify", "orders_paid__basic.json")
    headers = signing.shopify_headers(body, "orders/paid")
    headers |= {"Authorization": f"Bearer {ac_token}", "Api-Token": ac_token, "Cookie": f"session={ac_token}"}
    sent_signatures.append(headers["X-Shopify-Hmac-Sha256"])
    assert requests.post(f"{web.url}/webhooks/shopify", data=body, headers=headers, timeout=10).status_code == 202
    # Wrong credentials: an EcartAPI webhook authenticated with the AC token, WooCommerce signed with a wrong key.
    ecart = fixture("ecartapi", "order__paid.json")
    wrong = requests.post(
        f"{web.url}/webhooks/ecartapi?token={ac_token}", data=ecart, headers=signing.ecart_headers(ac_token), timeout=10
    )
    assert wrong.status_code == 401
    woo = fixture("woocommerce", "order_updated__processing.json")
    woo_headers = signing.woo_headers(woo, secret="wrong-woo-secret")
    sent_signatures.append(woo_headers["X-WC-Webhook-Signature"])
    answer = requests.post(f"{web.url}/webhooks/woocommerce", data=woo, headers=woo_headers, timeout=10)
    assert answer.status_code == 401
    assert requests.get(f"{web.url}/healthz", headers={"Authorization": f"Bearer {ac_token}"}, timeout=10).ok
    wait_until(lambda: _final(db, "activecampaign", 1), 20, describe=lambda: worker.output()[-3000:])

    # A custom order whose first AC call fails with a 500 that echoes the token back (then it is retried).
    fake_ac.fail_next(500, body={"message": f"internal error for token {ac_token}"})
    custom_body, custom_headers = _custom("ord-500", "five@example.com")
    sent_signatures.append(custom_headers["webhook-signature"].removeprefix("v1,"))
    assert requests.post(f"{web.url}/webhooks/custom", data=custom_body, headers=custom_headers, timeout=10).ok
    wait_until(lambda: _final(db, "activecampaign", 2), 20, describe=lambda: worker.output()[-3000:])
    # And one the destination rejects for good (400), with the token in the body the bridge logs as the reason.
    fake_ac.fail_next(400, body={"message": f"bad request, token {ac_token}"}, method="POST")
    dead_body, dead_headers = _custom("ord-400", "four@example.com")
    assert requests.post(f"{web.url}/webhooks/custom", data=dead_body, headers=dead_headers, timeout=10).ok
    wait_until(lambda: _final(db, "activecampaign", 3), 20, describe=lambda: worker.output()[-3000:])
    worker.terminate()
    web.close()

    web_lines, worker_lines = json_lines(web.log_path), json_lines(worker.log_path)
    raw = web.log_path.read_text() + worker.log_path.read_text()
    secrets = [
        ac_token,
        signing.SHOPIFY_SECRET,
        signing.SHOPIFY_SECRET_ROTATED,
        signing.WOO_SECRET,
        signing.ECART_TOKEN,
        signing.ECART_TOKEN_ROTATED,
        signing.CUSTOM_SECRET,
        signing.CUSTOM_SECRET.removeprefix("whsec_"),
        bridge_env["BRIDGE_ADMIN_TOKEN"],
        *sent_signatures,
    ]
    for secret in secrets:
        assert secret not in raw, f"{secret!r} leaked into the logs"
    assert "[redacted]" in raw  # the echoed token was there to be redacted

    requests_logged = [e for e in web_lines if e.get("msg") == "request"]
    assert {e["path"] for e in requests_logged} >= {"/readyz", "/healthz", "/webhooks/shopify", "/webhooks/custom"}
    for entry in requests_logged:
        wanted = WEBHOOK_FIELDS if entry["path"].startswith("/webhooks/") else REQUEST_FIELDS
        assert set(entry) >= wanted, entry
        assert entry["method"] in ("GET", "POST") and isinstance(entry["duration_ms"], float | int)
    webhooks = {(e["source"], e["status"], e["outcome"]) for e in requests_logged if "source" in e}
    assert webhooks == {
        ("shopify", 202, "accepted"),
        ("ecartapi", 401, "rejected_401"),
        ("woocommerce", 401, "rejected_401"),
        ("custom", 202, "accepted"),
    }
    accepted = [e for e in requests_logged if e.get("outcome") == "accepted"]
    assert all(isinstance(e["event_id"], int) and e["kind"] == "order.paid" for e in accepted), accepted
    assert all(e["path"] == "/webhooks/ecartapi" for e in requests_logged if e.get("source") == "ecartapi")

    attempts = [e for e in worker_lines if e.get("msg") == "attempt"]
    assert len(attempts) == len(attempt_rows(db))  # one line per recorded attempt
    for entry in attempts:
        assert set(entry) >= ATTEMPT_FIELDS, entry
        assert "?" not in entry["url"] or "token" not in entry["url"].lower()
    failed = _only(attempts, status=500)
    assert (failed["destination"], failed["outcome"]) == ("activecampaign", "retry")
    assert failed["url"].startswith(f"{fake_ac.base_url}/api/3/")
    assert isinstance(failed["delivery_id"], int) and isinstance(failed["event_id"], int)
    assert _only(attempts, status=400)["outcome"] == "failed"
    dead = _only(worker_lines, msg="delivery dead")
    assert "[redacted]" in dead["error"] and "bad request, token" in dead["error"]
    assert all(e["pid"] for e in web_lines + worker_lines)
    db.dispose()


def _only(entries: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [e for e in entries if all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]
