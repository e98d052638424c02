"""`pip install .` elsewhere: the wheel carries the gunicorn config, so `storebridge web` from a fresh venv in
an empty directory (no checkout, no deploy/) runs gthread workers in the number BRIDGE_WEB_WORKERS asks for.

Offline and quick: the wheel is built without build isolation from a copy of the sources, installed with
--no-index --no-deps into a venv made without pip, and the venv finds the runtime dependencies through a
.pth line to this venv's site-packages (after its own, so the installed `bridge` is the one imported)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from bridge import __version__
from tests.helpers.env import base_env
from tests.helpers.live_server import free_port
from tests.helpers.procfs import children
from tests.helpers.web_process import clean_env, running

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "bridge", src / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp / "wheels"), str(src)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "would be ignored" not in done.stdout + done.stderr, "setuptools package-data warnings are back"
    (wheel,) = (tmp / "wheels").glob("storebridge-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-index", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "zz_runtime_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_storebridge_web_from_a_pip_install_uses_the_packaged_config(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = venv / "bin" / "storebridge"
    assert script.exists() and (venv / "bin" / "bridge").exists()

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import bridge.gunicorn_conf as c; print(c.__file__)"],
        cwd=elsewhere, env=clean_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert version.stdout.strip() == f"storebridge {__version__}"

    port = free_port()
    env = clean_env(**base_env(elsewhere / "bridge.db", BRIDGE_WEB_WORKERS="3", BRIDGE_LOG_LEVEL="INFO"))
    log = tmp_path / "web.log"
    with running(
        [str(script), "web", "--bind", f"127.0.0.1:{port}"],
        ready_url=f"http://127.0.0.1:{port}/readyz", log=log, env=env, cwd=elsewhere,
    ) as process:  # fmt: skip
        deadline = time.monotonic() + 15
        while len(children(process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(process.pid)
        time.sleep(0.3)  # let the boot lines reach the log
        text = log.read_text(errors="replace")
    assert len(workers) == 3, text[-2000:]
    assert "Using worker: gthread" in text, text[-2000:]
    assert f"storebridge {__version__} listening on http://127.0.0.1:{port}" in text
    assert "Control server" not in text and "Traceback" not in text, text[-2000:]
    assert "warning" not in text.lower(), "a clean boot warns about nothing (e.g. keep-alive, control socket)"
    assert sorted(p.name for p in elsewhere.iterdir() if not p.name.startswith("bridge.db")) == []
