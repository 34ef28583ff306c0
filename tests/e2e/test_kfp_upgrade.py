"""KFP, 2.15.0 -> 2.16.1, on a real kube-apiserver: after `up` every Deployment is Available
and every CRD Established, the API server holds exactly the objects 2.16.1 declares (what
2.15.0 alone declared is gone), and a second preview shows no changes. `kubeflow` enforces
its Pod Security level. A change of its Recreate Deployments' pod template has rolled out
when `up` returns. Then data survives a component's removal: KFP's CRDs, a user's
Workflow and its MySQL claim stay (keepData), the Spark Operator's CRDs go (keepData off);
and `destroy` leaves the cluster that holds them running, until the command it prints."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import NotFoundError

from infra import local_cluster
from infra.kept_objects import LOCAL_CLUSTER, delete_command, kept_objects
from tests.e2e.cluster_checks import (
    COMPARED_KINDS,
    assert_ready,
    key,
    live_objects,
    namespaces,
    rolled_out,
    stack_objects,
    stop_everything,
)
from tests.engine import Stack, local_mirror_stack, step_timer
from tests.paths import REPO

pytestmark = pytest.mark.e2e

TIMINGS: dict[str, float] = {}
"""This module's steps' wall times (build/e2e-kfp-timings.json)."""


@pytest.fixture(scope="module")
def kfp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = local_mirror_stack(
        tmp_path_factory.mktemp("kfp-upgrade"),
        "platform",
        {
            "components": ["pipelines", "spark-operator"],
            "keepData": "true",
            "spark-operator": {"keepData": False},
        },
    )
    stack.set_config("pipelines", {"version": "2.15.0"})
    try:
        with step_timer(TIMINGS)("up KFP 2.15.0 and the Spark Operator"):
            stack.up()
        yield stack
    finally:
        stop_everything(stack, "kfp", TIMINGS)


def test_kfp_2_15_0_is_up(kfp: Stack) -> None:
    assert_ready(kfp, at_least=10)
    assert kfp.outputs()["components"]["pipelines"]["version"] == "2.15.0"


def test_kfp_2_16_1_replaces_it_whole(kfp: Stack) -> None:
    kfp.set_config("pipelines", {"version": "2.16.1"})
    kfp.up()
    assert_ready(kfp, at_least=10)
    assert kfp.outputs()["components"]["pipelines"]["version"] == "2.16.1"
    spaces = namespaces(kfp)
    kinds = {kind for _, kind in COMPARED_KINDS}
    declared = {key(o) for o in stack_objects(kfp)}
    live = live_objects(kfp, COMPARED_KINDS, spaces)
    assert live - declared == set()
    # every declared object of those kinds and namespaces (cluster-scoped: "") is live
    compared = {k for k in declared if k[0] in kinds and k[1] in spaces | {""}}
    assert compared - live == set()
    assert len(compared) > 80
    kfp.pulumi("preview", "--expect-no-changes")


RECREATED = ("mysql", "seaweedfs", "cache-deployer-deployment")


def test_recreate_deployments_have_rolled_out_when_up_ends(kfp: Stack) -> None:
    """A change of the pod template (`resources`) of KFP's Recreate Deployments alone, three
    times: when `up` returns, each runs only new pods, all available. With the provider's
    own wait, `up` could return before (README, "Install order")."""
    deployments = kfp.kube().resources.get(api_version="apps/v1", kind="Deployment")
    for memory in ("200Mi", "300Mi", "400Mi"):
        requests = {"requests": {"cpu": "10m", "memory": memory}}
        resources = dict.fromkeys(RECREATED, requests)
        kfp.set_config("pipelines", {"version": "2.16.1", "resources": resources})
        kfp.up()
        live = {n: deployments.get(name=n, namespace="kubeflow").to_dict() for n in RECREATED}
        for name, deployment in live.items():
            (container, *_) = deployment["spec"]["template"]["spec"]["containers"]
            assert container["resources"] == requests, name
        assert not [(n, d["status"]) for n, d in live.items() if not rolled_out(d)], memory


def test_a_pod_that_breaks_its_namespaces_level_is_rejected(kfp: Stack) -> None:
    """`kubeflow` enforces baseline (pipeline runs are users' pods): a privileged pod is
    refused by the API server's Pod Security admission."""
    pods = kfp.kube().resources.get(api_version="v1", kind="Pod")
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": "kubeflow"},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}
            ]
        },
    }
    with pytest.raises(ApiException) as refused:
        pods.create(body=privileged, namespace="kubeflow")
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "baseline' in message and "privileged" in message
    plain = {**privileged, "metadata": {"name": "plain", "namespace": "kubeflow"}}
    plain["spec"] = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    assert pods.create(body=plain, namespace="kubeflow").metadata.name == "plain"
    pods.delete(name="plain", namespace="kubeflow")


WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "users-run", "namespace": "kubeflow"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "x:1"}}]},
}


def test_removing_components_keeps_their_data_unless_told_not_to(kfp: Stack) -> None:
    client = kfp.kube()
    workflows = client.resources.get(api_version=WORKFLOW["apiVersion"], kind="Workflow")
    workflows.create(body=WORKFLOW, namespace="kubeflow")
    kfp.set_config("components", [])
    kfp.up()
    crds = client.resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    assert crds.get(name="workflows.argoproj.io")  # kept: the user's runs live in it
    assert workflows.get(name="users-run", namespace="kubeflow")
    claims = client.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    assert claims.get(name="mysql-pv-claim", namespace="kubeflow")
    deployments = client.resources.get(api_version="apps/v1", kind="Deployment")
    with pytest.raises(NotFoundError):
        deployments.get(name="ml-pipeline", namespace="kubeflow")  # the rest of KFP is gone
    with pytest.raises(NotFoundError):
        crds.get(name="sparkapplications.sparkoperator.k8s.io")  # keepData off: gone


def test_destroy_leaves_the_cluster_that_holds_the_kept_data(kfp: Stack) -> None:
    """The cluster holds the kept CRDs and claims and the user's run: `destroy` leaves it
    running, the next `up` takes it back as it is, and the command `make destroy` prints for
    it stops it."""
    cluster_dir = kfp.project.root / "cluster"
    entry = (LOCAL_CLUSTER, "", str(cluster_dir))
    workflows = kfp.kube().resources.get(api_version=WORKFLOW["apiVersion"], kind="Workflow")

    def destroy_keeps_the_cluster() -> None:
        assert entry in kept_objects(json.loads(kfp.pulumi("stack", "export").stdout))
        kfp.pulumi("destroy", "--yes", "--skip-preview")
        assert local_cluster.is_running(cluster_dir)
        assert workflows.get(name="users-run", namespace="kubeflow")

    destroy_keeps_the_cluster()
    kfp.up()  # takes the running cluster back, with what it holds
    destroy_keeps_the_cluster()
    subprocess.run(delete_command(*entry).split(), cwd=REPO, check=True, timeout=120)
    assert not cluster_dir.exists()
