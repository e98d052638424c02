"""deploy/kubernetes/, without a cluster: the kustomization rendered in Python (tests/helpers/kustomize.py),
every resource validated offline against the Kubernetes JSON schemas that the `kubernetes-validate` package
bundles (strict: an unknown or misspelt field fails), and what the schemas cannot see: probes that reach real
endpoints and commands, Secret and ConfigMap keys that are the settings the bridge reads, metrics annotations
that match the ports the processes listen on, per-pod metrics directories, non-root and read-only containers
with requests and limits. tests/deploy/test_kubernetes_pods.py runs the pods as processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes_validate import ValidationError, validate
from kubernetes_validate.utils import all_versions

import bridge
from bridge.cli import SUBCOMMANDS
from bridge.settings import SettingsSchema, load_settings
from tests.helpers.as_deployed import SERVICE_UID
from tests.helpers.kustomize import Resource, container_env, containers, find, load_kustomization, pod_spec, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
#: Pod labels: name for every storebridge object, component for the role.
NAME = {"app.kubernetes.io/name": "storebridge"}
SETTINGS = {field.data_key: name for name, field in SettingsSchema().fields.items()}
#: Read before the settings (prometheus_client's mode is chosen at import), so not a Settings field.
EXTRA_VARIABLES = {"BRIDGE_METRICS_DIR"}


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return render(K8S)


def _kubernetes_versions() -> list[str]:
    """The oldest Kubernetes release the manifests promise (1.28) and the newest the package knows."""
    versions = all_versions()
    oldest = next(v for v in versions if tuple(map(int, v.split(".")[:2])) >= (1, 28))
    return [oldest, versions[-1]]


def _container(resources: list[Resource], kind: str, name: str) -> dict[str, Any]:
    (container,) = containers(find(resources, kind, name))
    return container


def _port(bind: str) -> int:
    return int(bind.rpartition(":")[2])


# -- static: schemas and structure -----------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_once(resources: list[Resource]) -> None:
    listed = load_kustomization(K8S)["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk and len(set(listed)) == len(listed)
    kinds = sorted((r["kind"], r["metadata"]["name"]) for r in resources)
    assert kinds == [
        ("ConfigMap", "storebridge-config"),
        ("Deployment", "storebridge-web"),
        ("Deployment", "storebridge-worker"),
        ("Job", "storebridge-migrate"),
        ("PodDisruptionBudget", "storebridge-web"),
        ("PodDisruptionBudget", "storebridge-worker"),
        ("Secret", "storebridge-secrets"),
        ("Service", "storebridge-web"),
    ]


@pytest.mark.parametrize("version", _kubernetes_versions())
def test_every_resource_validates_against_the_kubernetes_schemas(resources: list[Resource], version: str) -> None:
    for resource in resources:
        try:
            validate(resource, version, strict=True)
        except ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            pytest.fail(f"{resource['kind']}/{resource['metadata']['name']} at {path}: {exc.message} (k8s {version})")


def test_the_validator_catches_what_it_should(resources: list[Resource]) -> None:
    """Control: a misspelt field and a wrong type fail, so a passing validation means something."""
    web = find(resources, "Deployment", "storebridge-web")
    broken = {**web, "spec": {**web["spec"], "replica": 2}}
    with pytest.raises(ValidationError):
        validate(broken, _kubernetes_versions()[-1], strict=True)
    broken = {**web, "spec": {**web["spec"], "replicas": "two"}}
    with pytest.raises(ValidationError):
        validate(broken, _kubernetes_versions()[-1], strict=True)


def test_selectors_pick_the_right_pods(resources: list[Resource]) -> None:
    for role in ("web", "worker"):
        deployment = find(resources, "Deployment", f"storebridge-{role}")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        wanted = {**NAME, "app.kubernetes.io/component": role}
        assert deployment["spec"]["selector"]["matchLabels"] == wanted and labels == wanted
        assert (
            find(resources, "PodDisruptionBudget", f"storebridge-{role}")["spec"]["selector"]["matchLabels"] == wanted
        )
        assert deployment["spec"]["replicas"] >= 2, "one pod of each role survives a drain"
    assert find(resources, "PodDisruptionBudget", "storebridge-web")["spec"]["minAvailable"] == 1
    assert find(resources, "PodDisruptionBudget", "storebridge-worker")["spec"]["maxUnavailable"] == 1
    service = find(resources, "Service", "storebridge-web")
    assert service["spec"]["selector"] == {**NAME, "app.kubernetes.io/component": "web"}
    web_ports = {p["name"] for p in _container(resources, "Deployment", "storebridge-web")["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= web_ports
    job_labels = find(resources, "Job", "storebridge-migrate")["spec"]["template"]["metadata"]["labels"]
    assert job_labels["app.kubernetes.io/component"] == "migrate", "the Job's pod is in no Service or budget"


# -- static: what the schemas cannot see -------------------------------------------------------------------


def test_commands_and_probes_are_ones_the_image_has(resources: list[Resource], tmp_path: Path) -> None:
    from bridge.app import create_app
    from tests.helpers.env import make_settings

    web = _container(resources, "Deployment", "storebridge-web")
    worker = _container(resources, "Deployment", "storebridge-worker")
    job = _container(resources, "Job", "storebridge-migrate")
    assert web["command"] == ["storebridge", "web"]
    assert worker["command"] == ["storebridge", "worker"]
    assert job["command"] == ["storebridge", "db", "upgrade"]
    for container in (web, worker, job):
        assert container["command"][1] in SUBCOMMANDS
        assert "storebridge = bridge.cli:main" in (ROOT / "setup.cfg").read_text(), "the image's console script"

    # The web's HTTP probes hit routes the app has, on the port it listens on.
    env = container_env(resources, web)
    (http,) = web["ports"]
    assert http["containerPort"] == _port(env["BRIDGE_BIND"]) and env["BRIDGE_BIND"].startswith("0.0.0.0:")
    routes = {rule.rule for rule in create_app(make_settings(tmp_path / "bridge.db")).url_map.iter_rules()}
    probes = {kind: web[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert {p["path"] for p in probes.values()} <= routes
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz", "no traffic before the schema is at head"
    assert {p["port"] for p in probes.values()} == {http["name"]}
    # The worker's exec probe is the image's own health check, for the worker role.
    assert worker["startupProbe"]["exec"]["command"] == ["storebridge", "health", "--role", "worker"]
    assert worker["livenessProbe"]["exec"]["command"] == ["storebridge", "health", "--role", "worker"]
    assert "readinessProbe" not in worker, "no Service sends the worker traffic"
    # Liveness may not kill a web that waits for the migration lock: the startup probe allows minutes.
    startup = web["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


def test_metrics_are_scraped_from_each_pod_on_the_port_it_listens_on(resources: list[Resource]) -> None:
    for role, bind_variable in (("web", "BRIDGE_BIND"), ("worker", "BRIDGE_WORKER_METRICS_BIND")):
        deployment = find(resources, "Deployment", f"storebridge-{role}")
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        container = _container(resources, "Deployment", f"storebridge-{role}")
        env = container_env(resources, container)
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert int(annotations["prometheus.io/port"]) == _port(env[bind_variable])
        assert int(annotations["prometheus.io/port"]) in {p["containerPort"] for p in container["ports"]}
        # Each pod's multiprocess files in a directory of its own (an emptyDir), never shared between pods.
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        metrics_volume = volumes[mounts[env["BRIDGE_METRICS_DIR"]]]
        assert set(metrics_volume) == {"name", "emptyDir"}, f"{role}: the metrics directory is the pod's own"
    config = find(resources, "ConfigMap", "storebridge-config")["data"]
    assert "BRIDGE_METRICS_DIR" not in config and "BRIDGE_WORKER_METRICS_BIND" not in config, "set per role"


def test_secret_and_configmap_hold_exactly_the_settings_the_bridge_reads(resources: list[Resource]) -> None:
    from dataclasses import fields

    from bridge.settings import Settings

    secret = find(resources, "Secret", "storebridge-secrets")["stringData"]
    config = find(resources, "ConfigMap", "storebridge-config")["data"]
    # The secret settings are the ones Settings keeps out of repr(): all of them, and nothing else.
    hidden = {field.name for field in fields(Settings) if not field.repr}
    assert set(secret) == {key for key, name in SETTINGS.items() if name in hidden}
    assert set(config) <= set(SETTINGS) | EXTRA_VARIABLES, set(config) - set(SETTINGS)
    assert not set(config) & set(secret)
    assert all(isinstance(v, str) for v in [*secret.values(), *config.values()]), "env values are strings"
    # gunicorn's default counts the node's cores, not the pod's CPU limit: the manifests choose.
    assert int(config["BRIDGE_WEB_WORKERS"]) >= 1
    assert config.get("BRIDGE_ECART_STATUSES", "x") != "", "empty would mean no EcartAPI updates, not the default"
    assert secret["BRIDGE_DATABASE_URL"].startswith("postgresql+psycopg://"), "pods share one PostgreSQL"
    # Every container's environment is a valid configuration as shipped (placeholders included).
    for resource in resources:
        for container in containers(resource):
            env = container_env(resources, container)
            settings = load_settings(env, env_file=None)
            assert settings.database_url == secret["BRIDGE_DATABASE_URL"]


def test_containers_run_unprivileged_read_only_and_bounded(resources: list[Resource]) -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert f"--uid {SERVICE_UID}" in dockerfile
    images = {image["name"]: image for image in load_kustomization(K8S)["images"]}
    assert images["storebridge"]["newTag"] == bridge.__version__, "the image built from this checkout"
    workloads = [r for r in resources if pod_spec(r) is not None]
    assert len(workloads) == 3
    for workload in workloads:
        spec = pod_spec(workload)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == pod["runAsGroup"] == SERVICE_UID
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False, "the bridge never calls the Kubernetes API"
        writable = {m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        assert "/tmp" in writable, "Python and gunicorn need a writable temp dir on a read-only root"
        for container in containers(workload):
            assert container["image"] == f"{images['storebridge']['newName']}:{bridge.__version__}"
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, (workload["metadata"]["name"], bound)


def test_the_migration_job_reruns_safely(resources: list[Resource]) -> None:
    job = find(resources, "Job", "storebridge-migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 3, "a database that is still starting gets more tries"
    assert 0 < job["spec"]["ttlSecondsAfterFinished"] <= 3600, "gone before the next deploy re-creates it"
    text = (K8S / "migrate-job.yaml").read_text()
    assert "kubectl delete job storebridge-migrate --ignore-not-found" in text
