"""`storebridge destinations list` says why a destination is paused; `storebridge destinations resume NAME`
lifts a token-rejected pause (the operator's way when the token was fixed at the destination's side)."""

from __future__ import annotations

from pathlib import Path

from bridge.storage import Database
from bridge.storage.pauses import pause_for_token
from bridge.storage.throttles import Throttles
from tests.helpers.delivery import run_cli
from tests.helpers.env import base_env


def test_list_says_token_rejected_and_resume_lifts_it(db: Database, db_path: Path, tmp_path: Path) -> None:
    env = base_env(db_path)
    pause_for_token(Throttles(db), "ecartapi", "HTTP 401 token rejected: Invalid token", "f1")
    listed = run_cli(["destinations", "list"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "ecartapi: dry-run, paused: token rejected (HTTP 401 token rejected: Invalid token)" in listed.stdout
    resumed = run_cli(["destinations", "resume", "ecartapi"], env, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "ecartapi resumed" in resumed.stdout and "ecartapi: dry-run, running" in resumed.stdout
    state = Throttles(db).get("ecartapi")
    assert not state.manual_pause and state.pause_reason is None
