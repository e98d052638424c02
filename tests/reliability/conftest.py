"""Fault drills (issue #6): real `bridge worker` / `bridge web` processes, the strict fakes, injected faults.

Each drill is bounded in time; the slower ones are marked `slow`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from bridge.storage import Database
from tests.fakes import FakeActiveCampaign
from tests.fakes.fixtures import serve_ac
from tests.helpers.delivery import (
    DELIVERY_TIMINGS,
    WorkerProcess,
    delivery_rows,
)
from tests.helpers.env import base_env
from tests.helpers.web_process import WebProcess


@pytest.fixture
def fast_ac() -> Iterator[FakeActiveCampaign]:
    """A fake ActiveCampaign without a rate limit (the drills are about faults, not pacing), connection 1."""
    yield from serve_ac(rate=None)


def drill_env(db_path: Path, fake: FakeActiveCampaign, **overrides: str) -> dict[str, str]:
    """BRIDGE_* for a drill: AC only (no EcartAPI leg), connection 1, short delivery timings."""
    return base_env(
        db_path,
        BRIDGE_AC_URL=fake.base_url,
        BRIDGE_AC_TOKEN=fake.token,
        BRIDGE_AC_CONNECTION_ID="1",
        BRIDGE_ECART_STATUSES="none",
        **{**DELIVERY_TIMINGS, **overrides},
    )


def written_totals(fake: FakeActiveCampaign) -> dict[str, list[int]]:
    """externalid -> `totalPrice` of every order create/update AC applied, in arrival order."""
    ext_by_id = {o["id"]: o["externalid"] for o in fake.orders()}
    written: dict[str, list[int]] = defaultdict(list)
    for call in fake.calls(path_prefix="/api/3/ecomOrders"):
        if call.method == "POST" and call.status == 201:
            written[call.json["ecomOrder"]["externalid"]].append(call.json["ecomOrder"]["totalPrice"])
        elif call.method == "PUT" and call.status == 200:
            written[ext_by_id[call.path.rsplit("/", 1)[1]]].append(call.json["ecomOrder"]["totalPrice"])
    return written


def all_final(db: Database, expected: int) -> bool:
    """True once `expected` deliveries exist and none is pending or in flight."""
    rows = delivery_rows(db)
    return len(rows) == expected and all(d["status"] not in ("pending", "in_flight") for d in rows)


@pytest.fixture
def migrated(db_path: Path) -> Iterator[Database]:
    """The drill's SQLite database, migrated (the processes under test open their own connections)."""
    database = Database(f"sqlite:///{db_path}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[Mapping[str, str]], WorkerProcess]]:
    """Start `bridge worker` processes; every one is SIGKILLed and reaped at teardown."""
    spawned: list[WorkerProcess] = []

    def start(env: Mapping[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path, tmp_path / f"worker-{len(spawned)}.log")
        spawned.append(worker)
        return worker

    yield start
    for worker in spawned:
        worker.close()


@pytest.fixture
def start_web(tmp_path: Path) -> Iterator[Callable[[Mapping[str, str]], WebProcess]]:
    started: list[WebProcess] = []

    def start(env: Mapping[str, str]) -> WebProcess:
        web = WebProcess(env, tmp_path, tmp_path / f"web-{len(started)}.log")
        started.append(web)
        return web

    yield start
    for web in started:
        web.close()
