"""KubeflowPipelines under Pulumi mocks: what it registers, in which order, under whom."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from components import (
    KubeflowPipelines,
    ManifestError,
    MirrorSource,
    PipelinesArgs,
)
from components.manifests import load_objects
from components.render import Reference
from components.transforms import Transform
from pipelines.artifact_store import S3ArtifactSettings
from tests.paths import KFP_MIRROR, MIRROR, kfp_objects
from tests.unit.component_helpers import (
    identities,
    kube_objects,
    refused,
    resolved,
    rollout_wait,
    wait_for_annotations,
)
from tests.unit.component_helpers import install as install_component
from tests.unit.mirror_helpers import (
    RUNS_NOTHING,
    cached_loads,
    mirror_objects,
    named,
    order_problems,
    small_mirror,
    waits_for,
)
from tests.unit.mocks import Recorder, Registered

COMPONENT_TYPE = "kubeflow:components:KubeflowPipelines"


COMPONENT = KubeflowPipelines


def install(args: PipelinesArgs) -> Recorder:
    return install_component(KubeflowPipelines, args, "kfp")


def test_mirror_install_registers_exactly_the_upstream_objects(mirrored: Recorder) -> None:
    expected = identities(kfp_objects())
    registered = identities([r.inputs for r in kube_objects(mirrored)])
    assert registered == expected
    assert sum(expected.values()) == 86


def test_objects_carry_the_mirror_content(mirrored: Recorder) -> None:
    api = next(
        r
        for r in kube_objects(mirrored)
        if r.type == "kubernetes:apps/v1:Deployment" and r.name.endswith("/ml-pipeline")
    )
    container = api.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/kubeflow/kfp-api-server:2.15.0"


def _of_file(recorder: Recorder, file: str) -> list[Registered]:
    """The registered objects that came from one mirror file of KFP 2.15.0."""
    wanted = identities(load_objects(KFP_MIRROR / file))
    return [r for r in kube_objects(recorder) if identities([r.inputs]) <= wanted]


def test_install_order_spans_both_files(mirrored: Recorder) -> None:
    """The Namespace (cluster-scoped.yaml) before everything; the objects that run nothing,
    from either file, before the CRDs (cluster-scoped.yaml); the CRDs before every Deployment
    (platform-agnostic.yaml)."""
    cluster_scoped = _of_file(mirrored, "cluster-scoped.yaml")
    namespaced = _of_file(mirrored, "platform-agnostic.yaml")
    assert len(cluster_scoped) == 15 and len(namespaced) == 71
    objects = cluster_scoped + namespaced
    before = waits_for(objects)
    (namespace,) = [r for r in objects if r.inputs["kind"] == "Namespace"]
    crds = {r.urn for r in objects if r.inputs["kind"] == "CustomResourceDefinition"}
    deployments = [r for r in objects if r.inputs["kind"] == "Deployment"]
    runs_nothing = [r for r in objects if r.inputs["kind"] in RUNS_NOTHING]
    assert (len(crds), len(deployments), len(runs_nothing)) == (11, 14, 60)
    assert all(namespace.urn in before[r.urn] for r in objects if r is not namespace)
    for r in runs_nothing:
        assert not crds & before[r.urn], r.name
        assert all(r.urn in before[crd] for crd in crds), r.name
    for r in deployments:
        assert crds <= before[r.urn], r.name


def test_children_are_parented_to_the_component_and_use_the_stack_provider(
    mirrored: Recorder,
) -> None:
    component = next(r for r in mirrored.registered if r.type == COMPONENT_TYPE)
    assert "pulumi:pulumi:Stack::kubeflow-" in component.parent
    for resource in kube_objects(mirrored):
        assert resource.parent == component.urn
        assert "pulumi:providers:kubernetes::cluster" in resource.provider


def test_secrets_are_registered_as_secrets(mirrored: Recorder) -> None:
    secrets = [r for r in kube_objects(mirrored) if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 2
    for secret in secrets:  # the engine sees each value marked secret (it stores it encrypted)
        values = [secret.inputs[key] for key in ("data", "stringData") if key in secret.inputs]
        assert values, secret.name
        secret_sig = [v.get(rpc._special_sig_key) for v in values]
        assert secret_sig == [rpc._special_secret_sig] * len(values), secret.name


def test_upstream_install_renders_the_pinned_kustomizations_in_order(
    rendered: list[Reference],
) -> None:
    recorder = install(PipelinesArgs(version="2.16.1"))
    assert [r.location for r in rendered] == [
        "https://github.com/kubeflow/pipelines/manifests/kustomize/cluster-scoped-resources?ref=2.16.1",
        "https://github.com/kubeflow/pipelines/manifests/kustomize/env/platform-agnostic?ref=2.16.1",
    ]
    assert order_problems(recorder, "kfp", ["cluster-scoped", "platform-agnostic"]) == []
    files = ("cluster-scoped.yaml", "platform-agnostic.yaml")
    expected = [o for file in files for o in mirror_objects("kfp", "2.16.1", file)]
    assert identities([r.inputs for r in kube_objects(recorder)]) == identities(expected)


def test_outputs_name_version_namespace_and_endpoints() -> None:
    def outputs() -> dict[str, Any]:
        kfp = KubeflowPipelines("kfp", PipelinesArgs(namespace="ml", source=MirrorSource(MIRROR)))
        return {
            "version": kfp.version,
            "namespace": kfp.namespace,
            "api": kfp.api_endpoint,
            "ui": kfp.ui_service,
        }

    assert resolved(outputs) == {
        "version": "2.15.0",
        "namespace": "ml",
        "api": "ml-pipeline.ml.svc:8888",
        "ui": "ml-pipeline-ui.ml.svc:80",
    }


def test_settings_reach_the_registered_objects() -> None:
    recorder = install(
        PipelinesArgs(
            source=MirrorSource(MIRROR),
            namespace="ml",
            image_registry="registry.example.com/mirror",
            labels={"team": "ml"},
            replicas={"ml-pipeline": 2},
        )
    )
    objects = [r.inputs for r in kube_objects(recorder)]
    api = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "ml-pipeline"
    )
    assert api["metadata"]["namespace"] == "ml"
    assert api["spec"]["replicas"] == 2
    assert api["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "registry.example.com/mirror/"
    )
    assert all(o["metadata"]["labels"]["team"] == "ml" for o in objects)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (PipelinesArgs(version="9.9.9"), "version '9.9.9' is not a known version"),
        (PipelinesArgs(namespace="Kube_Flow"), "not a valid Kubernetes namespace"),
        (PipelinesArgs(image_registry="not a registry"), "not a registry reference"),
        (PipelinesArgs(replicas={"ml-pipeline": -1}), "not a non-negative integer"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(args: PipelinesArgs, message: str) -> None:
    refused(KubeflowPipelines, args, message)


def test_the_bundled_object_store_is_no_name_for_replicas_with_an_s3_store(
    tmp_path: Path,
) -> None:
    """With artifacts in S3, SeaweedFS is left out: `replicas` cannot scale it."""
    files = ("cluster-scoped.yaml", "platform-agnostic.yaml")
    mirror = small_mirror(tmp_path, "kfp", "2.15.0", files, named("Deployment"))
    store = S3ArtifactSettings(bucket="team-kfp-artifacts", region="eu-west-1")
    args = PipelinesArgs(source=mirror, artifact_store=store, replicas={"seaweedfs": 2})
    message = refused(KubeflowPipelines, args, r"replicas\['seaweedfs'\] names no ")
    assert "ml-pipeline" in message and "seaweedfs," not in message
    install(PipelinesArgs(source=mirror, replicas={"seaweedfs": 2}))  # with SeaweedFS


@pytest.mark.parametrize(
    ("requirements", "messages"),
    [
        (
            {"requests": {"cpus": "1", "memroy": "1Gi"}},
            [
                "requests.cpus: 'cpus' is not a resource a container can request; "
                "fix: did you mean 'cpu'?",
                "requests.memroy: 'memroy' is not a resource a container can request; "
                "fix: did you mean 'memory'?",
            ],
        ),
        (
            {"limits": {"kubernetes.io/gpu": 1, "requests.example.com/gpu": 1, "hugepages-x": 1}},
            [
                f"limits.{name}: '{name}' is not a resource"
                for name in ("kubernetes.io/gpu", "requests.example.com/gpu", "hugepages-x")
            ],
        ),
        (
            {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
            [
                "requests.memory = '2Gi' is more than limits.memory = '1Gi'; "
                "fix: request at most the limit"
            ],
        ),
        (
            {"requests": {"example.com/gpu": 1}, "limits": {"example.com/gpu": 2}},
            ["requests.example.com/gpu = 1 is not equal to limits.example.com/gpu = 2"],
        ),
    ],
)
def test_resources_the_api_server_would_refuse_are_refused_first(
    requirements: dict[str, dict[str, object]], messages: list[str]
) -> None:
    args = PipelinesArgs(source=MirrorSource(MIRROR), resources={"ml-pipeline": requirements})
    with cached_loads():
        message = refused(KubeflowPipelines, args, re.escape(messages[0]))
    assert all(f"kfp: resources['ml-pipeline'].{m}" in message for m in messages), message
    assert message.count("\n") + 1 == len(messages)


def test_every_resource_a_container_can_request_is_accepted() -> None:
    quantities: dict[str, object] = {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi"}
    quantities |= {"hugepages-2Mi": "64Mi", "nvidia.com/gpu": 1, "example.com/foo": "3"}
    requirements = {"requests": quantities, "limits": {**quantities, "cpu": "1"}}
    args = PipelinesArgs(source=MirrorSource(MIRROR), resources={"ml-pipeline": requirements})
    with cached_loads():
        assert KubeflowPipelines.problems(args) == []


def test_mirror_without_the_version_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "kfp").mkdir()
    with pytest.raises(ManifestError, match=r"has no kfp 2\.15\.0"):
        install(PipelinesArgs(source=MirrorSource(tmp_path)))


SKIP_AWAIT = "pulumi.com/skipAwait"


def as_load_balancer(obj: dict[str, Any]) -> dict[str, Any]:
    """A user's transform: the UI Service becomes a LoadBalancer."""
    if obj["kind"] == "Service" and obj["metadata"]["name"] == "ml-pipeline-ui":
        return {**obj, "spec": {**obj["spec"], "type": "LoadBalancer"}}
    return obj


