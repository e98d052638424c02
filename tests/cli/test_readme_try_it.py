"""The README's try-it block, pasted as written, works: run by bash in a copy of the checkout's files it
needs (Makefile, metadata, the sample), with this venv standing in for the `.venv` that `make run` would set
up, and BRIDGE_BIND moved to a free port (the block itself honours it: `health` and `send` read it)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.live_server import free_port
from tests.helpers.web_process import clean_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path("tests/fixtures/shopify/orders_paid__basic.json")


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    intro = readme.index("To try it out")
    match = re.compile(r"```sh\n(.*?)```", re.DOTALL).search(readme, intro)
    assert match, "no sh block after 'To try it out'"
    return match.group(1)


def test_readme_try_it_block_runs_as_pasted(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    block = try_it_block()
    assert "make run &" in block and "storebridge health" in block, "the block must wait for the server"
    clone = tmp_path / "clone"
    (clone / SAMPLE.parent).mkdir(parents=True)
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, clone / name)
    shutil.copy(ROOT / SAMPLE, clone / SAMPLE)
    # What `make run` would have set up: a .venv with storebridge in it, its stamp newer than the metadata.
    (clone / ".venv" / "bin").mkdir(parents=True)
    (clone / ".venv" / "bin" / "storebridge").symlink_to(Path(sys.executable).with_name("storebridge"))
    time.sleep(0.01)
    (clone / ".venv" / ".runtime-stamp").touch()

    env = clean_env(BRIDGE_BIND=f"127.0.0.1:{free_port()}", BRIDGE_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        ["bash", "-c", block], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # whatever the block left running (its own session)
    assert "make: *** No rule" not in output, output
    sent = next((line for line in output.splitlines() if line.startswith(("202 ", "200 ", "401 "))), "")
    assert sent.startswith("202 ") and '"accepted"' in sent, output
    assert re.search(r"^\s+1\s+\S+ \S+\s+shopify\s", output, re.MULTILINE), output  # events list
    assert "event 1: " in output and "from shopify" in output, output  # events show 1
    assert "Traceback" not in output, output
    assert (clone / "bridge.db").is_file() and (clone / ".env").read_text() == "BRIDGE_SHOPIFY_SECRET=test-secret\n"
