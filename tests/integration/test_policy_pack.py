"""The policy pack through the real engine: `pulumi preview --policy-pack policy`, started
through our language host's RunPlugin, on a `ci`-like render stack with injected violations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.preview_summary import markdown, read_steps, read_violations
from tests.engine import PulumiProject, Stack
from tests.paths import MIRROR, REPO

pytestmark = pytest.mark.integration

POLICY = REPO / "policy"

# Appended to the program: objects that each break one policy. The first alone is "one
# injected violation"; INJECT_ALL adds one per other policy.
PINNED = """
from components.objects import KubernetesObject as _Object

_opts = pulumi.ResourceOptions(provider=cluster.provider)
_requests = {"requests": {"cpu": "10m", "memory": "16Mi"}}
_Object("injected:kubeflow/moving-tag", {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "moving-tag", "namespace": "kubeflow"},
    "spec": {"selector": {"matchLabels": {"app": "m"}}, "template": {
        "metadata": {"labels": {"app": "m"}},
        "spec": {"containers": [{"name": "m", "image": "busybox:latest", "resources": _requests}]},
    }},
}, _opts)
"""
OTHERS = """
_Object("injected:kubeflow/no-requests", {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "no-requests", "namespace": "kubeflow"},
    "spec": {"selector": {"matchLabels": {"app": "r"}}, "template": {
        "metadata": {"labels": {"app": "r"}},
        "spec": {"containers": [{"name": "r", "image": "busybox:1.37.0"}]},
    }},
}, _opts)
_Object("injected:unlabelled", {
    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "unlabelled"},
}, _opts)
_Object("injected:fail-open", {
    "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
    "metadata": {"name": "fail-open"},
    "webhooks": [{
        "name": "fail-open.example.org", "failurePolicy": "Ignore", "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "clientConfig": {"service": {"name": "hook", "namespace": "kubeflow"}},
    }],
}, _opts)
# A Secret registered without marking its data secret (KubernetesObject would mark it); the
# Kubernetes provider's Check marks it before the policies see it (below).
pulumi.CustomResource("kubernetes:core/v1:Secret", "injected:kubeflow/plain-secret", {
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "plain-secret", "namespace": "kubeflow"},
    "stringData": {"token": "not-so-secret"},
}, _opts)
_Object("injected:kubeflow/bad-port", {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "bad-port", "namespace": "kubeflow"},
    "spec": {"selector": {"app": "m"}, "ports": [{"name": "http", "port": "eighty"}]},
}, _opts)
_widgets = {"type": "object", "properties": {"spec": {"type": "object", "required": ["size"],
    "properties": {"size": {"type": "integer", "minimum": 1}}}}}