def wait_for_ml_pipeline(obj: dict[str, Any]) -> dict[str, Any]:
    """A user's transform: keep the provider's wait on the API server's Service."""
    if obj["kind"] == "Service" and obj["metadata"]["name"] == "ml-pipeline":
        metadata = obj["metadata"]
        annotations = {**(metadata.get("annotations") or {}), SKIP_AWAIT: "false"}
        return {**obj, "metadata": {**metadata, "annotations": annotations}}
    return obj


def test_services_are_not_awaited_except_load_balancers_and_those_a_user_keeps(
    mirrored: Recorder,
) -> None:
    def skip_await(recorder: Recorder) -> dict[str, str | None]:
        return {
            r.inputs["metadata"]["name"]: (r.inputs["metadata"].get("annotations") or {}).get(
                SKIP_AWAIT
            )
            for r in kube_objects(recorder)
            if r.inputs["kind"] == "Service"
        }

    services = skip_await(mirrored)
    assert len(services) == 9 and set(services.values()) == {"true"}
    others = [r for r in kube_objects(mirrored) if r.inputs["kind"] != "Service"]
    assert not [r for r in others if SKIP_AWAIT in (r.inputs["metadata"].get("annotations") or {})]
    transforms = [as_load_balancer, wait_for_ml_pipeline]
    users = skip_await(install(PipelinesArgs(source=MirrorSource(MIRROR), transforms=transforms)))
    assert users.pop("ml-pipeline-ui") is None  # a LoadBalancer waits for its address
    assert users.pop("ml-pipeline") == "false"
    assert set(users.values()) == {"true"}


