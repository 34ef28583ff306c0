"""What the e2e modules that run the platform on the local cluster check and share: the
stack's objects read from its state, the API server's own, their readiness, and the end of a
module's cluster."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import dynamic

from infra import local_cluster
from tests.engine import Stack, step_timer
from tests.paths import REPO

PLATFORM_TIMEOUT = 2400
"""Seconds an `up` or `destroy` of the full platform may take."""


def stop_everything(
    stack: Stack, name: str, timings: dict[str, float], *, destroy: bool = True
) -> None:
    """Destroy what is left (after a failure too; `destroy`), stop the cluster, keep the
    module's `timings` in build/e2e-<name>-timings.json."""
    cluster = stack.project.root / "cluster"
    if local_cluster.is_running(cluster) and destroy:
        with step_timer(timings)("destroy"):
            stack.pulumi(
                "destroy", "--yes", "--skip-preview", check=False, timeout=PLATFORM_TIMEOUT
            )
    if local_cluster.is_running(cluster):
        local_cluster.stop(cluster)
    out = REPO / "build" / f"e2e-{name}-timings.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(timings, indent=2) + "\n")


def stack_objects(stack: Stack) -> list[dict[str, Any]]:
    """The Kubernetes objects in the stack's state, as their outputs (live fields)."""
    state = json.loads(stack.pulumi("stack", "export").stdout)
    return [
        {**r["outputs"], "_retain": r.get("retainOnDelete", False)}
        for r in state["deployment"].get("resources") or []
        if r["type"].startswith("kubernetes:") and "kind" in (r.get("outputs") or {})
    ]


def key(obj: Any) -> tuple[str, str, str]:
    metadata = obj["metadata"]
    return (obj["kind"], metadata.get("namespace") or "", metadata["name"])


def live(client: dynamic.DynamicClient, obj: Any) -> Any:
    """The API server's copy of `obj` (NotFoundError when it has none)."""
    api = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return api.get(name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace"))


def condition(obj: Any, kind: str) -> bool:
    """Whether `obj` (a dict, as the API returns it) has condition `kind` True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == kind and c["status"] == "True" for c in conditions)


def rolled_out(deployment: Any) -> bool:
    """`kubectl rollout status`'s test: the controller saw the latest spec, and every replica
    runs the latest pod template and is available (none of an older one left)."""
    status = deployment.get("status") or {}
    wanted = deployment["spec"].get("replicas", 1)
    counts = [status.get(n, 0) for n in ("updatedReplicas", "replicas", "availableReplicas")]
    seen = status.get("observedGeneration") == deployment["metadata"]["generation"]
    return seen and counts == [wanted] * 3


def assert_ready(stack: Stack, at_least: int = 60) -> None:
    """Every CRD of the stack Established, every Deployment Available and rolled out, read
    from the API."""
    client = stack.kube()
    objects = stack_objects(stack)
    kinds = {"CustomResourceDefinition": "Established", "Deployment": "Available"}
    checked = 0
    for obj in objects:
        if obj["kind"] not in kinds:
            continue
        found = live(client, obj).to_dict()
        assert condition(found, kinds[obj["kind"]]), key(obj)
        if obj["kind"] == "Deployment":
            assert rolled_out(found), key(obj)
        checked += 1
    assert checked >= at_least


def live_objects(stack: Stack, kinds: list[tuple[str, str]], namespaces: set[str]) -> set[Any]:
    """The API server's objects of `kinds` in `namespaces` (cluster-scoped: all of them),
    without those Kubernetes itself makes."""
    client = stack.kube()
    found = set()
    for api_version, kind in kinds:
        api = client.resources.get(api_version=api_version, kind=kind)
        for item in api.get().to_dict()["items"]:
            namespace = item["metadata"].get("namespace") or ""
            if api.namespaced and namespace not in namespaces:
                continue
            if item["metadata"]["name"] in ("default", "kube-root-ca.crt"):
                continue  # every namespace's own ServiceAccount and CA bundle
            found.add(key({**item, "kind": kind}))
    return found


COMPARED_KINDS = [
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
]


def namespaces(stack: Stack) -> set[str]:
    return {o["metadata"]["name"] for o in stack_objects(stack) if o["kind"] == "Namespace"} | {
        "kubeflow"
    }
