"""The full platform on a real kube-apiserver: every component up, ready, and gone again.

Per component: its CRDs are Established and its Deployments Available on the local
cluster (kwok nodes run the simulated pods), then `destroy` removes everything.
Wall times go to build/e2e-platform-timings.json.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config, dynamic

from components.manifests import load_objects
from infra import local_cluster
from tests.engine import MIRROR, REPO, PulumiProject, Stack, in_loopback_netns, require_engine
from tests.integration.test_platform_render import MIRROR_FILES

pytestmark = pytest.mark.e2e

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not in_loopback_netns():
        pytest.fail("run e2e tests inside scripts/netns.sh (loopback only)", pytrace=False)
    require_engine()
    if not Path(os.environ.get("KUBEFLOW_KUBE_BIN_DIR", "/nonexistent")).is_dir():
        pytest.fail("KUBEFLOW_KUBE_BIN_DIR is unset; run through `make test-e2e`", pytrace=False)
    project = PulumiProject.create(tmp_path_factory.mktemp("platform"))
    stack = project.stack(
        "platform",
        {
            "cluster": "local",
            "localClusterDir": str(project.root / "cluster"),
            "manifestMirror": str(MIRROR),
            "components": list(MIRROR_FILES),
        },
    )
    start = time.monotonic()
    try:
        stack.up()
        TIMINGS["up (9 components)"] = round(time.monotonic() - start, 1)
        yield stack
    finally:
        stop_everything(stack)


def stop_everything(stack: Stack) -> None:
    """Destroy what is left (after a failed `up` too) and stop the cluster; keep timings."""
    project = stack.project
    if local_cluster.is_running(project.root / "cluster"):
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
        local_cluster.stop(project.root / "cluster")
    out = REPO / "build" / "e2e-platform-timings.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(TIMINGS, indent=2) + "\n")


def upstream(component: str, kind: str) -> list[dict[str, Any]]:
    objects = [o for f in MIRROR_FILES[component] for o in load_objects(MIRROR / f)]
    return [o for o in objects if o["kind"] == kind]


def condition(obj: Any, kind: str) -> bool:
    conditions = (obj.status or {}).get("conditions") or []
    return any(c["type"] == kind and c["status"] == "True" for c in conditions)


@pytest.mark.parametrize("component", list(MIRROR_FILES))
def test_component_crds_are_established_and_deployments_available(
    platform: Stack, component: str
) -> None:
    kubeconfig = yaml.safe_load(platform.outputs()["cluster"]["kubeconfig"])
    kube = dynamic.DynamicClient(config.new_client_from_config_dict(kubeconfig))
    crds = kube.resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    deployments = kube.resources.get(api_version="apps/v1", kind="Deployment")
    for crd in upstream(component, "CustomResourceDefinition"):
        assert condition(crds.get(name=crd["metadata"]["name"]), "Established"), crd["metadata"]
    for deployment in upstream(component, "Deployment"):
        namespace = deployment["metadata"].get("namespace", "kubeflow")
        live = deployments.get(name=deployment["metadata"]["name"], namespace=namespace)
        assert condition(live, "Available"), deployment["metadata"]["name"]
    assert upstream(component, "CustomResourceDefinition") or upstream(component, "Deployment")


def test_destroy_removes_the_platform_and_stops_the_cluster(platform: Stack) -> None:
    cluster_dir = platform.project.root / "cluster"
    records = local_cluster.read_records(cluster_dir)
    start = time.monotonic()
    platform.pulumi("destroy", "--yes", "--skip-preview")
    TIMINGS["destroy (9 components + cluster)"] = round(time.monotonic() - start, 1)
    assert not local_cluster.is_running(cluster_dir)
    assert not any(local_cluster.process_alive(r) for r in records.values())
    state = json.loads(platform.pulumi("stack", "export").stdout)
    assert [r["type"] for r in state["deployment"].get("resources") or []] in (
        [],
        ["pulumi:pulumi:Stack"],
    )
