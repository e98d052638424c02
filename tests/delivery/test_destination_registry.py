"""Adding a destination is one folder plus one registry line: a throwaway destination ("toy", which posts each
paid order's total to a tiny fake server) is written below as its folder would be, registered with one line,
and an event posted through real HTTP on loopback reaches it as a leg of its own, beside ActiveCampaign's,
with its outcome and its call recorded, on SQLite and PostgreSQL. Nothing in planner, executor, admin or the
start-up line was told about it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import request
from werkzeug.wrappers import Request, Response

from bridge.admin.service import AdminService
from bridge.destinations import registry
from bridge.destinations.base import DeliveryLeg, Destination, LegContext, Sender
from bridge.destinations.result import LegResult
from bridge.settings import Settings
from bridge.startup import startup_facts, startup_message
from bridge.storage import Database
from bridge.storage.events import EventRecord
from tests.fakes.base import FakeService, json_response
from tests.fakes.fixtures import serve
from tests.helpers.delivery import InProcessWorker, attempt_rows, custom_order, post_custom, wait_final

TOY_TOKEN = "toy-token-0123456789"


# -- what bridge/destinations/toy/ would hold ------------------------------------------------------------


class ToyLeg:
    """POST /notes {"order": id, "total": cents}; a 201 is done."""

    def __init__(self, context: LegContext, base_url: str) -> None:
        self.caller = context.caller
        self.base_url = base_url

    def run(self, event: dict[str, Any]) -> LegResult:
        body = {"order": event["order_id"], "total": event["total"]}
        answer = {"id": "dry-run"}
        result = self.caller.call("POST", f"{self.base_url}/notes", json_body=body, dry_run_answer=answer).expect(201)
        return LegResult("done", f"toy note {result.body['id']}")


class ToySender(Sender):
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def leg(self, context: LegContext) -> DeliveryLeg:
        return ToyLeg(context, self.base_url)


class Toy(Destination):
    """Every paid order, noted at the toy service."""

    name = "toy"
    title = "Toy"
    credential_setting = "TOY_TOKEN"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def live(self, settings: Settings) -> bool:
        return True

    def token(self, settings: Settings) -> str | None:
        return TOY_TOKEN

    def headers(self, settings: Settings) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOY_TOKEN}"}

    def lanes(
        self,
        settings: Settings,
        record: EventRecord,
        payload: dict[str, Any],
        with_checkout: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[str]:
        return [f"toy|{payload['order_id']}"] if payload.get("kind") == "order.paid" else []

    def sender(self, settings: Settings, db: Database) -> Sender:
        return ToySender(self.base_url)


# -- the toy service -------------------------------------------------------------------------------------


class FakeToy(FakeService):
    """Strict: a bearer token, a JSON body with exactly `order` and `total`; answers 201 with the note's id."""

    name = "toy"

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[dict[str, Any]] = []
        self.flask.add_url_rule("/notes", "notes", self._note, methods=["POST"])

    def _check_auth(self, req: Request) -> Response | None:
        if req.headers.get("Authorization") != f"Bearer {TOY_TOKEN}":
            return json_response({"error": "unauthorized"}, 401)
        return None

    def _note(self) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) != {"order", "total"}:
            return json_response({"error": "order and total, nothing else"}, 422)
        self.notes.append(body)
        return json_response({"id": str(len(self.notes))}, 201)


@pytest.fixture
def fake_toy() -> Iterator[FakeToy]:
    yield from serve(FakeToy())


@pytest.fixture
def toy(fake_toy: FakeToy) -> Iterator[Toy]:
    with registry.registered(Toy(fake_toy.url)) as registered:  # the one registry line
        yield registered  # type: ignore[misc]


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_ECART_TOKEN": None}


# -- the test --------------------------------------------------------------------------------------------


def test_a_registered_destination_gets_its_own_leg_end_to_end(
    toy: Toy,
    fake_toy: FakeToy,
    fake_ac: Any,
    client: Any,
    db: Database,
    settings: Settings,
    start_worker: Callable[..., InProcessWorker],
) -> None:
    start_worker()
    event_id = post_custom(client, "order.paid", custom_order("o-toy-1", "2026-11-01T10:00:00+00:00", total=4200))

    legs = wait_final(db, event_id, legs=2)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "toy": "done"}
    assert legs["toy"]["lane"] == "toy|o-toy-1" and legs["toy"]["note"] == "toy note 1"
    assert fake_toy.notes == [{"order": "o-toy-1", "total": 4200}]
    assert [o["externalid"] for o in fake_ac.orders()] == ["o-toy-1"]
    calls = [a for a in attempt_rows(db, event_id=event_id) if a["destination"] == "toy"]
    assert [(c["method"], c["url"], c["status_code"], c["outcome"]) for c in calls] == [
        ("POST", f"{fake_toy.url}/notes", 201, "ok")
    ]

    # The operator's views loop over the registry too: the admin list and the start-up line show it.
    listed = {d["name"]: (d["mode"], d["queue_depth"]) for d in AdminService(settings, db).destinations()}
    assert listed["toy"] == ("live", 0)
    assert "toy live" in startup_message(startup_facts(settings, "127.0.0.1:8000"))


def test_a_destination_registered_for_a_block_is_gone_after_it() -> None:
    before = registry.names()
    with registry.registered(Toy("http://127.0.0.1:9")) as toy:
        assert registry.names() == (*before, "toy") and registry.get("toy") is toy
    assert registry.names() == before and registry.find("toy") is None
