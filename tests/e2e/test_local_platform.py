"""The full platform on a real kube-apiserver, through one lifecycle on one cluster:

1. `up` of release 26.03 (all nine components, the Training Operator as Trainer v2, Spark
   jobs in a namespace of KFP's and one the stack creates), data kept; every CRD Established
   and Deployment Available; a refresh finds no changes.
2. A controller's work (data written into a webhook-certificate Secret outside Pulumi) and a
   user's InferenceService, created out of band, are not the stack's to undo: the preview
   after them shows no changes (one preview proves both that and the stack at rest).
3. Upgrade to 26.03.1: the preview succeeds and names the replaces and deletes; after `up` the
   API server holds exactly the stack's objects (the old dashboard's are gone, JobSet was
   replaced for its immutable selector), the user's resource and the controller's Secret data
   are still there, KServe's dropped CRD is kept, and a second preview shows no changes.
   Going back to 26.03 is refused with the reason.

Removing components with kept data, and the stack's `destroy`, are the KFP modules' to test
(tests/e2e/test_kfp_upgrade.py, tests/e2e/test_local_stack.py); here the cluster is stopped
with its state. Wall times go to build/e2e-platform-timings.json.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.catalog import CATALOG
from infra.preview_summary import markdown, read_steps
from tests.e2e.cluster_checks import (
    COMPARED_KINDS,
    PLATFORM_TIMEOUT,
    assert_ready,
    key,
    live_objects,
    namespaces,
    stack_objects,
    stop_everything,
)
from tests.engine import Stack, local_mirror_stack, step_timer

pytestmark = pytest.mark.e2e

TIMINGS: dict[str, float] = {}
"""Seconds one `up` or `destroy` of the full platform may take (about 10 minutes on an idle
2-core machine; the suite may share it with other work)."""
ISVC = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "users-model", "namespace": "default"},
    "spec": {
        "predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/x"}}
    },
}


DROPPED_CRD = "inferencemodels.inference.networking.x-k8s.io"
"""A CRD of KServe v0.16.0 that v0.18.0 no longer declares: kept, since the stack keeps data."""
NEW_RUNTIME = "training-operator:torchtune-llama3.2-3b"
"""A runtime that Trainer v2.2.0 changes to use a field only v2.2.0's CRD declares: the
upgrade's preview shows it without a server dry run against the old CRD
(infra/version_guard.py)."""

Timed = step_timer(TIMINGS)
"""`with Timed("step"):` records the step's wall time in TIMINGS."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = local_mirror_stack(
        tmp_path_factory.mktemp("platform"),
        "platform",
        {
            "components": list(CATALOG),
            "release": "26.03",
            "keepData": "true",
            "training-operator": {"mode": "trainer"},
            # one the stack creates (its Spark objects apply only once it exists), one KFP's
            "spark-operator": {"jobNamespaces": ["default", "kubeflow", "spark-jobs"]},
        },
    )
    try:
        with Timed("up 26.03 (9 components)"):
            stack.up(timeout=PLATFORM_TIMEOUT)
        yield stack
    finally:
        stop_everything(stack, "platform", TIMINGS, destroy=False)


def test_26_03_is_up_and_at_rest(platform: Stack) -> None:
    assert_ready(platform)
    accounts = platform.kube().resources.get(api_version="v1", kind="ServiceAccount")
    for job_namespace in ("kubeflow", "spark-jobs"):  # the Spark driver's, in its namespaces
        assert accounts.get(name="spark-operator-spark", namespace=job_namespace)
    assert platform.outputs()["components"]["kserve"]["version"] == "v0.16.0"
    # the preview at rest is the next test's, after the additions it must leave alone
    with Timed("refresh --expect-no-changes (26.03)"):
        platform.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")


