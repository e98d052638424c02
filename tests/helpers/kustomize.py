"""A pure-Python `kustomize build` for the subset deploy/kubernetes/ uses (no kubectl or kustomize here):
`resources` (files, several documents each) and `images` (name -> newName:newTag). Any other field of the
kustomization is refused, so a manifest change that needs more is not silently mis-rendered; and the
environment a container would get from its ConfigMaps, Secrets and `env`, resolved the way the kubelet does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

KNOWN_FIELDS = {"apiVersion", "kind", "resources", "images"}
Resource = dict[str, Any]


def load_kustomization(directory: Path) -> dict[str, Any]:
    """kustomization.yaml, checked to use only what `render` implements."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    unknown = set(kustomization) - KNOWN_FIELDS
    assert not unknown, f"tests/helpers/kustomize.py does not render {sorted(unknown)}: extend it"
    return kustomization


def render(directory: Path) -> list[Resource]:
    """Every resource the kustomization lists, in order, with its image transformations applied."""
    kustomization = load_kustomization(directory)
    resources: list[Resource] = []
    for name in kustomization["resources"]:
        path = directory / name
        assert path.is_file(), f"{name}: only files are supported (no directories or URLs)"
        resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None)
    images = {image["name"]: image for image in kustomization.get("images", [])}
    for resource in resources:
        for container in containers(resource):
            container["image"] = _transform(container["image"], images)
    return resources


def _transform(image: str, images: dict[str, dict[str, str]]) -> str:
    name, _, tag = image.partition(":")
    rule = images.get(name)
    if rule is None:
        return image
    new_name = rule.get("newName", name)
    new_tag = rule.get("newTag", tag)
    return f"{new_name}:{new_tag}" if new_tag else new_name


def pod_spec(resource: Resource) -> dict[str, Any] | None:
    """The pod template's spec of a Deployment or Job (None for other kinds)."""
    if resource["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return resource["spec"]["template"]["spec"]
    return None


def containers(resource: Resource) -> Iterator[dict[str, Any]]:
    """Every container (init containers included) of a workload."""
    spec = pod_spec(resource)
    if spec is not None:
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    """The one resource of `kind` named `name`."""
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def string_data(resource: Resource) -> dict[str, str]:
    """A ConfigMap's data, or a Secret's stringData and (decoded) data."""
    if resource["kind"] == "ConfigMap":
        return dict(resource.get("data") or {})
    decoded = {k: base64.b64decode(v).decode() for k, v in (resource.get("data") or {}).items()}
    return {**decoded, **(resource.get("stringData") or {})}


def _source(ref: dict[str, Any], config_key: str, secret_key: str) -> tuple[str, dict[str, Any]]:
    return ("ConfigMap", ref[config_key]) if config_key in ref else ("Secret", ref[secret_key])


def container_env(resources: list[Resource], container: dict[str, Any]) -> dict[str, str]:
    """The environment the kubelet gives `container`: envFrom sources in order, then `env` (which wins)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = _source(source, "configMapRef", "secretRef")
        values = string_data(find(resources, kind, ref["name"]))
        env.update({f"{source.get('prefix', '')}{key}": value for key, value in values.items()})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
            continue
        kind, ref = _source(entry["valueFrom"], "configMapKeyRef", "secretKeyRef")
        env[entry["name"]] = string_data(find(resources, kind, ref["name"]))[ref["key"]]
    return env
