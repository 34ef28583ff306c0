"""The stack lifecycle on a real kube-apiserver: the `local` cluster with Kubeflow Pipelines.

The lifecycle Terraform's acceptance tests and Pulumi's ProgramTest walk:
interrupted first `up` (SIGKILL), recovery, objects read back from the API
server, no changes on a second preview, no drift on refresh, drift made behind
Pulumi's back found and repaired, and a destroy, interrupted (SIGKILL) and run
again, that leaves nothing behind.
The tests of this module run in order on one stack; each step's wall time is
written to build/e2e-timings.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException
from kubernetes.dynamic.exceptions import NotFoundError

from infra import local_cluster
from tests.e2e.cluster_checks import condition, live
from tests.engine import Stack, local_mirror_stack, start_pulumi, step_timer
from tests.paths import REPO, kfp_objects
from tests.processes import kill_session, session_members

pytestmark = pytest.mark.e2e

TIMINGS: dict[str, float] = {}
RUNS: dict[str, dict[str, float]] = {}


Timed = step_timer(TIMINGS)
"""`with Timed("step"):` records the step's wall time in TIMINGS."""


#: The lifecycle runs with the cluster's realistic delays, then five times slower: the
#: install order, not luck, must carry the platform through.
DELAY_FACTORS = (1, 5)


