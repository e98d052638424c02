"""Running the shipped commands the way the image or a systemd unit would, without a container engine or
systemd: the same user (an unprivileged uid, when the tests run as root), environment, working directory and
state paths, the image's or unit's absolute paths mapped under a temporary root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

#: The image's `storebridge` user (deploy/Dockerfile: useradd --uid 10001); the units' user gets one too.
SERVICE_UID = 10001


def service_user() -> dict[str, object]:
    """Popen arguments that run a process as SERVICE_UID, or {} when this cannot be done (not root, or that
    user cannot run this venv's Python): the test then runs as the current user and says so in its log."""
    if os.geteuid() != 0:
        return {}
    as_user: dict[str, object] = {"user": SERVICE_UID, "group": SERVICE_UID, "extra_groups": []}
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import bridge, flask"], capture_output=True, timeout=60, check=False, **as_user
        )  # type: ignore[call-overload]
    except OSError:  # e.g. the interpreter lives under a 0700 /root
        return {}
    return as_user if probe.returncode == 0 else {}


def fake_root() -> Path:
    """A world-traversable temporary directory standing in for `/` (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="storebridge-root-"))
    root.chmod(0o755)
    return root


def make_dir(path: Path, *, owner: int | None, mode: int) -> Path:
    """mkdir -p, then chown (when running as root) and chmod, as an image's RUN line or systemd would."""
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None and os.geteuid() == 0:
        os.chown(path, owner, owner)
    path.chmod(mode)
    return path


def remap(value: str, root: Path, prefixes: tuple[str, ...]) -> str:
    """`value` with each absolute `prefix` moved under `root` (also inside URLs: sqlite:////data/x.db)."""
    for prefix in prefixes:
        value = re.sub(rf"(?<![\w.-]){re.escape(prefix)}(?=/|$|\b)", f"{root}{prefix}", value)
    return value


# -- Dockerfile ------------------------------------------------------------------------------------------


def final_stage(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the last stage, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(x for x in dockerfile.splitlines() if not x.lstrip().startswith("#")))
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        instruction, _, args = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), args.strip()))
    return stages[-1]


def image_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """Every ENV of the stage (`ENV A=1 B=2` form)."""
    env: dict[str, str] = {}
    for instruction, args in stage:
        if instruction == "ENV":
            for pair in re.findall(r'(\w+)=("[^"]*"|\S+)', args):
                env[pair[0]] = pair[1].strip('"')
    return env


def image_value(stage: list[tuple[str, str]], instruction: str) -> str:
    """The last value of a single-valued instruction (WORKDIR, USER, CMD, …)."""
    values = [args for name, args in stage if name == instruction]
    assert values, f"no {instruction} in the final stage"
    return values[-1]


def exec_form(args: str) -> list[str]:
    """`["a", "b"]` (CMD, HEALTHCHECK … CMD) as a list."""
    parsed = json.loads(args)
    assert isinstance(parsed, list), args
    return [str(a) for a in parsed]


# -- systemd ---------------------------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit, every value kept (Environment= repeats)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found
