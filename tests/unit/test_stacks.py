"""Every stack in stacks/ loads and builds its resource graph under mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.catalog import CATALOG
from tests.unit.mocks import REPO, run_stack

STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))


@pytest.fixture(autouse=True)
def kube_bin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The local stack needs the control-plane binaries' folder to exist."""
    monkeypatch.setenv("KUBEFLOW_KUBE_BIN_DIR", str(tmp_path))


def test_there_is_a_stack_per_environment():
    assert {"ci", "dev", "local", "prod", "staging"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_builds_its_resource_graph(stack):
    recorder = run_stack(stack)
    types = {r.type for r in recorder.registered}
    enabled = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"][
        "kubeflow:components"
    ]
    components = {t for t in types if t.startswith("kubeflow:components:")}
    assert components == {CATALOG[c].cls.TYPE for c in enabled}
    assert "kubeflow:platform:KubeflowPlatform" in types
    assert "pulumi:providers:kubernetes" in types
    platform = next(
        r for r in recorder.registered if r.type == "kubeflow:platform:KubeflowPlatform"
    )
    provider = next(r for r in recorder.registered if r.type == "pulumi:providers:kubernetes")
    modes = {"ci": "render", "dev": "kind", "local": "local", "serving": "local"}
    assert provider.name == modes.get(stack, "existing")
    assert platform.provider == "" or provider.urn in platform.provider


def test_prod_settings_reach_the_objects():
    recorder = run_stack("prod")
    api = (
        next(
            r.inputs
            for r in recorder.registered
            if r.type == "kubernetes:apps/v1:Deployment" and r.name.endswith("/ml-pipeline")
        )
        if any(r.type == "kubernetes:apps/v1:Deployment" for r in recorder.registered)
        else None
    )
    # prod renders upstream with the provider: settings travel as a transform on the Directory.
    directories = [
        r
        for r in recorder.registered
        if r.type == "kubernetes:kustomize/v2:Directory" and r.name.startswith("pipelines-")
    ]
    assert api is None and len(directories) == 2
    assert all("?ref=2.15.0" in d.inputs["directory"] for d in directories)
