"""CentralDashboard under Pulumi mocks: no Istio by default, its own namespace."""

from __future__ import annotations

import json

import pytest

from components import CentralDashboard, CentralDashboardArgs, ComponentArgsError, MirrorSource
from components.central_dashboard import DASHBOARD_SOURCES, dashboard_part
from components.manifests import KubeObject, load_objects
from components.render import Reference
from tests.paths import MIRROR
from tests.unit.component_helpers import (
    FLAG,
    as_installed,
    build,
    identities,
    install,
    kube_objects,
    refused,
    registered,
    resolved,
)
from tests.unit.mocks import Recorder

DASHBOARD = MIRROR / "centraldashboard" / "v1.10.0"
ISTIO_KINDS = {"VirtualService", "AuthorizationPolicy"}
UPSTREAM = "https://github.com/kubeflow/manifests/applications/centraldashboard/upstream"


COMPONENT = CentralDashboard


def menu(objects: list[KubeObject]) -> list[str]:
    (config,) = [o for o in objects if o["metadata"]["name"] == "centraldashboard-config"]
    return [item.get("link", "") for item in json.loads(config["data"]["links"])["menuLinks"]]


def test_mirror_install_is_the_dashboard_without_istio_plus_its_namespace(
    mirrored: Recorder,
) -> None:
    upstream = load_objects(DASHBOARD / "istio.yaml")
    expected = identities([o for o in upstream if o["kind"] not in ISTIO_KINDS])
    expected[("Namespace", "", "kubeflow")] += 1
    assert identities([r.inputs for r in kube_objects(mirrored)]) == expected
    assert sum(expected.values()) == 10


def test_the_namespace_comes_before_everything(mirrored: Recorder) -> None:
    namespace = registered(mirrored, "Namespace", "kubeflow")
    others = [r for r in kube_objects(mirrored) if r is not namespace]
    assert others and all(namespace.urn in mirrored.waits_for(r) for r in others)


def test_istio_keeps_the_istio_objects() -> None:
    dashboard = build(CentralDashboard, CentralDashboardArgs(istio=True))
    upstream = load_objects(DASHBOARD / "istio.yaml")
    assert identities(as_installed(dashboard, upstream)) == identities(upstream)


def test_kserve_menu_without_istio_uses_the_kserve_render_without_its_istio_objects() -> None:
    assert (
        dashboard_part(DASHBOARD_SOURCES["v1.10.0"], istio=False, kserve_menu=True).mirror_file
        == "kserve.yaml"
    )
    dashboard = build(CentralDashboard, CentralDashboardArgs())
    objects = as_installed(dashboard, load_objects(DASHBOARD / "kserve.yaml"))
    assert not {o["kind"] for o in objects} & ISTIO_KINDS
    assert "/kserve-endpoints/" in menu(objects)
    assert "/kserve-endpoints/" not in menu(load_objects(DASHBOARD / "istio.yaml"))


@pytest.mark.parametrize(
    ("istio", "kserve_menu", "overlay", "mirror_file"),
    [
        (False, False, "base", "istio.yaml"),
        (True, False, "overlays/istio", "istio.yaml"),
        (True, True, "overlays/kserve", "kserve.yaml"),
    ],
)
def test_upstream_install_renders_the_kustomization_of_the_settings(
    rendered: list[Reference], istio: bool, kserve_menu: bool, overlay: str, mirror_file: str
) -> None:
    recorder = install(CentralDashboard, CentralDashboardArgs(istio=istio, kserve_menu=kserve_menu))
    assert [r.location for r in rendered] == [f"{UPSTREAM}/{overlay}?ref=26.03"]
    namespace, *objects = kube_objects(recorder)
    assert (namespace.inputs["kind"], namespace.inputs["metadata"]["name"]) == (
        "Namespace",
        "kubeflow",
    )
    assert objects and all(namespace.urn in recorder.waits_for(o) for o in objects)
    # The mirror's file for the settings is the same render (without Istio: filtered).
    part = dashboard_part(DASHBOARD_SOURCES["v1.10.0"], istio=istio, kserve_menu=kserve_menu)
    assert part.mirror_file == mirror_file
    expected = [
        o for o in load_objects(DASHBOARD / mirror_file) if istio or o["kind"] not in ISTIO_KINDS
    ]
    assert identities([o.inputs for o in objects]) == identities(expected)


def test_create_namespace_false_leaves_the_namespace_alone() -> None:
    recorder = install(CentralDashboard, CentralDashboardArgs(create_namespace=False))
    objects = kube_objects(recorder)
    assert objects and "Namespace" not in {o.inputs["kind"] for o in objects}
    # The first objects wait for nothing: no namespace of their own to wait for.
    assert objects[0].dependencies == []


def test_namespace_setting_moves_objects_and_the_istio_route() -> None:
    dashboard = build(CentralDashboard, CentralDashboardArgs(namespace="ui", istio=True))
    objects = as_installed(dashboard, load_objects(DASHBOARD / "istio.yaml"))
    assert {o["metadata"].get("namespace") for o in objects} == {None, "ui"}
    (service,) = [o for o in objects if o["kind"] == "VirtualService"]
    route = service["spec"]["http"][0]["route"][0]["destination"]
    assert route["host"] == "centraldashboard.ui.svc.cluster.local"
    (binding,) = [o for o in objects if o["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"][0]["namespace"] == "ui"


def test_outputs_name_the_ui_service() -> None:
    dashboard = CentralDashboardArgs(namespace="ui")
    outputs = resolved(lambda: {"ui": CentralDashboard("cd", dashboard).ui_service})
    assert outputs == {"ui": "centraldashboard.ui.svc:80"}


def test_kserve_menu_without_istio_needs_a_mirror() -> None:
    args = CentralDashboardArgs(kserve_menu=True)
    with pytest.raises(ComponentArgsError, match="kserveMenu without istio") as error:
        install(CentralDashboard, args)
    assert "fix: set istio: true" in str(error.value)
    assert (
        CentralDashboard.check(CentralDashboardArgs(kserve_menu=True, source=MirrorSource(MIRROR)))
        == []
    )


def test_a_flag_given_as_a_string_is_an_error() -> None:
    args = CentralDashboardArgs(istio="false")  # type: ignore[arg-type]  # bad on purpose
    refused(CentralDashboard, args, f"istio = 'false' {FLAG}")
