"""Every component through the real engine: the full platform rendered from the mirror.

The rendered objects are the mirror's upstream objects, with the differences each
component documents (and nothing else):
- the Central Dashboard leaves out its Istio objects (Istio is not installed);
- KServe's two release files share 8 LLMInferenceServiceConfigs: each is applied once;
- `kubeflow` is created once (by KFP); Katib labels it with a NamespacePatch, which render
  mode writes to the same file as the Namespace;
- cert-manager adds the Kubeflow self-signing ClusterIssuer; Spark creates its namespace.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components.manifests import load_objects
from tests.engine import MIRROR, PulumiProject

pytestmark = pytest.mark.integration

Identity = tuple[str, str, str]
MIRROR_FILES = {
    "cert-manager": ["cert-manager/v1.19.4/cert-manager.yaml"],
    "pipelines": ["kfp/2.15.0/cluster-scoped.yaml", "kfp/2.15.0/platform-agnostic.yaml"],
    "katib": ["katib/v0.19.0/katib-standalone.yaml"],
    "training-operator": ["training-operator/v1.9.2/standalone.yaml"],
    "kserve": ["kserve/v0.16.0/kserve.yaml", "kserve/v0.16.0/kserve-cluster-resources.yaml"],
    "spark-operator": ["spark-operator/v2.5.0/crds.yaml"],
    "model-registry": ["model-registry/v0.3.7/db.yaml"],
    "notebooks": ["notebook-controller/v1.10.0/standalone.yaml"],
    "central-dashboard": ["centraldashboard/v1.10.0/istio.yaml"],
}
LEFT_OUT = {
    ("AuthorizationPolicy", "kubeflow", "central-dashboard"),
    ("VirtualService", "kubeflow", "centraldashboard"),
}
ADDED = {
    ("ClusterIssuer", "", "kubeflow-self-signing-issuer"),
    ("Namespace", "", "spark-operator"),
}


def identity(obj: dict[str, Any], default_namespace: str = "") -> Identity:
    metadata = obj["metadata"]
    return (obj["kind"], metadata.get("namespace", default_namespace), metadata["name"])


def expected() -> set[Identity]:
    """Upstream's objects, with model-registry's namespace-less objects in `kubeflow`."""
    objects = set()
    for component, files in MIRROR_FILES.items():
        namespace = "kubeflow" if component == "model-registry" else ""
        for file in files:
            objects |= {identity(o, namespace) for o in load_objects(MIRROR / file)}
    return (objects - LEFT_OUT) | ADDED


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    project = PulumiProject.create(tmp_path_factory.mktemp("platform"))
    out = project.root / "rendered"
    stack = project.stack(
        "platform",
        {
            "cluster": "render",
            "manifestMirror": str(MIRROR),
            "renderDir": str(out),
            "components": list(MIRROR_FILES),
            "imageRegistry": "registry.example.com/mirror",
        },
    )
    stack.up()
    return [o for path in sorted(Path(out).rglob("*.yaml")) for o in load_objects(path)]


def test_every_component_renders_its_upstream_objects_once(rendered: list[dict[str, Any]]) -> None:
    counts = Counter(identity(o) for o in rendered)
    assert [i for i, n in counts.items() if n > 1] == []
    assert set(counts) == expected()


def test_every_workload_image_comes_from_the_private_registry(
    rendered: list[dict[str, Any]],
) -> None:
    images = [
        container["image"]
        for o in rendered
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")
        for container in o["spec"]["template"]["spec"].get("containers", [])
    ]
    assert len(images) > 20
    assert [i for i in images if not i.startswith("registry.example.com/mirror/")] == []
