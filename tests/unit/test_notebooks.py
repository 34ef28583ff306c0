"""Notebooks (the notebook controller) under Pulumi mocks."""

from __future__ import annotations

from typing import Any

import pytest

from components import Notebooks, NotebooksArgs
from components.manifests import load_objects
from components.notebooks import CULLING_ANNOTATION
from components.render import Reference
from tests.paths import MIRROR
from tests.unit.component_helpers import (
    as_installed,
    build,
    identities,
    install,
    kube_objects,
    refused,
    registered,
    resolved,
)
from tests.unit.mirror_helpers import RUNS_NOTHING, waits_for
from tests.unit.mocks import Recorder

NOTEBOOKS = MIRROR / "notebook-controller" / "v1.10.0"
CONFIG_MAP = "notebook-controller-config-h659mh255b"


COMPONENT = Notebooks


@pytest.fixture(scope="module")
def upstream() -> list[dict[str, Any]]:
    """The mirror's objects (its CRD makes the file 460 kB: read it once)."""
    return load_objects(NOTEBOOKS / "standalone.yaml")


@pytest.fixture(scope="module")
def customised(upstream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mirror objects as an install with every setting changed would register them."""
    args = NotebooksArgs(
        namespace="notebooks",
        cull_idle_minutes=60,
        image_registry="registry.example.com",
        replicas={"notebook-controller-deployment": 2},
    )
    return as_installed(build(Notebooks, args), upstream)


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_mirror_install_registers_exactly_the_standalone_objects(
    mirrored: Recorder, upstream: list[dict[str, Any]]
) -> None:
    expected = identities(upstream)
    assert identities([r.inputs for r in kube_objects(mirrored)]) == expected
    assert sum(expected.values()) == 13


def test_namespace_then_what_runs_nothing_then_the_crd_then_the_controller(
    mirrored: Recorder,
) -> None:
    """The CRD is Established before the controller starts; the small objects that run
    nothing are applied before it, while the stack's state is still small."""
    objects = kube_objects(mirrored)
    before = waits_for(objects)
    (namespace,) = [r for r in objects if r.inputs["kind"] == "Namespace"]
    (crd,) = [r for r in objects if r.inputs["kind"] == "CustomResourceDefinition"]
    controller = registered(mirrored, "Deployment", "notebook-controller-deployment")
    runs_nothing = [r for r in objects if r.inputs["kind"] in RUNS_NOTHING]
    assert len(runs_nothing) == 10
    assert all(namespace.urn in before[r.urn] for r in objects if r is not namespace)
    assert all(r.urn in before[crd.urn] and crd.urn not in before[r.urn] for r in runs_nothing)
    assert crd.urn in before[controller.urn]


def test_defaults_run_without_istio_and_without_culling(mirrored: Recorder) -> None:
    data = registered(mirrored, "ConfigMap", CONFIG_MAP).inputs["data"]
    assert (data["USE_ISTIO"], data["ENABLE_CULLING"]) == ("false", "false")
    controller = registered(mirrored, "Deployment", "notebook-controller-deployment").inputs
    assert CULLING_ANNOTATION not in (controller["spec"]["template"]["metadata"] or {}).get(
        "annotations", {}
    )


def test_upstream_install_renders_the_kubeflow_manifests_standalone_overlay(
    rendered: list[Reference], upstream: list[dict[str, Any]]
) -> None:
    recorder = install(Notebooks, NotebooksArgs())
    assert [r.location for r in rendered] == [
        "https://github.com/kubeflow/manifests/applications/jupyter/notebook-controller/"
        "upstream/overlays/standalone?ref=26.03"
    ]
    assert identities([r.inputs for r in kube_objects(recorder)]) == identities(upstream)


def test_namespace_setting_moves_the_controller(customised: list[dict[str, Any]]) -> None:
    namespaces = {o["metadata"].get("namespace") for o in customised}
    assert namespaces == {None, "notebooks"}
    assert ("Namespace", "", "notebooks") in identities(customised)
    binding = named(customised, "ClusterRoleBinding", "notebook-controller-role-binding")
    assert binding["subjects"][0]["namespace"] == "notebooks"


def test_culling_is_set_in_the_config_and_rolls_the_controller(
    customised: list[dict[str, Any]],
) -> None:
    data = named(customised, "ConfigMap", CONFIG_MAP)["data"]
    assert (data["ENABLE_CULLING"], data["CULL_IDLE_TIME"]) == ("true", "60")
    assert data["USE_ISTIO"] == "false"
    controller = named(customised, "Deployment", "notebook-controller-deployment")
    assert controller["spec"]["template"]["metadata"]["annotations"] == {CULLING_ANNOTATION: "60"}
    assert controller["spec"]["replicas"] == 2
    assert controller["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.example.com/kubeflow/kubeflow/notebook-controller:v1.10.0"
    )


def test_outputs_name_the_controller_namespace() -> None:
    args = NotebooksArgs(namespace="notebooks")
    outputs = resolved(lambda: {"namespace": Notebooks("nb", args).namespace})
    assert outputs == {"namespace": "notebooks"}


@pytest.mark.parametrize("minutes", [0, -5, "a day", True, 1.5])
def test_bad_culling_fails_before_anything_is_registered(minutes: object) -> None:
    args = NotebooksArgs(cull_idle_minutes=minutes)  # type: ignore[arg-type]  # bad on purpose
    assert "fix:" in refused(Notebooks, args, r"cullIdleMinutes = .* is not a positive")
