"""Every component through the real engine: the full platform of release 26.03.1 rendered
from the mirror.

The rendered objects are the mirror's upstream objects, with the differences each
component documents (and nothing else):
- the Central Dashboard leaves out its Istio objects (Istio is not installed);
- `kubeflow` is created once (by KFP); Katib labels it with a NamespacePatch, which render
  mode writes to the same file as the Namespace;
- cert-manager adds the Kubeflow self-signing ClusterIssuer; Spark and KServe (whose v0.18.0
  release file no longer carries it) create their namespaces;
- objects a render leaves without a namespace go to the component's (Model Registry:
  `kubeflow`; the Spark chart's Service and Deployments: `spark-operator`), and cluster-scoped
  objects carry none (the Spark chart's ClusterRoles, KServe's ClusterStorageContainer).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components.manifests import load_objects
from components.transforms import CLUSTER_SCOPED_KINDS
from tests.engine import PulumiProject
from tests.paths import MIRROR

pytestmark = pytest.mark.integration

Identity = tuple[str, str, str]
KSERVE = "kserve/v0.18.0/kserve"
MIRROR_FILES = {
    "cert-manager": ["cert-manager/v1.20.2/cert-manager.yaml"],
    "pipelines": ["kfp/2.16.1/cluster-scoped.yaml", "kfp/2.16.1/platform-agnostic.yaml"],
    "katib": ["katib/v0.19.0/katib-standalone.yaml"],
    "training-operator": ["training-operator/v1.9.2/standalone.yaml"],
    "kserve": [
        *(f"{KSERVE}.{part}.yaml" for part in ("crds-llmisvc-configs", "crds-llmisvc")),
        *(f"{KSERVE}.{part}.yaml" for part in ("crds-other", "rest")),
        f"{KSERVE}-cluster-resources.yaml",
    ],
    "spark-operator": ["spark-operator/v2.5.0/crds.yaml", "spark-operator/v2.5.0/controller.yaml"],
    "model-registry": ["model-registry/v0.3.7/db.yaml"],
    "notebooks": ["notebook-controller/v1.11.0/standalone.yaml"],
    "central-dashboard": ["centraldashboard/v2.0.0/istio.yaml"],
}
"""The mirror files of release 26.03.1 (Training Operator in its default mode)."""
NAMESPACE_OF_UNSET = {"model-registry": "kubeflow", "spark-operator": "spark-operator"}
LEFT_OUT = {
    ("AuthorizationPolicy", "kubeflow", "dashboard"),
    ("VirtualService", "kubeflow", "dashboard"),
}
ADDED = {
    ("ClusterIssuer", "", "kubeflow-self-signing-issuer"),
    ("Namespace", "", "spark-operator"),
    ("Namespace", "", "kserve"),
}


def identity(obj: dict[str, Any], default_namespace: str = "") -> Identity:
    metadata = obj["metadata"]
    if obj["kind"] in CLUSTER_SCOPED_KINDS:
        return (obj["kind"], "", metadata["name"])
    return (obj["kind"], metadata.get("namespace", default_namespace), metadata["name"])


def expected() -> set[Identity]:
    """Upstream's objects, those left without a namespace in their component's."""
    objects = set()
    for component, files in MIRROR_FILES.items():
        namespace = NAMESPACE_OF_UNSET.get(component, "")
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
            "release": "26.03.1",
            "imageRegistry": "registry.example.com/mirror",
        },
    )
    stack.up(timeout=1800)  # nine components; more when the suite shares the machine
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
