"""KServe under Pulumi mocks: both release files, deployment mode, image tags, cert-manager."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components import CertManager, ComponentArgsError, KServe, KServeArgs, MirrorSource
from components.kserve import pin_latest_images
from components.objects import INSTALL_TIERS
from components.render import Reference
from infra.config import ConfigError
from infra.kubeflow_platform import KubeflowPlatform
from tests.paths import MIRROR
from tests.unit.component_helpers import (
    FLAG,
    children_of,
    identities,
    install,
    kube_objects,
    mirror_install,
    refused,
    registered,
    required_waits,
    resolved,
)
from tests.unit.mirror_helpers import (
    any_of,
    images_in,
    mirror_objects,
    named,
    order_problems,
    small_mirror,
)
from tests.unit.mocks import Recorder, run, run_stack

VERSION = "v0.16.0"
FILES = ("kserve.yaml", "kserve-cluster-resources.yaml")
RELEASE = "https://github.com/kserve/kserve/releases/download/v0.16.0"
_RELEASE_TAG = re.compile(r"(kserve/[\w.-]+):v0\.16\.0")


def release_objects(file: str) -> list[dict[str, Any]]:
    return mirror_objects("kserve", VERSION, file)


def unpinned(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as KServe's `config/` renders it, before its release retags `:latest`."""
    render: dict[str, Any] = json.loads(_RELEASE_TAG.sub(r"\g<1>:latest", json.dumps(obj)))
    return render


def without_docs(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without the commented example the ConfigMap carries as documentation."""
    if obj["kind"] != "ConfigMap":
        return obj
    return {**obj, "data": {k: v for k, v in obj["data"].items() if k != "_example"}}


def deploy_config(recorder: Recorder) -> dict[str, Any]:
    config_map = registered(recorder, "ConfigMap", "inferenceservice-config").inputs
    deploy: dict[str, Any] = json.loads(config_map["data"]["deploy"])
    return deploy


COMPONENT = KServe


def test_mirror_install_registers_each_release_object_once(mirrored: Recorder) -> None:
    kserve, cluster_resources = (release_objects(f) for f in FILES)
    registered_objects = identities([r.inputs for r in kube_objects(mirrored)])
    # both files hold the same 8 LLMInferenceServiceConfigs: each is one resource
    assert set(registered_objects) == set(identities(kserve + cluster_resources))
    assert set(registered_objects.values()) == {1}
    assert len(registered_objects) == 63 + 20 - 8


def test_objects_install_in_order(mirrored: Recorder) -> None:
    assert order_problems(mirrored, "kserve", ["kserve", "kserve-cluster-resources"]) == []


def test_certificates_are_issued_while_the_controller_starts(mirrored: Recorder) -> None:
    """The controller mounts the Secret cert-manager issues: neither may wait for the other."""
    controller = registered(mirrored, "Deployment", "kserve-controller-manager")
    certificate = registered(mirrored, "Certificate", "serving-cert")
    issuer = registered(mirrored, "Issuer", "selfsigned-issuer")
    assert certificate.urn not in mirrored.waits_for(controller)
    assert controller.urn not in mirrored.waits_for(certificate)
    assert issuer.urn not in mirrored.waits_for(certificate)  # cert-manager retries until it exists
    webhook = registered(
        mirrored, "ValidatingWebhookConfiguration", "servingruntime.serving.kserve.io"
    )
    assert {controller.urn, certificate.urn} <= mirrored.waits_for(webhook)


def test_llm_configs_wait_for_the_webhook_that_validates_them(mirrored: Recorder) -> None:
    webhook = registered(
        mirrored, "ValidatingWebhookConfiguration", "llminferenceserviceconfig.serving.kserve.io"
    )
    configs = [r for r in kube_objects(mirrored) if r.inputs["kind"] == "LLMInferenceServiceConfig"]
    assert len(configs) == 8
    assert all(webhook.urn in mirrored.waits_for(c) for c in configs)


def test_a_custom_resource_keeps_its_resource_when_its_version_moves() -> None:
    """v0.18.0 serves LLMInferenceServiceConfig at v1alpha1 and v1alpha2 and ships v1alpha2:
    the v0.16.0 object (v1alpha1) is aliased, so the upgrade updates it, not create + delete
    (which would delete the one live object)."""
    recorder = mirror_install(KServe, version="v0.18.0")
    configs = [r for r in kube_objects(recorder) if r.inputs["kind"] == "LLMInferenceServiceConfig"]
    assert len(configs) == 8
    old_type = "kubernetes:serving.kserve.io/v1alpha1:LLMInferenceServiceConfig"
    assert all(r.type.endswith("/v1alpha2:LLMInferenceServiceConfig") for r in configs)
    for config in configs:
        aliases = set(zip(config.aliases, config.alias_types, strict=True))
        assert (config.name, old_type) in aliases
        # also for a stack whose names still carried the part (kserve-<part>:...)
        assert (f"kserve-kserve:{config.name.removeprefix('kserve:')}", old_type) in aliases
    # a kind its CRD serves at one version only has no type alias
    runtime = registered(recorder, "ClusterServingRuntime", "kserve-sklearnserver")
    assert set(runtime.alias_types) == {runtime.type}


def test_default_deployment_mode_is_standard(mirrored: Recorder) -> None:
    assert deploy_config(mirrored) == {"defaultDeploymentMode": "Standard"}


def test_upstream_install_applies_the_release_files_in_order(
    rendered: list[Reference], mirrored: Recorder
) -> None:
    recorder = install(KServe, KServeArgs(), "kserve")
    assert [r.location for r in rendered] == [f"{RELEASE}/{file}" for file in FILES]
    assert order_problems(recorder, "kserve", ["kserve", "kserve-cluster-resources"]) == []
    # Each object once, though both release files carry the LLMInferenceServiceConfigs.
    installed = identities([r.inputs for r in kube_objects(recorder)])
    assert installed == identities([r.inputs for r in kube_objects(mirrored)])
    assert set(installed.values()) == {1}


def test_knative_mode_is_written_to_the_inferenceservice_config(tmp_path: Path) -> None:
    mirror = small_mirror(tmp_path, "kserve", VERSION, FILES, named("ConfigMap"))
    recorder = install(KServe, KServeArgs(deployment_mode="Knative", source=mirror), "kserve")
    assert deploy_config(recorder) == {"defaultDeploymentMode": "Knative"}
    config_map = registered(recorder, "ConfigMap", "inferenceservice-config").inputs
    upstream = next(o for o in release_objects("kserve.yaml") if o["kind"] == "ConfigMap")
    assert {k: v for k, v in config_map["data"].items() if k != "deploy"} == {
        k: v for k, v in upstream["data"].items() if k != "deploy"
    }


def test_pinning_turns_a_config_render_into_the_release() -> None:
    """Undo the release's retagging on every real object; pinning gives the release back."""
    pin = pin_latest_images(VERSION)
    changed: Counter[str] = Counter()
    for obj in release_objects("kserve.yaml") + release_objects("kserve-cluster-resources.yaml"):
        if obj["kind"] == "CustomResourceDefinition":
            continue
        render = unpinned(obj)
        changed[obj["kind"]] += render != obj
        assert pin(render) == obj, obj["metadata"]["name"]
    # every KServe workload, the agent/router/storage-initializer images of the ConfigMap,
    # the KServe runtimes (not the Triton, MLServer, TorchServe and TF Serving ones)
    assert +changed == Counter(
        Deployment=3, DaemonSet=1, ConfigMap=1, ClusterServingRuntime=7, ClusterStorageContainer=1
    )


def test_pinning_leaves_other_images_alone() -> None:
    pin = pin_latest_images(VERSION)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "a", "image": "docker.io/kserve/sklearnserver:latest"},
                {"name": "b", "image": "example.com/notkserve/x:latest"},
                {"name": "c", "image": "nginx:latest"},
            ]
        },
    }
    images = [c["image"] for c in pin(pod)["spec"]["containers"]]
    assert images == [
        "docker.io/kserve/sklearnserver:v0.16.0",
        "example.com/notkserve/x:latest",
        "nginx:latest",
    ]


