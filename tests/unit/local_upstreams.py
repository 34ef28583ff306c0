"""Local upstreams for the upstream tests: a small synthetic component, and its objects as a
kustomization folder, a Helm chart, a git repository, a release file and a mirror."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from components.args import ComponentArgs
from components.base import KubeflowComponent
from components.manifests import KubeObject, ManifestPart, MirrorSource
from tests.unit.component_helpers import install, kube_objects
from tests.unit.mocks import Recorder, transitively

CRD: KubeObject = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}


def _deployment(name: str) -> KubeObject:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "demo", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": f"example.com/{name}:1.0"}]},
            },
        },
    }


OBJECTS: list[KubeObject] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
    {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "widget-controller", "namespace": "demo"},
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}},
    _deployment("widget-controller"),
    _deployment("object-store"),
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "widgets.example.com"},
        "webhooks": [
            {
                "name": "validate.widgets.example.com",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "clientConfig": {"service": {"name": "widget-controller", "namespace": "demo"}},
            }
        ],
    },
    {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "demo"},
    },
]
"""Small synthetic objects, one of each install tier (the CRD is the chart's `crds/`)."""


class Demo(KubeflowComponent):
    """A component of synthetic objects; `with_parts` gives it a version table."""

    COMPONENT = "demo"
    TYPE = "kubeflow:test:Demo"
    DEFAULT_VERSION = "v1"
    UPSTREAM_NAMESPACE = "demo"
    VERSIONS: ClassVar[Mapping[str, tuple[ManifestPart, ...]]] = {}

    def include(self, obj: KubeObject) -> bool:
        """A filter of the component's own: the Widget only in its upstream namespace."""
        return obj["kind"] != "Widget" or self.resolved_namespace == "demo"


def with_parts(*parts: ManifestPart) -> type[Demo]:
    return type("Demo", (Demo,), {"VERSIONS": {"v1": parts}})


def write_yaml(path: Path, objects: list[KubeObject]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    return path


def demo_mirror(root: Path) -> MirrorSource:
    """A mirror holding the synthetic objects as `demo/v1/demo.yaml`."""
    write_yaml(root / "demo" / "v1" / "demo.yaml", [CRD, *OBJECTS])
    return MirrorSource(root)


def kustomization(folder: Path) -> Path:
    write_yaml(folder / "objects.yaml", [CRD, *OBJECTS])
    (folder / "kustomization.yaml").write_text("resources: [objects.yaml]\n", encoding="utf-8")
    return folder


def chart(folder: Path) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n", "utf-8")
    write_yaml(folder / "crds" / "widgets.yaml", [CRD])
    write_yaml(folder / "templates" / "objects.yaml", OBJECTS)
    return folder


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def git_repository(repo: Path) -> str:
    """A git repository with the kustomization in `manifests/` at tag v1; its pinned URL."""
    kustomization(repo / "manifests")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    return f"file://{repo}//manifests?ref=v1"


def layout(recorder: Recorder) -> dict[str, tuple[str, frozenset[str], str]]:
    """Each Kubernetes object by `<kind>::<resource name>` (its identity in the URN): its
    parent, what it waits for and its inputs."""
    names = {r.urn: f"{r.type.rpartition(':')[2]}::{r.name}" for r in recorder.registered}
    return {
        names[r.urn]: (
            names.get(r.parent, r.parent),
            frozenset(names[d] for d in r.dependencies if d in names),
            json.dumps(r.inputs, sort_keys=True),
        )
        for r in kube_objects(recorder)
    }


def applied_before(resources: dict[str, tuple[str, frozenset[str], str]]) -> dict[str, set[str]]:
    """Each object of a `layout` -> every object applied before it (what it waits for,
    transitively)."""
    return transitively({name: direct for name, (_, direct, _) in resources.items()})


def demo_install(
    cls: type[Demo], source: Any, recorder: Recorder | None = None, **settings: Any
) -> Recorder:
    return install(cls, ComponentArgs(source=source, **settings), recorder=recorder)
