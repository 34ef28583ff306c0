"""Every namespace a component creates enforces its Pod Security level, warns and audits at
restricted; the levels are data with a reason each."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import (
    CertManager,
    CertManagerArgs,
    KServe,
    KServeArgs,
    KubeflowPipelines,
    PipelinesArgs,
)
from components.catalog import CATALOG
from components.manifests import KubeObject
from components.pod_security import LEVELS, pod_security_level, pod_security_levels
from components.transforms import POD_SECURITY, label_pod_security
from tests.paths import MIRROR
from tests.unit.component_helpers import install, registered
from tests.unit.mirror_helpers import named, small_mirror
from tests.unit.mocks import Recorder


def labels(recorder: Recorder, namespace: str) -> dict[str, str]:
    metadata = registered(recorder, "Namespace", namespace).inputs["metadata"]
    found: dict[str, str] = metadata["labels"]
    return found


def test_pipelines_namespace_is_baseline_with_restricted_warnings(tmp_path: Path) -> None:
    mirror = small_mirror(
        tmp_path,
        "kfp",
        "2.15.0",
        ("cluster-scoped.yaml", "platform-agnostic.yaml"),
        named("Namespace"),
    )
    recorder = install(KubeflowPipelines, PipelinesArgs(source=mirror))
    assert (
        labels(recorder, "kubeflow").items()
        >= {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        }.items()
    )


def test_a_namespace_the_component_adds_is_labelled_too(tmp_path: Path) -> None:
    # KServe v0.18.0's release file no longer carries its Namespace: the component adds it
    files = tuple(p.name for p in (MIRROR / "kserve" / "v0.18.0").glob("*.yaml"))
    mirror = small_mirror(tmp_path, "kserve", "v0.18.0", files, named("ConfigMap"))
    recorder = install(KServe, KServeArgs(version="v0.18.0", source=mirror))
    assert labels(recorder, "kserve")["pod-security.kubernetes.io/enforce"] == "privileged"


def test_a_level_upstream_enforces_is_kept(tmp_path: Path) -> None:
    """Upstream's own levels win over the ones the component would set: here cert-manager's
    Namespace enforcing privileged and warning at baseline (the component's: restricted)."""

    def upstream_levels(namespace: KubeObject) -> KubeObject:
        labels = {f"{POD_SECURITY}/enforce": "privileged", f"{POD_SECURITY}/warn": "baseline"}
        namespace["metadata"]["labels"] = labels
        return namespace

    files = ("cert-manager.yaml",)
    mirror = small_mirror(
        tmp_path, "cert-manager", "v1.19.4", files, named("Namespace"), upstream_levels
    )
    recorder = install(CertManager, CertManagerArgs(source=mirror, kubeflow_issuer=False))
    assert pod_security_level("cert-manager") == "restricted"
    found = labels(recorder, "cert-manager")
    assert found[f"{POD_SECURITY}/enforce"] == "privileged"
    assert found[f"{POD_SECURITY}/warn"] == "baseline"
    assert found[f"{POD_SECURITY}/audit"] == "restricted"  # upstream sets none: the component's


def test_only_namespaces_are_labelled() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    assert label_pod_security("baseline")(deployment) is deployment


def test_every_installable_project_has_a_level_and_a_reason() -> None:
    projects = {entry.cls.COMPONENT for entry in CATALOG.values()} | {"trainer"}
    levels = pod_security_levels()
    assert projects <= set(levels)
    for project, entry in levels.items():
        assert entry.level in LEVELS and len(entry.reason) > 20, project


@pytest.mark.parametrize("project", ["kfp", "katib", "kserve", "training-operator"])
def test_components_below_restricted_say_why(project: str) -> None:
    entry = pod_security_levels()[project]
    assert entry.level != "restricted" and entry.reason
