"""One install path: the pinned upstream and a mirror give a component the same objects.

A small synthetic component is installed from local upstreams rendered by the real tools
(a kustomization folder, a Helm chart, a git repository, a release file) and from a
mirror holding the same objects: the resources are the same (types, names, parents, inputs,
install order). The platform's components are installed from both sources too (the pinned
references render from the mirror here: GitHub is out of reach), with their filters. Either
source is read (or rendered) once, while the settings are checked, before anything registers.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest

from components import (
    CentralDashboardArgs,
    CertManagerArgs,
    ComponentArgsError,
    KubeflowPipelines,
    PipelinesArgs,
    UpstreamSource,
    render,
)
from components.catalog import CATALOG
from components.central_dashboard import CentralDashboard
from components.manifests import ManifestError, ManifestPart, MirrorSource
from components.render import Reference
from components.upstream import RENDER_TYPES
from infra.config import ConfigError
from infra.kubeflow_platform import KubeflowPlatform
from pipelines.artifact_store import S3ArtifactSettings, is_bundled_object_store
from tests.paths import KFP_MIRROR, MIRROR
from tests.unit.component_helpers import install, kube_objects, mirror_install, refused
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
from tests.unit.mirror_helpers import cached_loads, named, small_mirror
from tests.unit.mocks import Recorder, run, run_stack

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


def ci_with(
    mirror: str = "", components: tuple[str, ...] = ("cert-manager", "pipelines")
) -> dict[str, Any]:
    """Overrides of the ci stack: `components` at their default versions, from `mirror` (or
    from the pinned upstream); by default cert-manager, then KFP."""
    return {
        "kubeflow:components": list(components),
        "kubeflow:manifestMirror": mirror,
        "kubeflow:release": "",
    }


def damage_kfp(mirror: Path) -> Path:
    """A mirror at `mirror` of cert-manager and KFP 2.15.0, whose KFP file
    platform-agnostic.yaml is not YAML; that file."""
    (mirror / "cert-manager").symlink_to(MIRROR / "cert-manager")
    kfp = mirror / "kfp" / "2.15.0"
    kfp.mkdir(parents=True)
    (kfp / "cluster-scoped.yaml").symlink_to(KFP_MIRROR / "cluster-scoped.yaml")
    damaged = kfp / "platform-agnostic.yaml"
    damaged.write_text(
        (KFP_MIRROR / "platform-agnostic.yaml").read_text()[:5000] + "\n  - [unclosed\n"
    )
    return damaged


def test_a_damaged_mirror_file_of_the_second_component_registers_nothing(tmp_path: Path) -> None:
    """Every component's manifests are read while the settings are checked, before any
    component registers: a file that is not YAML stops the stack with its path and the fix,
    not halfway through it."""
    damaged = damage_kfp(tmp_path)
    recorder = Recorder()
    with pytest.raises(ConfigError) as error:
        run_stack("ci", ci_with(str(tmp_path)), recorder)
    (problem,) = [line for line in str(error.value).splitlines() if str(damaged) in line]
    assert problem.startswith(f"  - kubeflow:pipelines: {damaged}: not valid YAML (")
    assert "; fix: render that part into the mirror again" in problem
    assert recorder.registered == []


def test_a_damaged_mirror_file_stops_a_python_platform_before_any_component(
    tmp_path: Path,
) -> None:
    """The same from a Python program: KubeflowPlatform checks every component's settings and
    manifests before it registers anything, itself included."""
    damaged = damage_kfp(tmp_path)
    source = MirrorSource(tmp_path)
    recorder = Recorder()
    with pytest.raises(ComponentArgsError, match=f"pipelines: {damaged}: not valid YAML"):
        run(
            lambda: KubeflowPlatform(
                "kubeflow",
                {
                    "cert-manager": CertManagerArgs(source=source),
                    "pipelines": PipelinesArgs(source=source),
                },
            ),
            recorder=recorder,
        )
    assert recorder.registered == []


def test_a_failed_render_of_the_second_component_registers_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The pinned upstream is rendered while the settings are checked too."""
    renderer = render.run_renderer  # the unit tests': from the mirror

    def failing(reference: Reference) -> tuple[str, str]:
        if "kubeflow/pipelines" in reference.location:
            raise ManifestError(f"cannot render {reference.describe()}; fix: reach it")
        return renderer(reference)

    monkeypatch.setattr(render, "run_renderer", failing)
    monkeypatch.setenv(render.CACHE_ENV, str(tmp_path))  # renders nothing cached before
    recorder = Recorder()
    with pytest.raises(ConfigError, match=r"kubeflow:pipelines: cannot render .*; fix: reach it"):
        run_stack("ci", ci_with(), recorder)
    assert recorder.registered == []


def test_a_stack_reads_each_mirror_file_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settings' check reads the manifests (the names in `replicas` are checked against
    them); the component's own check and its install take what it read."""
    files = ("cluster-scoped.yaml", "platform-agnostic.yaml")
    small_mirror(tmp_path, "kfp", "2.15.0", files, named("Deployment"))
    loads: Counter[str] = Counter()
    load = MirrorSource.load

    def counted(self: MirrorSource, folder: str, version: str, part: ManifestPart) -> Any:
        loads[f"{folder}/{version}/{part.mirror_file}"] += 1
        return load(self, folder, version, part)

    monkeypatch.setattr(MirrorSource, "load", counted)
    replicas = {"kubeflow:pipelines": {"replicas": {"ml-pipeline": 2}}}
    recorder = run_stack("ci", {**ci_with(str(tmp_path), ("pipelines",)), **replicas})
    assert "ml-pipeline" in {r.inputs["metadata"]["name"] for r in kube_objects(recorder)}
    assert loads == {f"kfp/2.15.0/{file}": 1 for file in files}


def test_an_install_from_another_source_reads_its_files_again(tmp_path: Path) -> None:
    """What a check read is held for its own source object only: a mirror damaged since is
    read again by an install from another source, even one of the same folder."""
    shutil.copytree(KFP_MIRROR, tmp_path / "kfp" / "2.15.0")
    checked = PipelinesArgs(source=MirrorSource(tmp_path))  # its source lives on
    assert KubeflowPipelines.problems(checked) == []
    (tmp_path / "kfp" / "2.15.0" / "platform-agnostic.yaml").write_text("- [unclosed\n")
    args = PipelinesArgs(source=MirrorSource(tmp_path))
    refused(KubeflowPipelines, args, "platform-agnostic.yaml: not valid YAML", ManifestError)
    assert checked.source is not None