@pytest.fixture(scope="module", params=DELAY_FACTORS, ids=[f"delays-x{f}" for f in DELAY_FACTORS])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A `local` stack in a throwaway project; destroyed (and its cluster stopped) at the end."""
    stack = local_mirror_stack(
        tmp_path_factory.mktemp("local-stack"),
        "local",
        {"components": ["pipelines"], "localCluster": {"delayFactor": request.param}},
    )
    cluster_dir = stack.project.root / "cluster"
    yield stack
    if local_cluster.is_running(cluster_dir):
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
        local_cluster.stop(cluster_dir)
    RUNS[f"delays x{request.param}"] = dict(TIMINGS)
    TIMINGS.clear()
    out = REPO / "build" / "e2e-timings.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(RUNS, indent=2) + "\n")


def kill_midway(stack: Stack, args: tuple[str, ...], midway: Callable[[], bool]) -> None:
    """Start `pulumi <args>`, SIGKILL it once `midway()` holds."""
    process = start_pulumi(stack.project.root, stack.project.env, stack.name, *args)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if midway():
                break
            time.sleep(0.2)
        assert process.poll() is None, f"pulumi {args[0]} finished before it could be interrupted"
    finally:
        # pulumi leads the session; its plugins (language host, dynamic-provider host,
        # Kubernetes provider) each lead a process group of their own inside it.
        kill_session(process.pid)
        process.wait()
    assert session_members(process.pid) == [], f"the killed {args[0]} left processes running"


def unlock(stack: Stack) -> None:
    """`make unlock`: the lock a killed pulumi left (and the empty .attrs a write cut short
    leaves), once that pulumi is gone."""
    unlocked = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.state_lock",
            stack.name,
            "--project-dir",
            str(stack.project.root),
        ],
        cwd=REPO,
        env={**stack.project.env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert unlocked.returncode == 0, unlocked.stdout + unlocked.stderr


def count_kfp_objects(cluster_dir: Path) -> int:
    """How many of the KFP manifests' objects the API server holds (0 before it is up: no
    kubeconfig yet, one being written, no server answering, no namespace yet)."""
    kubeconfig = cluster_dir / "kubeconfig"
    if not kubeconfig.exists():
        return 0
    try:
        api_client = config.new_client_from_config(str(kubeconfig))
        core = client.CoreV1Api(api_client)
        return len(core.list_namespaced_service_account("kubeflow").items) + len(
            core.list_namespaced_config_map("kubeflow").items
        )
    except (ConfigException, urllib3.exceptions.HTTPError, client.ApiException):
        return 0


def test_interrupted_first_up_converges_when_run_again(stack: Stack) -> None:
    cluster_dir = stack.project.root / "cluster"
    with Timed("preview (first)"):
        preview = stack.preview_steps()
    assert sum(s["op"] == "create" for s in preview["steps"]) >= 86
    with Timed("up interrupted by SIGKILL"):
        kill_midway(
            stack, ("up", "--yes", "--skip-preview"), lambda: count_kfp_objects(cluster_dir) >= 20
        )
    assert local_cluster.is_running(cluster_dir), "the cluster outlives the killed pulumi"
    # The README's recovery: `make unlock` (the lock, once its pulumi is gone, and the empty
    # .attrs a write cut short leaves), then resolve pending operations, and go on.
    with Timed("recover: unlock + refresh --clear-pending-creates"):
        unlock(stack)
        stack.pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    with Timed("up (after interruption)"):
        stack.up()


def test_every_object_exists_and_is_ready(stack: Stack) -> None:
    kube = stack.kube()
    for obj in kfp_objects():
        found = live(kube, obj).to_dict()
        assert found["metadata"]["name"] == obj["metadata"]["name"]
        if obj["kind"] == "Deployment":
            assert condition(found, "Available"), obj["metadata"]["name"]
        if obj["kind"] == "CustomResourceDefinition":
            assert condition(found, "Established"), obj["metadata"]["name"]


def test_nothing_is_duplicated_in_the_state(stack: Stack) -> None:
    state = json.loads(stack.pulumi("stack", "export").stdout)
    urns = [r["urn"] for r in state["deployment"]["resources"]]
    assert len(urns) == len(set(urns))
    assert not state["deployment"].get("pending_operations")
    kfp = [u for u in urns if "KubeflowPipelines$kubernetes:" in u]
    assert len(kfp) == len(kfp_objects())


def test_second_preview_has_no_changes_and_refresh_no_drift(stack: Stack) -> None:
    with Timed("preview --expect-no-changes"):
        stack.pulumi("preview", "--expect-no-changes")
    with Timed("refresh --expect-no-changes"):
        stack.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")


def test_drift_is_found_by_refresh_and_repaired_by_up(stack: Stack) -> None:
    kube = stack.kube()
    deployments = kube.resources.get(api_version="apps/v1", kind="Deployment")
    config_maps = kube.resources.get(api_version="v1", kind="ConfigMap")
    # cache-server declares replicas: 1 upstream, so Pulumi owns that field.
    deployments.patch(
        name="cache-server",
        namespace="kubeflow",
        body={"spec": {"replicas": 0}},
        content_type="application/merge-patch+json",
    )
    config_maps.delete(name="kfp-launcher", namespace="kubeflow")
    with Timed("refresh (drift)"):
        refreshed = stack.pulumi("refresh", "--yes", "--skip-preview", "--diff")
    assert "cache-server" in refreshed.output and "kfp-launcher" in refreshed.output
    with Timed("up (repair)"):
        stack.up()
    assert deployments.get(name="cache-server", namespace="kubeflow").spec.replicas == 1
    assert (
        config_maps.get(name="kfp-launcher", namespace="kubeflow").metadata.name == "kfp-launcher"
    )
    stack.pulumi("preview", "--expect-no-changes")


def test_destroy_leaves_nothing_and_stops_the_cluster(stack: Stack) -> None:
    cluster_dir = stack.project.root / "cluster"
    kube = stack.kube()
    records = local_cluster.read_records(cluster_dir)
    assert records
    state = json.loads(stack.pulumi("stack", "export").stdout)
    resources = state["deployment"]["resources"]
    platform = next(r["urn"] for r in resources if r["type"].endswith("KubeflowPlatform"))
    # kubeflow goes (keepData is off here) and takes its Deployments with it: no delete each
    (namespace,) = [r["urn"] for r in resources if r["type"] == "kubernetes:core/v1:Namespace"]
    deployments = [r for r in resources if r["type"] == "kubernetes:apps/v1:Deployment"]
    assert deployments
    assert {r.get("deletedWith") for r in deployments} == {namespace}
    destroy = ("destroy", "--yes", "--skip-preview", "--target", platform, "--target-dependents")
    cluster_roles = client.RbacAuthorizationV1Api(stack.kube().client).list_cluster_role
    before = len(cluster_roles().items)
    with Timed("destroy interrupted by SIGKILL"):
        kill_midway(stack, destroy, lambda: len(cluster_roles().items) < before)
    # A destroy saves the state at its end only (scripts/destroy.env): killed, it leaves the
    # state as it was, and the way on is to unlock and run it again.
    after = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]
    assert [r["urn"] for r in after["resources"]] == [r["urn"] for r in resources]
    assert not after.get("pending_operations")  # nothing to clear (README, after a crash)
    unlock(stack)
    with Timed("destroy (platform, again; cluster kept to check)"):
        stack.pulumi(*destroy)
    left = []
    for obj in kfp_objects():
        try:
            live(kube, obj)
            left.append((obj["kind"], obj["metadata"]["name"]))
        except NotFoundError:
            pass
    assert left == []
    with Timed("destroy (cluster)"):
        stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not local_cluster.is_running(cluster_dir)
    assert not any(local_cluster.process_alive(r) for r in records.values())
    state = json.loads(stack.pulumi("stack", "export").stdout)
    assert [r["type"] for r in state["deployment"].get("resources") or []] in (
        [],
        ["pulumi:pulumi:Stack"],
    )