LLM_CONFIG = "kserve-config-llm-scheduler"
"""One of the 8 LLMInferenceServiceConfigs KServe v0.16.0 ships at v1alpha1, v0.18.0 at
v1alpha2."""
CERTIFICATE = {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
"""What katib-controller writes into the Secret upstream ships empty (simulated here)."""


def test_a_controller_and_a_user_add_to_the_cluster(platform: Stack) -> None:
    client = platform.kube()
    secrets = client.resources.get(api_version="v1", kind="Secret")
    secrets.patch(name="katib-webhook-cert", namespace="kubeflow", body={"data": CERTIFICATE})
    isvcs = client.resources.get(api_version=ISVC["apiVersion"], kind=ISVC["kind"])
    isvcs.create(body=ISVC, namespace="default")
    assert isvcs.get(name="users-model", namespace="default").metadata.name == "users-model"
    with Timed("preview --expect-no-changes (26.03)"):
        platform.pulumi("preview", "--expect-no-changes")  # neither is the stack's to undo


def test_the_upgrade_preview_names_replaces_and_deletes(platform: Stack) -> None:
    platform.set_config("release", "26.03.1")
    events = platform.project.root / "upgrade.events.jsonl"
    with Timed("preview 26.03 -> 26.03.1"):
        platform.pulumi("preview", "--event-log", str(events))
    steps = read_steps(events.read_text().splitlines())
    ops: dict[str, set[str]] = {}
    for step in steps:
        ops.setdefault(step.op, set()).add(step.urn.rpartition("::")[2])
    assert NEW_RUNTIME in ops["update"]
    assert "training-operator:kubeflow-system/jobset-controller-manager" in ops["replace"]
    assert "kserve:llmisvc-manager-rolebinding" in ops["replace"]  # its roleRef changes
    assert "central-dashboard:kubeflow/centraldashboard" in ops["delete"]
    assert "central-dashboard:kubeflow/dashboard" in ops["create"]
    assert f"kserve:{DROPPED_CRD}" in ops["delete"]
    # KServe's LLM configs move from v1alpha1 to v1alpha2: updated in place, neither a create
    # of the new and a delete of the old nor a replace (each deletes the one live object)
    assert f"kserve:kserve/{LLM_CONFIG}" in ops["update"]
    assert not [name for name in ops["delete"] | ops["create"] if LLM_CONFIG in name]
    # what `make preview` writes to build/preview/<stack>.md
    summary = markdown("platform", steps)
    (jobset,) = [
        line
        for line in summary.splitlines()
        if "jobset-controller-manager`" in line and line.startswith("- replace")
    ]
    assert "(replaced: spec.selector" in jobset
    lines = [line for line in summary.splitlines() if f"{DROPPED_CRD}`" in line]
    (dropped,) = [line for line in lines if line.startswith("- delete")]
    assert "kept in the cluster" in dropped
    assert summary.index("Left in the cluster (keepData)") < summary.index(lines[0])


def test_the_upgrade_leaves_exactly_the_new_release(platform: Stack) -> None:
    before = live_objects(platform, COMPARED_KINDS, namespaces(platform))
    with Timed("up 26.03 -> 26.03.1"):
        platform.up(timeout=PLATFORM_TIMEOUT)
    assert_ready(platform)
    assert platform.outputs()["components"]["kserve"]["version"] == "v0.18.0"
    declared = {key(o) for o in stack_objects(platform)}
    live = live_objects(platform, COMPARED_KINDS, namespaces(platform))
    # KServe's dropped CRD is the one object left behind on purpose (the stack keeps data)
    assert live - declared == {("CustomResourceDefinition", "", DROPPED_CRD)}
    # and every object declared is there, also in namespaces the stack does not own
    # (the Spark job RBAC in `default`, cert-manager's leader election in `kube-system`)
    elsewhere = namespaces(platform) | {k[1] for k in declared if k[1]}
    live_anywhere = live_objects(platform, COMPARED_KINDS, elsewhere)
    compared = set(dict(COMPARED_KINDS).values())
    assert not [k for k in declared if k[0] in compared and k not in live_anywhere]
    assert ("Deployment", "kubeflow", "centraldashboard") in before
    assert ("Deployment", "kubeflow", "centraldashboard") not in live
    deployments = platform.kube().resources.get(api_version="apps/v1", kind="Deployment")
    jobset = deployments.get(name="jobset-controller-manager", namespace="kubeflow-system")
    assert "app.kubernetes.io/name" in jobset.to_dict()["spec"]["selector"]["matchLabels"]
    isvcs = platform.kube().resources.get(api_version=ISVC["apiVersion"], kind=ISVC["kind"])
    assert isvcs.get(name="users-model", namespace="default").metadata.name == "users-model"
    configs = platform.kube().resources.get(
        api_version="serving.kserve.io/v1alpha2", kind="LLMInferenceServiceConfig"
    )
    assert configs.get(name=LLM_CONFIG, namespace="kserve").metadata.name == LLM_CONFIG
    secrets = platform.kube().resources.get(api_version="v1", kind="Secret")
    certificate = secrets.get(name="katib-webhook-cert", namespace="kubeflow").to_dict()["data"]
    assert certificate == CERTIFICATE  # the upgrade's `up` left the controller's data alone
    with Timed("preview --expect-no-changes (26.03.1)"):
        platform.pulumi("preview", "--expect-no-changes")


def test_going_back_to_26_03_is_refused_with_the_reason(platform: Stack) -> None:
    platform.set_config("release", "26.03")
    refused = platform.pulumi("preview", check=False)
    platform.set_config("release", "26.03.1")
    assert refused.returncode != 0
    assert "kserve cannot go back from v0.18.0 to v0.16.0" in refused.output
    assert "v1alpha2" in refused.output
