"""One install path: the pinned upstream and a mirror give a component the same objects.

A small synthetic component is installed from local upstreams rendered by the real tools
(a kustomization folder, a Helm chart, a git repository, a release file) and from a
mirror holding the same objects: the resources are the same (types, names, parents, inputs,
install order). The platform's components are installed from both sources too (the pinned
references render from the mirror here: GitHub is out of reach), with their filters.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest

from components import (
    CentralDashboardArgs,
    KubeflowPipelines,
    PipelinesArgs,
    UpstreamSource,
)
from components.catalog import CATALOG
from components.central_dashboard import CentralDashboard
from components.manifests import ManifestPart
from components.upstream import RENDER_TYPES
from pipelines.artifact_store import S3ArtifactSettings, is_bundled_object_store
from tests.unit.component_helpers import install, kube_objects, mirror_install
from tests.unit.local_upstreams import (
    CRD,
    OBJECTS,
    Demo,
    applied_before,
    chart,
    demo_install,
    demo_mirror,
    git_repository,
    kustomization,
    layout,
    with_parts,
    write_yaml,
)
from tests.unit.mirror_helpers import cached_loads
from tests.unit.mocks import MIRROR

UpstreamKind = Literal["kustomize", "file", "helm"]
"""`ManifestPart.upstream_kind`."""


@pytest.mark.parametrize(
    "upstream",
    [
        pytest.param(lambda tmp: (str(kustomization(tmp / "k")), "kustomize"), id="kustomization"),
        pytest.param(lambda tmp: (str(chart(tmp / "chart")), "helm"), id="helm-chart"),
        pytest.param(lambda tmp: (git_repository(tmp / "repo"), "kustomize"), id="git-repository"),
        pytest.param(
            lambda tmp: (str(write_yaml(tmp / "release.yaml", [CRD, *OBJECTS])), "file"),
            id="release-file",
        ),
    ],
)
def test_a_local_upstream_and_a_mirror_of_the_same_objects_give_the_same_resources(
    render_tools: Path, tmp_path: Path, upstream: Callable[[Path], tuple[str, UpstreamKind]]
) -> None:
    location, kind = upstream(tmp_path)
    part = ManifestPart("base", location, kind, "demo.yaml", chart="demo", namespace="demo")
    cls = with_parts(part)
    from_upstream = demo_install(cls, UpstreamSource(cache=tmp_path / "renders"))
    from_mirror = demo_install(cls, demo_mirror(tmp_path / "mirror"))
    assert layout(from_upstream) == layout(from_mirror)
    assert len(layout(from_upstream)) == len(OBJECTS) + 1
    # the install order: the Widget waits for its CRD, the webhook for the controller
    waits_for = applied_before(layout(from_upstream))
    assert "CustomResourceDefinition::c:widgets.example.com" in waits_for["Widget::c:demo/w"]
    webhook = waits_for["ValidatingWebhookConfiguration::c:widgets.example.com"]
    assert "Deployment::c:demo/widget-controller" in webhook


def test_a_pinned_reference_is_rendered_once(render_tools: Path, tmp_path: Path) -> None:
    """A preview never fetches a reference it rendered: the repository can go away."""
    repo = tmp_path / "repo"
    part = ManifestPart("base", git_repository(repo), "kustomize", "demo.yaml")
    cls = with_parts(part)
    source = UpstreamSource(cache=tmp_path / "renders")
    first = layout(demo_install(cls, source))
    shutil.rmtree(repo)
    assert layout(demo_install(cls, source)) == first


def test_filters_hold_for_an_upstream_source(render_tools: Path, tmp_path: Path) -> None:
    """`exclude`, the component's own `include` and `create_namespace: false`."""
    cls = with_parts(ManifestPart("base", str(kustomization(tmp_path / "k")), "kustomize", ""))
    source = UpstreamSource(cache=tmp_path / "renders")
    recorder = demo_install(
        cls,
        source,
        namespace="other",
        create_namespace=False,
        exclude=[lambda o: o["metadata"]["name"] == "object-store"],
    )
    kinds = {(r.inputs["kind"], r.inputs["metadata"]["name"]) for r in kube_objects(recorder)}
    assert ("Deployment", "widget-controller") in kinds
    assert not {("Deployment", "object-store"), ("Widget", "w"), ("Namespace", "demo")} & kinds


