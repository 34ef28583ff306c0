"""The real Pulumi engine on render-mode stacks: no cluster, manifests written to disk."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components.manifests import load_objects
from tests.engine import MIRROR, PulumiProject, Stack

pytestmark = pytest.mark.integration

KFP = MIRROR / "kfp" / "2.15.0"
REGISTRY = "registry.example.com/kubeflow-mirror"


def identities(objects: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects
    )


def rendered(folder: Path) -> list[dict[str, Any]]:
    return [o for path in sorted(folder.rglob("*.yaml")) for o in load_objects(path)]


def render_config(render_dir: Path, **extra: Any) -> dict[str, Any]:
    return {
        "cluster": "render",
        "manifestMirror": str(MIRROR),
        "renderDir": str(render_dir),
        "components": ["pipelines"],
        "pipelines": {"version": "2.15.0"},
        **extra,
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    return PulumiProject.create(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def ci(project: PulumiProject) -> Stack:
    """The ci stack, previewed then deployed once for the tests of this module."""
    stack = project.stack("ci", render_config(project.root / "rendered-ci"))
    preview = stack.preview_steps()
    creates = [s for s in preview["steps"] if s["op"] == "create"]
    assert len([s for s in creates if "KubeflowPipelines$" in s["urn"]]) == 86
    stack.up()
    return stack


def test_up_renders_exactly_the_upstream_objects(ci: Stack) -> None:
    out = ci.project.root / "rendered-ci"
    expected = identities(load_objects(KFP / "cluster-scoped.yaml"))
    expected += identities(load_objects(KFP / "platform-agnostic.yaml"))
    assert identities(rendered(out)) == expected
    crds = rendered(out / "0-crd")
    assert len(crds) == 11 and {o["kind"] for o in crds} == {"CustomResourceDefinition"}


def test_rendered_objects_carry_the_upstream_content(ci: Stack) -> None:
    out = ci.project.root / "rendered-ci"
    api = next(
        o
        for o in rendered(out)
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "ml-pipeline"
    )
    upstream = next(
        o
        for o in load_objects(KFP / "platform-agnostic.yaml")
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "ml-pipeline"
    )
    assert api["spec"] == upstream["spec"]


def test_stack_outputs_name_the_install(ci: Stack) -> None:
    outputs = ci.outputs()
    assert outputs["components"]["pipelines"] == {
        "version": "2.15.0",
        "namespace": "kubeflow",
        "api_endpoint": "ml-pipeline.kubeflow.svc:8888",
        "ui_service": "ml-pipeline-ui.kubeflow.svc:80",
    }
    assert outputs["cluster"]["mode"] == "render"


def test_second_preview_expects_no_changes(ci: Stack) -> None:
    ci.pulumi("preview", "--expect-no-changes")


def test_changing_one_setting_previews_exactly_that_change(ci: Stack) -> None:
    ci.set_config("pipelines", {"version": "2.15.0", "replicas": {"ml-pipeline": 2}})
    try:
        steps = [s for s in ci.preview_steps()["steps"] if s["op"] != "same"]
        assert [(s["op"], s["urn"].split("::")[-1]) for s in steps] == [
            ("update", "pipelines-platform-agnostic:kubeflow/ml-pipeline")
        ]
        assert steps[0]["newState"]["inputs"]["spec"]["replicas"] == 2
    finally:
        ci.set_config("pipelines", {"version": "2.15.0"})


def test_secret_data_is_encrypted_in_the_state(ci: Stack) -> None:
    state = ci.state()
    secrets = [o for o in load_objects(KFP / "platform-agnostic.yaml") if o["kind"] == "Secret"]
    values = [v for s in secrets for v in {**s.get("stringData", {}), **s.get("data", {})}.values()]
    plain = [base64.b64decode(v).decode() for s in secrets for v in s.get("data", {}).values()]
    assert values, "the KFP manifests hold Secrets"
    for value in [*values, *plain]:
        if len(value) >= 4:
            assert json.dumps(value) not in state, value
    # Each Secret's data is stored as Pulumi ciphertext: the secret signature with a ciphertext.
    signature = '"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270"'
    assert state.count(signature) >= len(secrets)


def test_image_registry_stack_rewrites_every_image(project: PulumiProject) -> None:
    out = project.root / "rendered-mirror"
    stack = project.stack("registry", render_config(out, imageRegistry=REGISTRY))
    stack.up()
    images = [
        c["image"]
        for o in rendered(out)
        for c in ((o.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", [])
    ]
    assert len(images) == 14
    assert all(image.startswith(REGISTRY + "/") for image in images), images
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert rendered(out) == []


def test_destroy_and_stack_rm_leave_nothing(project: PulumiProject) -> None:
    out = project.root / "rendered-gone"
    stack = project.stack("gone", render_config(out))
    stack.up()
    assert rendered(out)
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert rendered(out) == []
    stack.pulumi("stack", "rm", "--yes")
    listed = json.loads(project.run("stack", "ls", "--json").stdout)
    assert "gone" not in [s["name"] for s in listed]