@pytest.mark.parametrize(("pin", "tag"), [(True, "v0.16.0"), (False, "latest")])
def test_the_component_pins_latest_images_unless_told_not_to(
    tmp_path: Path, pin: bool, tag: str
) -> None:
    keep = any_of(named("Deployment", "kserve-controller-manager"), named("ClusterServingRuntime"))
    mirror = small_mirror(tmp_path, "kserve", VERSION, FILES, keep, edit=unpinned)
    recorder = install(KServe, KServeArgs(pin_latest_images=pin, source=mirror), "kserve")
    controller = registered(recorder, "Deployment", "kserve-controller-manager").inputs
    assert controller["spec"]["template"]["spec"]["containers"][0]["image"] == (
        f"kserve/kserve-controller:{tag}"
    )
    runtime = registered(recorder, "ClusterServingRuntime", "kserve-sklearnserver").inputs
    assert runtime["spec"]["containers"][0]["image"] == f"kserve/sklearnserver:{tag}"


def test_image_registry_moves_the_images_of_runtimes_and_of_the_configmap(
    tmp_path: Path,
) -> None:
    def is_crd(obj: dict[str, Any]) -> bool:
        return bool(obj["kind"] == "CustomResourceDefinition")

    def images(objects: list[dict[str, Any]]) -> set[str]:
        return {i for obj in objects if not is_crd(obj) for i in images_in(without_docs(obj))}

    mirror = small_mirror(tmp_path, "kserve", VERSION, FILES, lambda obj: not is_crd(obj))
    args = KServeArgs(image_registry="registry.example.com/mirror", source=mirror)
    recorder = install(KServe, args, "kserve")
    moved = images([r.inputs for r in kube_objects(recorder)])
    release = images(release_objects("kserve.yaml") + release_objects(FILES[1]))
    assert len(moved) == len(release) > 20
    assert all(image.startswith("registry.example.com/mirror/") for image in moved)
    assert "registry.example.com/mirror/nvidia/tritonserver:23.05-py3" in moved
    config = registered(recorder, "ConfigMap", "inferenceservice-config").inputs["data"]
    agent = json.loads(config["agent"])["image"]
    assert agent == "registry.example.com/mirror/kserve/agent:v0.16.0"
    upstream = next(o for o in release_objects("kserve.yaml") if o["kind"] == "ConfigMap")
    assert config["ingress"] == upstream["data"]["ingress"]  # no image: left as written