def test_objects_are_aliased_to_their_names_under_the_provider_side_render(
    render_tools: Path, tmp_path: Path
) -> None:
    """Stacks made before rendered each part as a provider-side Directory, Chart or
    ConfigFile `<component>-<part>`, whose children were `<component>-<part>:<ns>/<name>`."""
    folder = str(kustomization(tmp_path / "k"))
    renders: tuple[tuple[UpstreamKind, str], ...] = (
        ("kustomize", folder),
        ("helm", str(chart(tmp_path / "chart"))),
    )
    for kind, location in renders:
        part = ManifestPart("base", location, kind, "", chart="demo", namespace="demo")
        recorder = demo_install(with_parts(part), UpstreamSource(cache=tmp_path / "renders"))
        (component,) = recorder.of_type(Demo.TYPE)
        under_render = f"{component.urn.rpartition('::')[0]}${RENDER_TYPES[kind]}"
        by_name = {r.name: r for r in kube_objects(recorder)}
        # a ConfigMap without a namespace: the provider's default, or the chart's release one
        old_config = "c-base:default/settings" if kind == "kustomize" else "c-base:demo/settings"
        for name, old in (
            ("c:demo/widget-controller", "c-base:demo/widget-controller"),
            ("c:widgets.example.com", "c-base:widgets.example.com"),
            ("c:settings", old_config),
        ):
            resource = by_name[name]
            assert f"{under_render}${resource.type}::{old}" in resource.alias_urns, (kind, name)


@pytest.mark.parametrize(
    ("component_id", "settings"),
    [
        ("pipelines", {}),  # two parts
        ("kserve", {"version": "v0.18.0"}),  # a release file the mirror splits in four
        ("spark-operator", {"job_namespaces": ["a", "b"]}),  # a chart, objects repeated
        ("model-registry", {"database": "postgres"}),  # a part chosen by a setting
    ],
)
def test_a_component_registers_the_same_resources_from_either_source(
    component_id: str, settings: dict[str, Any]
) -> None:
    """The pinned upstream (rendered here from the mirror's files) and the mirror: the same
    resources, save the upstream's aliases to the provider-side renders of stacks before."""
    entry = CATALOG[component_id]
    with cached_loads():
        args = entry.args_cls(**settings)
        upstream = layout(install(entry.cls, args, component_id))
    mirror = layout(mirror_install(entry.cls, **settings))
    assert {k: (v[0], v[2]) for k, v in upstream.items()} == {
        k: (v[0], v[2]) for k, v in mirror.items()
    }
    # The same install order, though the mirror splits a release file or a chart in parts
    assert applied_before(upstream) == applied_before(mirror)


def test_kfp_leaves_seaweedfs_out_of_an_upstream_install_with_an_s3_store() -> None:
    store = S3ArtifactSettings(
        bucket="team-kfp-artifacts", region="eu-west-1", credentials_secret="kfp-s3"
    )
    recorder = install(KubeflowPipelines, PipelinesArgs(artifact_store=store), "kfp")
    objects = [r.inputs for r in kube_objects(recorder)]
    assert len(objects) > 70 and not [o for o in objects if is_bundled_object_store(o)]


def test_the_dashboard_leaves_istio_out_of_an_upstream_install() -> None:
    """Upstream's kserve overlay includes the istio one: without Istio, filtered out."""
    source = MIRROR / "centraldashboard" / "v1.10.0" / "kserve.yaml"
    assert "VirtualService" in source.read_text(encoding="utf-8")
    recorder = install(CentralDashboard, CentralDashboardArgs(istio=True, kserve_menu=True))
    assert "VirtualService" in {r.inputs["kind"] for r in kube_objects(recorder)}
    recorder = install(CentralDashboard, CentralDashboardArgs())
    assert not {r.inputs["kind"] for r in kube_objects(recorder)} & {
        "VirtualService",
        "AuthorizationPolicy",
    }
