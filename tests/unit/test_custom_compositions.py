"""Custom compositions: the serving stack from config and the Python program in examples/."""

from __future__ import annotations

import runpy

import pytest

from components import CertManager, KServe
from components.objects import INSTALL_TIERS
from tests.paths import MIRROR, REPO
from tests.unit.component_helpers import required_waits
from tests.unit.mocks import Recorder, run, run_stack


def components_of(recorder: Recorder) -> dict[str, str]:
    return {
        r.type.rsplit(":", 1)[-1]: r.urn
        for r in recorder.registered
        if r.type.startswith("kubeflow:components:")
    }


@pytest.mark.usefixtures("kube_bin")
def test_serving_stack_installs_only_serving_and_kserve_waits_for_cert_manager() -> None:
    recorder = run_stack("serving")
    assert set(components_of(recorder)) == {"CertManager", "KServe", "ModelRegistry"}
    tiers, expected = required_waits(recorder, KServe.TYPE, CertManager.TYPE)
    assert set(tiers) == set(range(INSTALL_TIERS)) and tiers == expected


def test_python_program_composes_components_with_its_own_provider() -> None:
    program = REPO / "examples" / "serving" / "__main__.py"
    recorder = run(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        stack="dev",
        config={"serving:manifestMirror": str(MIRROR)},
    )
    installed = components_of(recorder)
    assert set(installed) == {"CertManager", "KServe", "ModelRegistry"}
    tiers, expected = required_waits(recorder, KServe.TYPE, CertManager.TYPE)
    assert set(tiers) == set(range(INSTALL_TIERS)) and tiers == expected
    provider = next(r for r in recorder.registered if r.type == "pulumi:providers:kubernetes")
    assert provider.name == "serving"
    objects = [
        r for r in recorder.registered if r.type.startswith("kubernetes:") and "kind" in r.inputs
    ]
    assert objects and all(provider.urn in r.provider for r in objects)
    registry = [r.inputs for r in objects if r.parent == installed["ModelRegistry"]]
    namespaced = [o for o in registry if o["kind"] in ("Deployment", "Service")]
    assert namespaced and all(o["metadata"]["namespace"] == "model-registry" for o in namespaced)