def test_namespace_setting_moves_kserve_and_its_certificates(tmp_path: Path) -> None:
    keep = any_of(
        named("Namespace"),
        named("Certificate"),
        named("Issuer"),
        named("Deployment", "kserve-controller-manager"),
        named("MutatingWebhookConfiguration", "inferenceservice.serving.kserve.io"),
        named("ValidatingWebhookConfiguration", "inferenceservice.serving.kserve.io"),
    )
    mirror = small_mirror(tmp_path, "kserve", VERSION, FILES, keep)
    recorder = install(KServe, KServeArgs(namespace="models", source=mirror), "kserve")
    registered(recorder, "Namespace", "models")
    certificate = registered(recorder, "Certificate", "serving-cert").inputs
    assert certificate["metadata"]["namespace"] == "models"
    assert certificate["spec"]["dnsNames"] == ["kserve-webhook-server-service.models.svc"]
    assert certificate["spec"]["commonName"] == "kserve-webhook-server-service.models.svc"
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        webhook = registered(recorder, kind, "inferenceservice.serving.kserve.io").inputs
        annotations = webhook["metadata"]["annotations"]
        assert annotations["cert-manager.io/inject-ca-from"] == "models/serving-cert"
        services = {w["clientConfig"]["service"]["namespace"] for w in webhook["webhooks"]}
        assert services == {"models"}


def test_outputs_name_the_deployment_mode() -> None:
    def outputs() -> dict[str, Any]:
        kserve = KServe("kserve", KServeArgs(deployment_mode="Knative"))
        return {"mode": kserve.deployment_mode, "ns": kserve.namespace}

    assert resolved(outputs) == {"mode": "Knative", "ns": "kserve"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"deployment_mode": "Serverless"},
            "deploymentMode 'Serverless' is not a deployment mode; "
            "fix: use 'Knative', its current name",
        ),
        ({"deployment_mode": "RawDeployment"}, "fix: use 'Standard', its current name"),
        ({"deployment_mode": "raw"}, "fix: use Standard or Knative"),
        ({"pin_latest_images": "yes"}, f"pinLatestImages = 'yes' {FLAG}"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(
    settings: dict[str, Any], message: str
) -> None:
    refused(KServe, KServeArgs(**settings), re.escape(message))


def test_kserve_without_cert_manager_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        run_stack("ci", {"kubeflow:components": ["pipelines", "kserve"]})
    assert (
        "kubeflow:components enables 'kserve', which needs 'cert-manager'; "
        "fix: add 'cert-manager' to kubeflow:components"
    ) in str(error.value)


def test_a_platform_built_in_python_without_cert_manager_stops_before_registering() -> None:
    recorder = Recorder()
    args = KServeArgs(source=MirrorSource(MIRROR))
    with pytest.raises(ComponentArgsError) as error:
        run(lambda: KubeflowPlatform("kubeflow", {"kserve": args}), recorder=recorder)
    assert "'kserve' needs 'cert-manager'; fix: add 'cert-manager'" in str(error.value)
    assert recorder.registered == []


def test_the_platform_runs_kserve_once_cert_manager_is_installed() -> None:
    """KServe's workloads, Certificates, webhook configurations and custom resources wait for
    all of cert-manager; its Namespace, RBAC, configuration and CRDs go ahead beside it."""
    recorder = run_stack(
        "ci", {"kubeflow:manifestMirror": "", "kubeflow:components": ["kserve", "cert-manager"]}
    )
    tiers, expected = required_waits(recorder, KServe.TYPE, CertManager.TYPE)
    assert set(tiers) == set(range(INSTALL_TIERS)) and tiers == expected
    (kserve,) = recorder.of_type(KServe.TYPE)
    (cert_manager,) = recorder.of_type(CertManager.TYPE)
    # each of those waits for every object of cert-manager, its webhook's Deployment included
    controller = registered(recorder, "Deployment", "kserve-controller-manager")
    assert {r.urn for r in children_of(recorder, cert_manager)} <= recorder.waits_for(controller)
    assert {r.urn for r in children_of(recorder, cert_manager)}.isdisjoint(
        recorder.waits_for(kserve)
    )