def test_recreate_deployments_wait_for_their_rollout_as_kubectl_rollout_status(
    mirrored: Recorder,
) -> None:
    """The Deployments that upstream rolls out by Recreate (KFP's database, object store and
    cache deployer) make `up` wait until the new pods are all there and available, counted
    for the replicas the stack declares, which they then always declare; the others keep the
    provider's wait."""
    recreated = {
        o["metadata"]["name"]: o["spec"].get("replicas")
        for o in load_objects(KFP_MIRROR / "platform-agnostic.yaml")
        if o["kind"] == "Deployment" and o["spec"].get("strategy", {}).get("type") == "Recreate"
    }
    assert recreated == {"cache-deployer-deployment": 1, "mysql": None, "seaweedfs": 1}
    waits = {name: json.loads(w) for name, w in wait_for_annotations(mirrored).items()}
    assert waits == dict.fromkeys(recreated, rollout_wait(1))
    declared = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["replicas"]
        for r in kube_objects(mirrored)
        if r.inputs["metadata"]["name"] in recreated and r.inputs["kind"] == "Deployment"
    }
    assert declared == dict.fromkeys(recreated, 1)  # mysql's too, which upstream leaves out


def annotated(name: str, annotations: dict[str, str]) -> Transform:
    """A user's transform: `annotations` on the Deployment `name`."""

    def apply(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == name:
            return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}
        return obj

    return apply


def test_a_recreate_deployments_wait_follows_its_replicas_and_the_users_own_say() -> None:
    transforms = [
        annotated("seaweedfs", {"pulumi.com/waitFor": "condition=Available"}),
        annotated("cache-deployer-deployment", {"pulumi.com/skipAwait": "true"}),
    ]
    args = PipelinesArgs(source=MirrorSource(MIRROR), replicas={"mysql": 2}, transforms=transforms)
    waits = wait_for_annotations(install(args))
    assert waits == {"mysql": json.dumps(rollout_wait(2)), "seaweedfs": "condition=Available"}
    # scaled to 0, the status has no counts to wait for: the provider's own wait; a user's
    # skipAwait "false" asks for a wait, and gets this one
    transforms = [annotated("seaweedfs", {"pulumi.com/skipAwait": "false"})]
    args = PipelinesArgs(source=MirrorSource(MIRROR), replicas={"mysql": 0}, transforms=transforms)
    waits = wait_for_annotations(install(args))
    assert set(waits) == {"seaweedfs", "cache-deployer-deployment"}
