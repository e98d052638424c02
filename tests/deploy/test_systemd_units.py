"""The systemd units: `systemd-analyze verify` accepts them (with ExecStart pointing at this venv's script),
the database and metrics live under StateDirectory= (writable under ProtectSystem=strict without any
ReadWritePaths that must pre-exist), and each ExecStart runs with the unit's environment, working directory
and state directory (mapped under a temporary root), as the unit's unprivileged user when possible."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.as_deployed import SERVICE_UID, fake_root, make_dir, remap, service_user, unit_settings
from tests.helpers.live_server import free_port
from tests.helpers.web_process import running

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("storebridge-web.service", "storebridge-worker.service")
SHIPPED_SCRIPT = "/opt/storebridge/venv/bin/storebridge"
STATE = "/var/lib/storebridge"
SCRIPT = str(Path(sys.executable).with_name("storebridge"))


def _unit(name: str) -> dict[str, list[str]]:
    return unit_settings((DEPLOY / name).read_text())


@pytest.mark.parametrize("name", UNITS)
def test_units_keep_state_under_state_directory(name: str) -> None:
    unit = _unit(name)
    assert unit["StateDirectory"] == ["storebridge"]
    assert unit["WorkingDirectory"] == [STATE]
    assert unit["User"] == ["storebridge"] and unit["ProtectSystem"] == ["strict"]
    assert "ReadWritePaths" not in unit, "StateDirectory= is writable by itself; ReadWritePaths must pre-exist"
    env = dict(value.split("=", 1) for value in unit["Environment"])
    assert env["BRIDGE_DATABASE_URL"] == f"sqlite:///{STATE}/bridge.db"
    assert env["BRIDGE_METRICS_DIR"] == f"{STATE}/metrics"
    assert unit["EnvironmentFile"] == ["-/etc/storebridge/env"], "optional, and it overrides the defaults"
    role = name.removeprefix("storebridge-").removesuffix(".service")
    assert unit["ExecStart"] == [f"{SHIPPED_SCRIPT} {role}"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(SHIPPED_SCRIPT, SCRIPT))
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "storebridge" not in done.stderr, done.stderr  # no warning about our units


def _as_the_unit_runs(name: str, root: Path) -> tuple[list[str], dict[str, str], Path]:
    """ExecStart, the environment and working directory the unit gives it, under `root`."""
    unit = _unit(name)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(root / STATE.lstrip("/"))}
    env.update(remap(value, root, (STATE,)).split("=", 1) for value in unit["Environment"])  # type: ignore[misc]
    argv = unit["ExecStart"][0].replace(SHIPPED_SCRIPT, SCRIPT).split()
    return argv, env, Path(remap(unit["WorkingDirectory"][0], root, (STATE,)))


@pytest.fixture
def state_root():
    root = fake_root()
    # What systemd does for StateDirectory=storebridge with StateDirectoryMode=0750 and User=storebridge.
    make_dir(root / STATE.lstrip("/"), owner=SERVICE_UID, mode=0o750)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_exec_start_runs_with_the_units_paths(state_root: Path, tmp_path: Path) -> None:
    as_user = service_user()
    state = state_root / STATE.lstrip("/")
    argv, env, cwd = _as_the_unit_runs("storebridge-web.service", state_root)
    port = free_port()
    env["BRIDGE_BIND"] = f"127.0.0.1:{port}"  # as /etc/storebridge/env would (the unit's 8000 may be taken)
    with running(
        argv, ready_url=f"http://127.0.0.1:{port}/readyz", log=tmp_path / "web.log", env=env, cwd=cwd,
        as_user=as_user,
    ):  # fmt: skip
        worker_argv, worker_env, worker_cwd = _as_the_unit_runs("storebridge-worker.service", state_root)
        assert worker_env["BRIDGE_DATABASE_URL"] == env["BRIDGE_DATABASE_URL"]
        with (tmp_path / "worker.log").open("wb") as out:
            worker = subprocess.Popen(worker_argv, env=worker_env, cwd=worker_cwd, stdout=out,
                                      stderr=subprocess.STDOUT, **as_user)  # type: ignore[call-overload]  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not list((state / "metrics").glob("worker_*.heartbeat")) and time.monotonic() < deadline:
                time.sleep(0.2)
            probe = subprocess.run([SCRIPT, "health", "--role", "worker"], env=worker_env, cwd=worker_cwd,
                                   capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
            assert probe.returncode == 0, probe.stderr + (tmp_path / "worker.log").read_text(errors="replace")
        finally:
            worker.terminate()
            worker.wait(timeout=45)
    assert (state / "bridge.db").is_file(), "the database is in the state directory"
    assert (state / "metrics").is_dir()
    if as_user:
        assert (state / "bridge.db").stat().st_uid == SERVICE_UID
    for log in ("web.log", "worker.log"):
        text = (tmp_path / log).read_text(errors="replace")
        assert "Traceback" not in text and "Permission denied" not in text, text[-3000:]
