"""A container of deploy/kubernetes/ run as a local process, the way its pod would run it: its command and
environment (ConfigMap, Secret, `env`), its emptyDirs as directories of its own, its ports moved to free loopback
ports, its probes run as the kubelet runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.helpers.as_deployed import SERVICE_UID, make_dir, service_user
from tests.helpers.kustomize import Resource, container_env, containers, find
from tests.helpers.live_server import free_port
from tests.helpers.procfs import children, rss_kib


def only_container(resources: list[Resource], kind: str, name: str) -> dict[str, Any]:
    """The one container of a workload."""
    (container,) = containers(find(resources, kind, name))
    return container


def bind_port(bind: str) -> int:
    """The port of a `host:port` setting."""
    return int(bind.rpartition(":")[2])


class Pod:
    """One container of the manifests run as a local process: its command and environment, its emptyDirs as
    directories it owns, its ports moved to free loopback ports, under the image's uid when the tests run as
    root, in a read-only working directory (the image's /data, not mounted here)."""

    def __init__(self, resources: list[Resource], kind: str, name: str, root: Path, overrides: dict[str, str]):
        self.container = only_container(resources, kind, name)
        self.dir = make_dir(root / name, owner=None, mode=0o755)
        self.env = {**container_env(resources, self.container), **overrides}
        self.ports: dict[int, int] = {}
        for variable in ("BRIDGE_BIND", "BRIDGE_WORKER_METRICS_BIND"):
            if variable in self.env:
                port = free_port()
                self.ports[bind_port(self.env[variable])] = port
                self.env[variable] = f"127.0.0.1:{port}"
        for mount in self.container.get("volumeMounts", []):  # each emptyDir: a fresh directory of the pod's user
            local = make_dir(self.dir / mount["name"], owner=SERVICE_UID, mode=0o700)
            self.env = {k: v.replace(mount["mountPath"], str(local)) if k.startswith("BRIDGE_") else v
                        for k, v in self.env.items()}  # fmt: skip
            if mount["mountPath"] == "/tmp":
                self.env["TMPDIR"] = str(local)
        self.env.update(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", LANG="C.UTF-8", HOME="/nonexistent")
        self.workdir = make_dir(self.dir / "data", owner=None, mode=0o555)
        self.as_user = service_user()
        self.log = self.dir / "output.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Pod:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.container["command"], env=self.env, cwd=self.workdir, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True, **self.as_user)  # type: ignore[call-overload]  # fmt: skip
        return self

    def url(self, port: int | str) -> str:
        if isinstance(port, str):  # a named port
            port = next(p["containerPort"] for p in self.container["ports"] if p["name"] == port)
        return f"http://127.0.0.1:{self.ports[port]}"

    def probe(self, kind: str) -> bool:
        """Run the container's probe as the kubelet would (HTTP GET or exec), once."""
        probe = self.container[kind]
        if "httpGet" in probe:
            try:
                answer = requests.get(self.url(probe["httpGet"]["port"]) + probe["httpGet"]["path"], timeout=5)
            except requests.RequestException:
                return False
            return 200 <= answer.status_code < 400
        done = subprocess.run(probe["exec"]["command"], env=self.env, cwd=self.workdir, capture_output=True,
                              timeout=60, check=False, **self.as_user)  # type: ignore[call-overload]  # fmt: skip
        return done.returncode == 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def rss_mib(self) -> float:
        assert self.process is not None
        return sum(rss_kib(pid) for pid in (self.process.pid, *children(self.process.pid))) / 1024

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def mebibytes(quantity: str) -> float:
    """A Kubernetes memory quantity (`512Mi`, `1Gi`) in MiB."""
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)