_crd = _Object("injected:widgets.example.org", {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.org"},
    "spec": {"group": "example.org", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": _widgets}}]},
}, _opts)
_Object("injected:kubeflow/widget", {
    "apiVersion": "example.org/v1", "kind": "Widget",
    "metadata": {"name": "widget", "namespace": "kubeflow"}, "spec": {"size": 0},
}, pulumi.ResourceOptions(provider=cluster.provider, depends_on=[_crd]))
"""
# policy -> the injected object's URN name that breaks it
INJECTED = {
    "pinned-images": "injected:kubeflow/moving-tag",
    "container-requests": "injected:kubeflow/no-requests",
    "namespace-pod-security": "injected:unlabelled",
    "webhook-failure-policy": "injected:fail-open",
    "kubernetes-schema": "injected:kubeflow/bad-port",
    "custom-resource-schema": "injected:kubeflow/widget",
}


def ci_config(project: PulumiProject) -> dict[str, Any]:
    """The ci stack's settings (render mode, the mirror), with Kubeflow Pipelines only."""
    return {
        "cluster": "render",
        "manifestMirror": str(MIRROR),
        "renderDir": str(project.root / "rendered"),
        "components": ["pipelines"],
        "pipelines": {"version": "2.15.0"},
    }


def preview(stack: Stack, pack_config: dict[str, Any]) -> tuple[int, str, list[Any]]:
    """`pulumi preview` with the pack and `pack_config`: exit code, output, violations."""
    config_file = stack.project.root / f"{stack.name}.policy.json"
    config_file.write_text(json.dumps(pack_config))
    events = stack.project.root / f"{stack.name}.events.jsonl"
    events.unlink(missing_ok=True)
    result = stack.pulumi(
        "preview",
        "--policy-pack",
        str(POLICY),
        "--policy-pack-config",
        str(config_file),
        "--event-log",
        str(events),
        check=False,
        timeout=900,
    )
    lines = events.read_text().splitlines()
    return result.returncode, result.output, read_violations(lines)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    if not (POLICY / "venv" / "bin" / "python").exists():
        raise AssertionError("the policy pack has no virtualenv; fix: run `make setup`")
    return PulumiProject.create(tmp_path_factory.mktemp("policy"))


def with_program(project: PulumiProject, extra: str) -> None:
    program = (REPO / "infra" / "__main__.py").read_text()
    (project.root / "infra" / "__main__.py").write_text(program + extra)


@pytest.fixture(scope="module", autouse=True)
def debug_commands() -> Iterator[None]:
    """--event-log is behind PULUMI_DEBUG_COMMANDS (the engine environment copies os.environ)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULUMI_DEBUG_COMMANDS", "true")
        yield


def test_one_mandatory_violation_fails_the_preview_and_passes_when_advisory(
    project: PulumiProject,
) -> None:
    with_program(project, PINNED)
    stack = project.stack("ci", ci_config(project))
    base = {"webhook-failure-policy": {"clusterMode": "render"}}

    code, output, violations = preview(stack, base)
    assert code != 0, output[-3000:]
    mandatory = [v for v in violations if v.level == "mandatory"]
    assert [(v.policy, v.urn.split("::")[-1]) for v in mandatory] == [
        ("pinned-images", "injected:kubeflow/moving-tag")
    ], output[-3000:]
    assert "image 'busybox:latest' uses the moving tag 'latest'" in mandatory[0].problem
    assert mandatory[0].fix.startswith("pin the image")
    # The platform as shipped breaks no mandatory policy; its containers without requests
    # are advisory.
    assert {v.policy for v in violations if v.level == "advisory"} == {"container-requests"}

    code, output, violations = preview(stack, {**base, "pinned-images": "advisory"})
    assert code == 0, output[-3000:]
    assert [v for v in violations if v.level == "mandatory"] == []
    assert "injected:kubeflow/moving-tag" in [
        v.urn.split("::")[-1] for v in violations if v.policy == "pinned-images"
    ]


def test_each_policy_reports_its_injected_object_through_the_engine(
    project: PulumiProject,
) -> None:
    with_program(project, PINNED + OTHERS)
    stack = project.stack("ci-all", ci_config(project))
    code, output, violations = preview(stack, {"webhook-failure-policy": {"clusterMode": "render"}})
    assert code != 0
    found = {(v.policy, v.urn.split("::")[-1]) for v in violations}
    for policy, name in INJECTED.items():
        assert (policy, name) in found, f"{policy} did not report {name}:\n{output[-4000:]}"
    assert "not-so-secret" not in output
    # pulumi-kubernetes 4.25's Check turns stringData into data marked secret, so even the
    # plain injected Secret reaches the policies as secret; the pack reads that secretness
    # from the engine's request (were it lost, every Secret here would violate).
    assert not [v for v in violations if v.policy == "secret-data-encrypted"], output[-3000:]
    # build/preview/<stack>.md's section: per component, with policy, object and fix.
    events = (project.root / "ci-all.events.jsonl").read_text().splitlines()
    text = markdown("ci-all", read_steps(events), read_violations(events))
    assert "| mandatory | webhook-failure-policy | `kubernetes:admissionregistration" in text
    assert "**KubeflowPipelines**" in text  # the shipped objects' advisory requests
