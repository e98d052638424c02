"""A revoked ActiveCampaign token (403 for every call) pauses the destination with the reason "token rejected"
instead of sending every order to `dead`; the pause shows in /metrics, the admin API, the dashboard, the CLI
and the log (ERROR, with the cause); a worker restarted with a new token resumes it and everything is delivered.
Real `bridge web` and `bridge worker` processes, the strict fake AC, HTTP on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from bridge.app import create_app
from bridge.settings import load_settings
from bridge.storage import Database
from bridge.storage.tables import throttles
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers import signing
from tests.helpers.delivery import attempt_rows, custom_order, delivery_rows, run_cli, wait_until
from tests.observability.helpers import json_lines, scrape, value

REVOKED = "revoked-ac-token-0001"
FIXED = "fixed-ac-token-0002"


def _post_order(url: str, order_id: str) -> int:
    envelope = {
        "type": "order.paid",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": custom_order(order_id, "2026-11-20T10:00:00+00:00", email=f"{order_id}@example.com"),
    }
    body = json.dumps(envelope).encode()
    response = requests.post(f"{url}/webhooks/custom", data=body, headers=signing.custom_headers(body), timeout=10)
    assert response.status_code == 202, response.text
    return int(response.json()["event_id"])


def _dashboard(env: dict[str, str], db: Database) -> str:
    """The overview page as the dashboard renders it for the same database, logged in through the form (the
    Flask test client: the session cookie is `Secure`, which requests will not send over plain HTTP)."""
    client = create_app(load_settings(env, env_file=None), db=db).test_client()
    form = client.get("/admin/login")
    client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": env["BRIDGE_ADMIN_TOKEN"]})
    return client.get("/admin/").text


def _throttle(db: Database) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(select(throttles).where(throttles.c.name == "activecampaign")).first()
    return dict(row._mapping) if row else None


def _ac_deliveries(db: Database) -> list[dict[str, Any]]:
    return [row for row in delivery_rows(db) if row["destination"] == "activecampaign"]


def test_a_rejected_token_pauses_the_destination_and_a_new_token_delivers_everything(
    bridge_env: dict[str, str], processes: dict[str, Any], fake_ac, tmp_path: Path
) -> None:
    env = {**bridge_env, "BRIDGE_AC_TOKEN": REVOKED, "BRIDGE_ECART_STATUSES": ""}
    web = processes["start_web"](env)
    worker = processes["start_worker"](env)
    db = Database(env["BRIDGE_DATABASE_URL"])
    event_ids = [_post_order(web.url, f"tr-{n}") for n in range(3)]

    def paused() -> bool:
        row = _throttle(db)
        return bool(row and row["manual_pause"] and row["pause_reason"] == "token_rejected")

    wait_until(paused, 30, describe=lambda: f"{_throttle(db)} {worker.output()[-2000:]}")
    # Deliveries claimed before the pause was stored are given back as they reach their send slot.
    settled = lambda: [r["status"] for r in _ac_deliveries(db)] == ["pending"] * 3  # noqa: E731
    wait_until(settled, 15, describe=lambda: str(_ac_deliveries(db)))
    row = _throttle(db)
    assert row["pause_cause"].startswith("HTTP 403 token rejected (forbidden)"), row
    assert REVOKED not in json.dumps(row, default=str) and row["pause_fingerprint"]
    # Nothing died, nothing spent an attempt: the one delivery that saw the 403 waits with the rest.
    rows = _ac_deliveries(db)
    assert all(r["attempts"] == 0 and r["first_attempt_at"] is None for r in rows), rows
    # Only the calls already under way when the first 403 came were sent (at most one per delivery thread).
    codes = [a["status_code"] for a in attempt_rows(db) if a["destination"] == "activecampaign"]
    assert codes and set(codes) == {403} and len(codes) <= 3, codes

    samples = scrape(web.url)
    assert value(samples, "bridge_destination_paused", destination="activecampaign", reason="token_rejected") == 1
    admin = {"Authorization": f"Bearer {env['BRIDGE_ADMIN_TOKEN']}"}
    listed = requests.get(f"{web.url}/admin/api/destinations", headers=admin, timeout=10).json()["items"]
    ac = next(d for d in listed if d["name"] == "activecampaign")
    assert (ac["paused"], ac["pause_reason"]) == (True, "token_rejected"), ac
    page = _dashboard(env, db)
    assert 'id="paused-activecampaign"' in page and "activecampaign is paused: token rejected" in page
    shown = run_cli(["destinations", "list"], env, tmp_path)
    assert "activecampaign: live, paused: token rejected (HTTP 403 token rejected (forbidden)" in shown.stdout

    worker.terminate()
    lines = json_lines(worker.log_path)
    errors = [e for e in lines if e["level"] == "error"]
    assert [e["msg"] for e in errors] == ["destination paused: token rejected"], errors
    assert errors[0]["cause"].startswith("HTTP 403 token rejected") and "BRIDGE_AC_TOKEN" in errors[0]["fix"]
    assert not [e for e in lines if e["msg"] == "delivery dead"]

    # The operator fixes the token (AC now accepts only the new one) and restarts the worker: it resumes.
    fake_ac.token = FIXED
    fixed_env = {**env, "BRIDGE_AC_TOKEN": FIXED}
    worker = processes["start_worker"](fixed_env)

    def delivered() -> bool:
        return {r["status"] for r in _ac_deliveries(db)} == {"done"}

    wait_until(delivered, 30, describe=lambda: f"{_ac_deliveries(db)} {worker.output()[-2000:]}")
    assert not _throttle(db)["manual_pause"] and _throttle(db)["pause_reason"] is None
    assert len(fake_ac.calls("POST", "/api/3/ecomOrders")) >= 3
    for event_id in event_ids:
        assert {r["status"] for r in delivery_rows(db, event_id)} == {"done"}
    samples = scrape(web.url)
    assert value(samples, "bridge_destination_paused", destination="activecampaign", reason="") == 0
    raw = worker.output() + web.log_path.read_text()
    assert REVOKED not in raw and FIXED not in raw and "@example.com" not in raw
    db.dispose()
