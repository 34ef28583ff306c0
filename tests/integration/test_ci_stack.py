"""The real Pulumi engine on render-mode stacks: no cluster, manifests written to disk."""

from __future__ import annotations

import base64
import json
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from components.manifests import load_objects
from tests.engine import PulumiProject, Stack
from tests.integration.conftest import RealKfp
from tests.paths import KFP_MIRROR, MIRROR, kfp_objects
from tests.unit.mirror_helpers import schema_descriptions

pytestmark = pytest.mark.integration

TOKEN = f"kfp-token-{secrets.token_hex(12)}"
# KFP's S3 credentials: the access key pair of its object store, a Secret in the manifests.
S3_CREDENTIALS = "mlpipeline-minio-artifact"
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
def ci(project: PulumiProject, real_kfp: RealKfp) -> Stack:
    """The ci stack, previewed then deployed once for the tests of this module; it uploads
    the iris example pipeline to the session's KFP API with a bearer token (a secret)."""
    examples = {"apiUrl": real_kfp.api_url, "pipelines": ["iris"]}
    stack = project.stack(
        "ci", render_config(project.root / "rendered-ci", examplePipelines=examples)
    )
    token = "kubeflow:examplePipelines.token"
    stack.pulumi("config", "set", "--secret", "--path", token, TOKEN)
    preview = stack.preview_steps()
    creates = [s for s in preview["steps"] if s["op"] == "create"]
    assert len([s for s in creates if "KubeflowPipelines$" in s["urn"]]) == 86
    stack.up()
    return stack


def test_up_renders_exactly_the_upstream_objects(ci: Stack) -> None:
    out = ci.project.root / "rendered-ci"
    expected = identities(kfp_objects())
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
        for o in load_objects(KFP_MIRROR / "platform-agnostic.yaml")
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
            ("update", "pipelines:kubeflow/ml-pipeline")
        ]
        assert steps[0]["newState"]["inputs"]["spec"]["replicas"] == 2
    finally:
        ci.set_config("pipelines", {"version": "2.15.0"})


def test_keeping_crd_descriptions_updates_each_crd_in_place(ci: Stack) -> None:
    ci.set_config("crdDescriptions", True)
    try:
        steps = [s for s in ci.preview_steps()["steps"] if s["op"] != "same"]
        described = [
            o for o in load_objects(KFP_MIRROR / "cluster-scoped.yaml") if schema_descriptions(o)
        ]
        assert described and sorted((s["op"], s["urn"].split("::")[-1]) for s in steps) == sorted(
            ("update", f"pipelines:{o['metadata']['name']}") for o in described
        )
        assert all(schema_descriptions(s["newState"]["inputs"]) for s in steps)
    finally:
        ci.pulumi("config", "rm", "kubeflow:crdDescriptions")


def test_secret_data_is_encrypted_in_the_state(ci: Stack) -> None:
    state = ci.state()
    secrets = [
        o for o in load_objects(KFP_MIRROR / "platform-agnostic.yaml") if o["kind"] == "Secret"
    ]
    values = [v for s in secrets for v in {**s.get("stringData", {}), **s.get("data", {})}.values()]
    plain = [base64.b64decode(v).decode() for s in secrets for v in s.get("data", {}).values()]
    assert values, "the KFP manifests hold Secrets"
    for value in [*values, *plain]:
        if len(value) >= 4:
            assert json.dumps(value) not in state, value
    # Each Secret's data is stored as Pulumi ciphertext: the secret signature with a ciphertext.
    signature = '"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270"'
    assert state.count(signature) >= len(secrets)


def leaked_forms(value: str) -> set[str]:
    """How a secret reads when it leaks: quoted (JSON), base64 (a Secret's `data`), and as is
    when it is long enough not to be part of other words (`minio` is in object names)."""
    forms = {json.dumps(value), base64.b64encode(value.encode()).decode()}
    return forms | {value} if len(value) >= 8 else forms


def test_no_secret_value_in_the_state_the_outputs_or_any_log(ci: Stack) -> None:
    [credentials] = [
        o
        for o in load_objects(KFP_MIRROR / "platform-agnostic.yaml")
        if o["kind"] == "Secret" and o["metadata"]["name"] == S3_CREDENTIALS
    ]
    values = {"KFP token": TOKEN, **credentials["stringData"]}
    assert set(values) == {"KFP token", "accesskey", "secretkey"}
    places = {
        "state file": ci.state(),
        "stack outputs": ci.pulumi("stack", "output", "--json").stdout,
        # Not even as a secret output: the outputs never carry these values.
        "stack outputs --show-secrets": json.dumps(ci.outputs()),
        **{
            f"log of command {n} (pulumi {' '.join(r.args)})": r.output
            for n, r in enumerate(ci.project.history)
        },
    }
    logged = {r.args[0] for r in ci.project.history}
    assert {"config", "preview", "up", "stack"} <= logged, logged
    found = [
        f"{name} {form!r} in {place}"
        for name, value in values.items()
        for form in leaked_forms(value)
        for place, text in places.items()
        if form in text
    ]
    assert found == []
    # The values went through the engine: the state holds them, encrypted.
    assert "ciphertext" in ci.state() and ci.outputs()["pipelines"]["iris"]["pipeline_id"]


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


def test_a_renamed_key_warns_and_moving_to_the_new_key_changes_nothing(
    project: PulumiProject,
) -> None:
    out = project.root / "rendered-renamed"
    config = {**render_config(out), "components": ["cert-manager"]}
    stack = project.stack("renamed", {**config, "certManager": {"kubeflowIssuer": False}})
    warning = (
        "warning: kubeflow:certManager is renamed kubeflow:cert-manager (the component id); its "
        "settings are used for now, but kubeflow:certManager will be removed in a later release"
    )
    assert warning in stack.up().output
    kinds = Counter(o["kind"] for o in rendered(out))
    assert kinds["Deployment"] == 3 and kinds["ClusterIssuer"] == 0  # kubeflowIssuer: false
    stack.pulumi("config", "rm", "kubeflow:certManager")
    stack.pulumi("config", "set", "--path", "kubeflow:cert-manager.kubeflowIssuer", "false")
    unchanged = stack.pulumi("preview", "--expect-no-changes")
    assert "is renamed" not in unchanged.output  # and no ClusterIssuer: the new key is read
    stack.pulumi("destroy", "--yes", "--skip-preview")
