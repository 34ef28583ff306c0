"""TrainingOperator under Pulumi mocks: Training Operator v1, or Kubeflow Trainer v2 by mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components import MirrorSource, TrainingOperator, TrainingOperatorArgs
from components.render import Reference
from infra.cluster import build_cluster
from infra.config import (
    CLUSTER_MODES,
    ClusterMode,
    ClusterSettings,
    ConfigError,
    decode,
    load_settings,
)
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import (
    identities,
    install,
    kube_objects,
    refused,
    registered,
    resolved,
)
from tests.unit.mirror_helpers import (
    any_of,
    cached_loads,
    images_in,
    mirror_objects,
    named,
    order_problems,
    small_mirror,
)
from tests.unit.mocks import Recorder, run, run_stack

TRAINER = "https://github.com/kubeflow/trainer/manifests/overlays"
LAST_APPLIED_LIMIT = 262_144
"""Bytes the client-side apply annotation may hold; larger objects need server-side apply."""


@pytest.fixture(scope="module")
def training_operator() -> Recorder:
    with cached_loads():
        args = TrainingOperatorArgs(source=MirrorSource(MIRROR))
        return install(TrainingOperator, args, "training-operator")


@pytest.fixture(scope="module")
def trainer() -> Recorder:
    with cached_loads():
        args = TrainingOperatorArgs(mode="trainer", source=MirrorSource(MIRROR))
        return install(TrainingOperator, args, "trainer")


def test_v1_mirror_install_registers_exactly_the_standalone_objects(
    training_operator: Recorder,
) -> None:
    expected = identities(mirror_objects("training-operator", "v1.9.2", "standalone.yaml"))
    assert identities([r.inputs for r in kube_objects(training_operator)]) == expected
    assert sum(expected.values()) == 14
    assert order_problems(training_operator, "training-operator", ["standalone"]) == []


def test_trainer_mirror_install_registers_the_manager_then_the_runtimes(trainer: Recorder) -> None:
    manager = mirror_objects("trainer", "v2.1.0", "manager.yaml")
    runtimes = mirror_objects("trainer", "v2.1.0", "runtimes.yaml")
    assert identities([r.inputs for r in kube_objects(trainer)]) == identities(manager + runtimes)
    assert order_problems(trainer, "trainer", ["manager", "runtimes"]) == []
    # the runtimes wait for the webhook that validates them
    webhook = registered(
        trainer, "ValidatingWebhookConfiguration", "validator.trainer.kubeflow.org"
    )
    runtime = registered(trainer, "ClusterTrainingRuntime", "torch-distributed")
    assert webhook.urn in trainer.waits_for(runtime)


@pytest.mark.parametrize(
    ("folder", "version", "file"),
    [("training-operator", "v1.9.2", "standalone.yaml"), ("trainer", "v2.1.0", "manager.yaml")],
)
def test_crds_are_too_big_for_client_side_apply(folder: str, version: str, file: str) -> None:
    """Why the provider must keep server-side apply (next test)."""
    sizes = [
        len(json.dumps(o, separators=(",", ":")))
        for o in mirror_objects(folder, version, file)
        if o["kind"] == "CustomResourceDefinition"
    ]
    assert max(sizes) > LAST_APPLIED_LIMIT


@pytest.mark.parametrize("mode", CLUSTER_MODES)
def test_the_stack_providers_keep_server_side_apply(
    mode: ClusterMode, tmp_path: Path, kube_bin: Path
) -> None:
    """pulumi-kubernetes v4 applies server-side unless `enableServerSideApply` is false."""

    def program() -> None:
        build_cluster(ClusterSettings(mode=mode, render_dir=tmp_path, local_dir=tmp_path))

    (provider,) = run(program).of_type("pulumi:providers:kubernetes")
    assert provider.inputs.get("enableServerSideApply") in (None, "true", True)


def test_upstream_install_renders_the_pinned_kustomizations_in_order(
    rendered: list[Reference],
) -> None:
    install(TrainingOperator, TrainingOperatorArgs(), "to")
    assert [r.location for r in rendered] == [f"{TRAINER}/standalone?ref=v1.9.2"]
    rendered.clear()
    v2 = install(TrainingOperator, TrainingOperatorArgs(mode="trainer"), "trainer")
    assert [r.location for r in rendered] == [
        f"{TRAINER}/manager?ref=v2.1.0",
        f"{TRAINER}/runtimes?ref=v2.1.0",
    ]
    assert order_problems(v2, "trainer", ["manager", "runtimes"]) == []


def test_namespace_setting_moves_trainer_from_kubeflow_system(tmp_path: Path) -> None:
    mirror = small_mirror(
        tmp_path,
        "trainer",
        "v2.1.0",
        ("manager.yaml", "runtimes.yaml"),
        any_of(
            named("Namespace"),
            named("Deployment", "kubeflow-trainer-controller-manager"),
            named("ValidatingWebhookConfiguration", "validator.trainer.kubeflow.org"),
            named("ClusterRoleBinding", "kubeflow-trainer-controller-manager"),
        ),
    )
    args = TrainingOperatorArgs(mode="trainer", namespace="training", source=mirror)
    recorder = install(TrainingOperator, args, "trainer")
    registered(recorder, "Namespace", "training")
    manager = registered(recorder, "Deployment", "kubeflow-trainer-controller-manager")
    assert manager.inputs["metadata"]["namespace"] == "training"
    webhook = registered(
        recorder, "ValidatingWebhookConfiguration", "validator.trainer.kubeflow.org"
    )
    assert {w["clientConfig"]["service"]["namespace"] for w in webhook.inputs["webhooks"]} == {
        "training"
    }
    binding = registered(recorder, "ClusterRoleBinding", "kubeflow-trainer-controller-manager")
    assert binding.inputs["subjects"][0]["namespace"] == "training"


def test_image_registry_moves_the_images_of_the_training_runtimes(tmp_path: Path) -> None:
    mirror = small_mirror(tmp_path, "trainer", "v2.1.0", ("runtimes.yaml",), lambda obj: True)
    (tmp_path / "trainer" / "v2.1.0" / "manager.yaml").write_text("")
    args = TrainingOperatorArgs(
        mode="trainer", image_registry="registry.example.com/m", source=mirror
    )
    recorder = install(TrainingOperator, args, "trainer")
    images = {i for r in kube_objects(recorder) for i in images_in(r.inputs)}
    assert images == {
        f"registry.example.com/m/{i.removeprefix('ghcr.io/')}"
        for o in mirror_objects("trainer", "v2.1.0", "runtimes.yaml")
        for i in images_in(o)
    }
    assert "registry.example.com/m/pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime" in images


def test_in_a_namespace_another_component_created_the_namespace_is_left_out(
    tmp_path: Path,
) -> None:
    mirror = small_mirror(
        tmp_path,
        "training-operator",
        "v1.9.2",
        ("standalone.yaml",),
        any_of(named("Namespace"), named("Deployment")),
    )
    recorder = install(
        TrainingOperator, TrainingOperatorArgs(create_namespace=False, source=mirror), "to"
    )
    assert [r.inputs["kind"] for r in kube_objects(recorder)] == ["Deployment"]


def test_outputs_name_mode_version_and_namespace() -> None:
    def outputs() -> dict[str, Any]:
        trainer = TrainingOperator("trainer", TrainingOperatorArgs(mode="trainer"))
        return {"mode": trainer.mode, "version": trainer.version, "ns": trainer.namespace}

    assert resolved(outputs) == {"mode": "trainer", "version": "v2.1.0", "ns": "kubeflow-system"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "mpi"}, "mode 'mpi' is not a mode; fix: use one of training-operator"),
        (
            {"mode": "trainer", "version": "v1.9.2"},
            "version 'v1.9.2' is a Training Operator v1 version, but mode is 'trainer'; "
            "fix: set mode: training-operator, or a Kubeflow Trainer v2 version",
        ),
        ({"version": "v2.1.0"}, "fix: set mode: trainer"),
        ({"create_namespace": "no"}, "createNamespace = 'no' must be true or false"),
    ],
)
def test_bad_args_fail_before_anything_is_registered(
    settings: dict[str, Any], message: str
) -> None:
    refused(TrainingOperator, TrainingOperatorArgs(**settings), message)


def test_a_bad_mode_in_the_stack_is_reported_before_any_resource() -> None:
    with pytest.raises(ConfigError, match="kubeflow:training-operator: training-operator: mode"):
        run_stack(
            "ci",
            {
                "kubeflow:components": ["training-operator"],
                "kubeflow:training-operator": {"mode": "v2"},
            },
        )


def test_the_stack_checks_trainer_mode_against_the_trainer_mirror_folder() -> None:
    def settings(**trainer: str) -> dict[str, Any]:
        return decode(
            {
                "manifestMirror": "../shared/manifests",
                "components": '["training-operator"]',
                "training-operator": json.dumps({"mode": "trainer", **trainer}),
            }
        )

    loaded = load_settings(settings(), stack="ci", project_dir=REPO)
    args = loaded.component_args["training-operator"]
    assert TrainingOperator.version_for(args) == "v2.1.0"
    assert TrainingOperator.mirror_folder(args) == "trainer"
    with pytest.raises(
        ConfigError, match=r"has no trainer/v2\.9\.0 \(and 'v2\.9\.0' is not a known"
    ):
        load_settings(settings(version="v2.9.0"), stack="ci", project_dir=REPO)
