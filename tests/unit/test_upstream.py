"""One install path: the pinned upstream and a mirror give a component the same objects.

A small synthetic component is installed from local upstreams rendered by the real tools
(a kustomization folder, a Helm chart, a git repository, a release file) and from a
mirror holding the same objects: the resources are the same (types, names, parents, inputs,
install order). The platform's components are installed from both sources too (the pinned
references render from the mirror here: GitHub is out of reach), with their filters.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from components import (
    CentralDashboardArgs,
    KubeflowPipelines,
    MirrorSource,
    PipelinesArgs,
    UpstreamSource,
)
from components.base import ComponentArgs, KubeflowComponent
from components.catalog import CATALOG
from components.central_dashboard import CentralDashboard
from components.manifests import KubeObject, ManifestPart
from components.upstream import RENDER_TYPES
from pipelines.artifact_store import S3ArtifactSettings, is_bundled_object_store
from tests.unit.component_helpers import install, kube_objects, mirror_install
from tests.unit.mirror_helpers import cached_loads, without_crd_schemas
from tests.unit.mocks import MIRROR, Recorder

CRD: KubeObject = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}


def _deployment(name: str) -> KubeObject:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "demo", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": f"example.com/{name}:1.0"}]},
            },
        },
    }


OBJECTS: list[KubeObject] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
    {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "widget-controller", "namespace": "demo"},
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}},
    _deployment("widget-controller"),
    _deployment("object-store"),
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "widgets.example.com"},
        "webhooks": [
            {
                "name": "validate.widgets.example.com",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "clientConfig": {"service": {"name": "widget-controller", "namespace": "demo"}},
            }
        ],
    },
    {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "demo"},
    },
]
"""Small synthetic objects, one of each install tier (the CRD is the chart's `crds/`)."""


class Demo(KubeflowComponent):
    """A component of synthetic objects; `with_parts` gives it a version table."""

    COMPONENT = "demo"
    TYPE = "kubeflow:test:Demo"
    DEFAULT_VERSION = "v1"
    UPSTREAM_NAMESPACE = "demo"
    VERSIONS: ClassVar[Mapping[str, tuple[ManifestPart, ...]]] = {}

    def include(self, obj: KubeObject) -> bool:
        """A filter of the component's own: the Widget only in its upstream namespace."""
        return obj["kind"] != "Widget" or self.resolved_namespace == "demo"


def with_parts(*parts: ManifestPart) -> type[Demo]:
    return type("Demo", (Demo,), {"VERSIONS": {"v1": parts}})


def write_yaml(path: Path, objects: list[KubeObject]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    return path


def demo_mirror(root: Path) -> MirrorSource:
    """A mirror holding the synthetic objects as `demo/v1/demo.yaml`."""
    write_yaml(root / "demo" / "v1" / "demo.yaml", [CRD, *OBJECTS])
    return MirrorSource(root)


def kustomization(folder: Path) -> Path:
    write_yaml(folder / "objects.yaml", [CRD, *OBJECTS])
    (folder / "kustomization.yaml").write_text("resources: [objects.yaml]\n", encoding="utf-8")
    return folder


def chart(folder: Path) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n", "utf-8")
    write_yaml(folder / "crds" / "widgets.yaml", [CRD])
    write_yaml(folder / "templates" / "objects.yaml", OBJECTS)
    return folder


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def git_repository(repo: Path) -> str:
    """A git repository with the kustomization in `manifests/` at tag v1; its pinned URL."""
    kustomization(repo / "manifests")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    return f"file://{repo}//manifests?ref=v1"


def layout(recorder: Recorder) -> dict[str, tuple[str, frozenset[str], str]]:
    """Each Kubernetes object by `<kind>::<resource name>` (its identity in the URN): its
    parent, what it waits for and its inputs."""
    names = {r.urn: f"{r.type.rpartition(':')[2]}::{r.name}" for r in recorder.registered}
    return {
        names[r.urn]: (
            names.get(r.parent, r.parent),
            frozenset(names[d] for d in r.dependencies if d in names),
            json.dumps(r.inputs, sort_keys=True),
        )
        for r in kube_objects(recorder)
    }


def applied_before(resources: dict[str, tuple[str, frozenset[str], str]]) -> dict[str, set[str]]:
    """Each object -> every object applied before it (what it waits for, transitively)."""
    before: dict[str, set[str]] = {}

    def visit(name: str) -> set[str]:
        if name not in before:
            direct = resources[name][1]
            before[name] = set(direct).union(*(visit(d) for d in direct))
        return before[name]

    for name in resources:
        visit(name)
    return before


def demo_install(cls: type[Demo], source: Any, **settings: Any) -> Recorder:
    return install(cls, ComponentArgs(source=source, **settings))


PART = ManifestPart("base", "", "kustomize", "demo.yaml")


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
    render_tools: Path, tmp_path: Path, upstream: Callable[[Path], tuple[str, str]]
) -> None:
    location, kind = upstream(tmp_path)
    part = ManifestPart("base", location, kind, "demo.yaml", chart="demo", namespace="demo")
    cls = with_parts(part)
    from_upstream = demo_install(cls, UpstreamSource(cache=tmp_path / "renders"))
    from_mirror = demo_install(cls, demo_mirror(tmp_path / "mirror"))
    assert layout(from_upstream) == layout(from_mirror)
    assert len(layout(from_upstream)) == len(OBJECTS) + 1
    # the install order: the Widget waits for its CRD, the webhook for the controller
    waits_for = {name: after for name, (_, after, _) in layout(from_upstream).items()}
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
    for kind, location in (("kustomize", folder), ("helm", str(chart(tmp_path / "chart")))):
        part = ManifestPart("base", location, kind, "", chart="demo", namespace="demo")
        recorder = demo_install(with_parts(part), UpstreamSource(cache=tmp_path / "renders"))
        (component,) = recorder.of_type(Demo.TYPE)
        render = f"{component.urn.rpartition('::')[0]}${RENDER_TYPES[kind]}::c-base"
        by_name = {r.name: r for r in kube_objects(recorder)}
        # a ConfigMap without a namespace: the provider's default, or the chart's release one
        old_config = "c-base:default/settings" if kind == "kustomize" else "c-base:demo/settings"
        for name, old in (
            ("c:demo/widget-controller", "c-base:demo/widget-controller"),
            ("c:widgets.example.com", "c-base:widgets.example.com"),
            ("c:settings", old_config),
        ):
            aliases = dict(zip(by_name[name].aliases, by_name[name].alias_parents, strict=True))
            assert aliases.get(old) == render, (kind, name, aliases)


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
        args = entry.args_cls(transforms=[without_crd_schemas], **settings)
        upstream = layout(install(entry.cls, args, component_id))
    mirror = layout(mirror_install(entry.cls, **settings))
    assert {k: (v[0], v[2]) for k, v in upstream.items()} == {
        k: (v[0], v[2]) for k, v in mirror.items()
    }
    # The same install order: a mirror-only part (a chart's CRDs, a split release file)
    # orders its objects only against the other parts' CRDs, which upstream applies at once.
    upstream_order, mirror_order = applied_before(upstream), applied_before(mirror)
    for name, before in upstream_order.items():
        if name.startswith("CustomResourceDefinition::"):
            assert before <= mirror_order[name], name
        else:
            assert before == mirror_order[name], name


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
