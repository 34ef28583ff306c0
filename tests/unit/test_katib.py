"""Katib under Pulumi mocks: the standalone install, its namespace label and its webhooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import Katib, KatibArgs
from components.awaits import DELETION_PROPAGATION
from components.katib import INJECTION_LABEL
from components.render import Reference
from infra.config import ConfigError
from tests.unit.component_helpers import (
    FLAG,
    identities,
    install,
    kube_objects,
    mirror_install,
    namespace_waits,
    refused,
    registered,
    resolved,
    rollout_wait,
    wait_for_annotations,
    waits_beyond,
)
from tests.unit.mirror_helpers import images_in, mirror_objects, order_problems
from tests.unit.mocks import Recorder, run_stack

STANDALONE = (
    "https://github.com/kubeflow/katib/manifests/v1beta1/installs/katib-standalone?ref=v0.19.0"
)


def standalone_objects() -> list[dict[str, Any]]:
    return mirror_objects("katib", "v0.19.0", "katib-standalone.yaml")


COMPONENT = Katib


def test_mirror_install_registers_exactly_the_standalone_objects(mirrored: Recorder) -> None:
    expected = identities(standalone_objects())
    assert identities([r.inputs for r in kube_objects(mirrored)]) == expected
    assert sum(expected.values()) == 25


def test_upstream_install_renders_the_pinned_standalone_kustomization(
    rendered: list[Reference],
) -> None:
    recorder = install(Katib, KatibArgs(), "katib")
    assert [r.location for r in rendered] == [STANDALONE]
    installed = identities([r.inputs for r in kube_objects(recorder)])
    assert installed == identities(standalone_objects())


def test_pod_webhook_is_registered_only_once_katib_controller_is_available(
    mirrored: Recorder,
) -> None:
    assert order_problems(mirrored, "katib", ["katib-standalone"]) == []
    controller = registered(mirrored, "Deployment", "katib-controller")
    webhooks = registered(mirrored, "MutatingWebhookConfiguration", "katib.kubeflow.org")
    # The pod webhook admits every pod of the labelled namespace, katib-controller's too.
    assert controller.urn in mirrored.waits_for(webhooks)


def test_namespace_keeps_upstreams_injection_label(mirrored: Recorder) -> None:
    namespace = registered(mirrored, "Namespace", "kubeflow").inputs
    assert namespace["metadata"]["labels"][INJECTION_LABEL] == "enabled"


def test_injection_can_be_turned_off() -> None:
    recorder = mirror_install(Katib, metrics_collector_injection=False)
    labels = registered(recorder, "Namespace", "kubeflow").inputs["metadata"]["labels"]
    assert INJECTION_LABEL not in labels
    assert not recorder.of_type("kubernetes:core/v1:NamespacePatch")


def test_namespace_setting_moves_katib_and_its_webhook_exception() -> None:
    recorder = mirror_install(Katib, namespace="tuning")
    objects = [r.inputs for r in kube_objects(recorder)]
    namespace = registered(recorder, "Namespace", "tuning").inputs
    assert namespace["metadata"]["labels"][INJECTION_LABEL] == "enabled"
    assert {o["metadata"].get("namespace") for o in objects} == {None, "tuning"}
    webhook = registered(recorder, "MutatingWebhookConfiguration", "katib.kubeflow.org").inputs
    pods = next(w for w in webhook["webhooks"] if w["name"] == "mutator.pod.katib.kubeflow.org")
    assert pods["clientConfig"]["service"]["namespace"] == "tuning"
    (condition,) = pods["matchConditions"]
    assert "system:serviceaccount:tuning:katib-controller" in condition["expression"]
    assert "kubeflow" not in condition["expression"]


def test_in_a_namespace_another_component_created_katib_only_labels_it() -> None:
    recorder = mirror_install(Katib, create_namespace=False)
    namespaces = [r for r in kube_objects(recorder) if r.type == "kubernetes:core/v1:Namespace"]
    assert not namespaces
    (patch,) = recorder.of_type("kubernetes:core/v1:NamespacePatch")
    assert patch.inputs["kind"] == "Namespace"  # what the API server patches
    assert patch.inputs["metadata"] == {"name": "kubeflow", "labels": {INJECTION_LABEL: "enabled"}}
    controller = registered(recorder, "Deployment", "katib-controller")
    assert patch.urn in recorder.waits_for(controller)


def test_with_pipelines_katib_waits_for_its_namespace_and_leaves_it_the_namespace() -> None:
    recorder = run_stack(
        "ci", {"kubeflow:manifestMirror": "", "kubeflow:components": ["katib", "pipelines"]}
    )
    (katib,) = recorder.of_type("kubeflow:components:Katib")
    (pipelines,) = recorder.of_type("kubeflow:components:KubeflowPipelines")
    (namespace,) = [r for r in recorder.registered if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["name"] == "kubeflow"
    assert namespace.parent == pipelines.urn
    (patch,) = recorder.of_type("kubernetes:core/v1:NamespacePatch")
    assert patch.inputs["metadata"]["name"] == "kubeflow" and patch.parent == katib.urn
    # the patch's fields land on pipelines' Namespace: no delete policy of katib's among them
    assert DELETION_PROPAGATION not in (patch.inputs["metadata"].get("annotations") or {})
    assert namespace.urn in patch.dependencies
    waiting, inside = namespace_waits(recorder, katib, namespace)
    assert inside and waiting == inside
    assert waits_beyond(recorder, katib, pipelines, namespace) == []


def test_image_registry_moves_every_image_katib_pulls() -> None:
    """Workloads, and the suggestions, metrics collectors and trial templates in ConfigMaps."""
    recorder = mirror_install(Katib, image_registry="registry.example.com/mirror")
    images = {i for r in kube_objects(recorder) for i in images_in(r.inputs)}
    upstream = {i for o in standalone_objects() for i in images_in(o)}
    assert len(upstream) == 17
    katib = {i.removeprefix("ghcr.io/") for i in upstream if i.startswith("ghcr.io/kubeflow/")}
    assert images == {f"registry.example.com/mirror/{i}" for i in katib} | {
        "registry.example.com/mirror/library/mysql:8.0.29"
    }


def test_outputs_name_the_ui_and_the_db_manager() -> None:
    def outputs() -> dict[str, Any]:
        katib = Katib("katib", KatibArgs(namespace="tuning"))
        return {"ui": katib.ui_service, "db": katib.db_manager_endpoint}

    assert resolved(outputs) == {
        "ui": "katib-ui.tuning.svc:80",
        "db": "katib-db-manager.tuning.svc:6789",
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"metrics_collector_injection": "no"},
            f"metricsCollectorInjection = 'no' {FLAG}",
        ),
        ({"create_namespace": "true"}, "createNamespace = 'true' must be true or false"),
        ({"version": "v0.99.0"}, "version 'v0.99.0' is not a known version"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(
    settings: dict[str, Any], message: str
) -> None:
    refused(Katib, KatibArgs(**settings), message)


def test_a_bad_stack_setting_is_reported_before_any_resource() -> None:
    with pytest.raises(ConfigError, match=r"kubeflow:katib\.metricsCollector is not a setting"):
        run_stack(
            "ci", {"kubeflow:components": ["katib"], "kubeflow:katib": {"metricsCollector": True}}
        )


def test_its_database_waits_for_its_rollout(mirrored: Recorder) -> None:
    """Its database Deployment, rolled out by Recreate, waits as components/awaits.py says."""
    waits = {name: json.loads(w) for name, w in wait_for_annotations(mirrored).items()}
    assert waits == {"katib-mysql": rollout_wait(1)}
