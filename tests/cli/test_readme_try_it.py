"""The README's try-it block, pasted as written, works: run by bash in a copy of the checkout's files it
needs (Makefile, metadata, the sample), with this venv standing in for the `.venv` that `make run` would set
up, and BRIDGE_BIND moved to a free port (the block itself honours it: `health` and `send` read it)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.live_server import free_port
from tests.helpers.web_process import clean_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path("tests/platforms/shopify/fixtures/orders_paid__basic.json")


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    intro = readme.index("To try it out")
    match = re.compile(r"```sh\n(.*?)```", re.DOTALL).search(readme, intro)
    assert match, "no sh block after 'To try it out'"
    return match.group(1)


def make_clone(tmp_path: Path, storebridge: Path | None = None) -> Path:
    """A copy of the files the block needs, with a `.venv` as `make run` would have set it up (its stamp
    newer than the metadata); `storebridge` is this venv's, or the given stand-in."""
    clone = tmp_path / "clone"
    (clone / SAMPLE.parent).mkdir(parents=True)
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, clone / name)
    shutil.copy(ROOT / SAMPLE, clone / SAMPLE)
    (clone / ".venv" / "bin").mkdir(parents=True)
    (clone / ".venv" / "bin" / "storebridge").symlink_to(storebridge or Path(sys.executable).with_name("storebridge"))
    time.sleep(0.01)
    (clone / ".venv" / ".runtime-stamp").touch()
    return clone


def run_block(clone: Path, env: dict[str, str], timeout: float = 120) -> tuple[str, float]:
    """Run the block as pasted with bash in `clone`; its output and how long it took."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", try_it_block()], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # whatever the block left running (its own session)
    return output, time.monotonic() - started


def test_readme_try_it_block_runs_as_pasted(tmp_path: Path) -> None:
    block = try_it_block()
    assert "make run" in block and "storebridge health" in block, "the block must wait for the server"
    clone = make_clone(tmp_path)
    env = clean_env(BRIDGE_BIND=f"127.0.0.1:{free_port()}", BRIDGE_LOG_LEVEL="WARNING")
    output, _took = run_block(clone, env)
    assert "make: *** No rule" not in output, output
    assert "is not up" not in output, output
    sent = next((line for line in output.splitlines() if line.startswith(("202 ", "200 ", "401 "))), "")
    assert sent.startswith("202 ") and '"accepted"' in sent, output
    assert re.search(r"^\s+1\s+\S+ \S+\s+shopify\s", output, re.MULTILINE), output  # events list
    assert "event 1: " in output and "from shopify" in output, output  # events show 1
    assert "Traceback" not in output, output
    assert (clone / "bridge.db").is_file() and (clone / ".env").read_text() == "BRIDGE_SHOPIFY_SECRET=test-secret\n"


def test_with_the_port_taken_the_block_stops_at_once_with_the_servers_words(tmp_path: Path) -> None:
    clone = make_clone(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        output, took = run_block(clone, clean_env(BRIDGE_BIND=bind), timeout=60)
    assert "storebridge is not up; the last lines of storebridge.log:" in output, output
    assert f"error: cannot listen on {bind}: the port is in use by another program" in output, output
    assert "--bind" in output and "BRIDGE_BIND" in output and "Traceback" not in output, output
    assert '"accepted"' not in output and "event 1: " not in output, "nothing is sent to a server that is not up"
    assert took < 30, f"the loop should stop as soon as the server has exited, took {took:.0f} s"


def test_a_server_that_never_answers_is_given_up_on_after_the_wait(tmp_path: Path) -> None:
    """A server that starts but never answers /readyz (here a stand-in that logs and hangs, standing for one
    stuck on its database): after TRY_IT_WAIT seconds (60 in the README) the block shows the log's tail."""
    stand_in = tmp_path / "storebridge"
    stand_in.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = run ]; then echo "starting"; echo "waiting for the database at db.example:5432"\n'
        "  exec sleep 600\nfi\n"
        "exit 1\n"  # `health`: not ready
    )
    stand_in.chmod(0o755)
    clone = make_clone(tmp_path, storebridge=stand_in)
    output, took = run_block(clone, clean_env(TRY_IT_WAIT="3"), timeout=60)
    assert "storebridge is not up; the last lines of storebridge.log:" in output, output
    assert "waiting for the database at db.example:5432" in output, output
    assert 3 <= took < 20, f"gave up after {took:.1f} s, not after the 3 s asked for"
