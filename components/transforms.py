"""Customisation of rendered upstream objects, never by editing upstream YAML.

A transform takes one Kubernetes object (a dict) and returns the object to
apply: a changed deep copy, or the input itself when it does not concern it.
The same functions run on every object a component installs, whether a mirror
file or a render of the pinned upstream gave it, before it is registered.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from components.manifests import KubeObject

Transform = Callable[[KubeObject], KubeObject]

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)
"""Built-in kinds that run pods: a controller among them needs its CRDs at start."""
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet"})
"""The workload kinds whose `spec.replicas` the `replicas` setting sets."""
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "StorageClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "APIService",
        "PersistentVolume",
        "IngressClass",
        "RuntimeClass",
        # cluster-scoped custom resources of the components we install
        "ClusterIssuer",
        "ClusterServingRuntime",
        "ClusterStorageContainer",
        "ClusterTrainingRuntime",
        "ClusterWorkflowTemplate",
        "LocalModelCache",
        "LocalModelNode",
        "LocalModelNodeGroup",
    }
)

_IMAGE_REF = re.compile(r"^[\w.\-/:@]+$")
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.\-]*[a-z0-9])?(:\d+)?(/[a-z0-9._\-]+)*$")


def compose(transforms: list[Transform]) -> Transform:
    """One transform that applies `transforms` in order."""

    def apply(obj: KubeObject) -> KubeObject:
        for transform in transforms:
            obj = transform(obj)
        return obj

    return apply


def pod_spec(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside a workload object, or None for other kinds."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    if kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec")
    return None


def containers(obj: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every container and init container of a workload object."""
    spec = pod_spec(obj)
    if spec is None:
        return
    for key in ("initContainers", "containers"):
        yield from spec.get(key) or []


def is_valid_registry(registry: str) -> bool:
    """A registry host with an optional port and path, e.g. `registry.corp:5000/kf`.

    The host must look like one (a dot, a port or `localhost`), otherwise image
    references under it would be read as Docker Hub user names.
    """
    host = registry.split("/")[0]
    looks_like_host = "." in host or ":" in host or host == "localhost"
    return bool(_REGISTRY.match(registry)) and looks_like_host


def rehome_image(image: str, registry: str) -> str:
    """Move an image reference to `registry`, keeping its repository path and tag.

    `ghcr.io/kubeflow/kfp-api-server:2.15.0` -> `<registry>/kubeflow/kfp-api-server:2.15.0`;
    Docker Hub short names keep Docker Hub's path: `mysql:8` -> `<registry>/library/mysql:8`.
    """
    first, _, rest = image.partition("/")
    has_host = bool(rest) and ("." in first or ":" in first or first == "localhost")
    path = rest if has_host else image
    if not has_host and "/" not in path:
        path = f"library/{path}"
    return f"{registry.rstrip('/')}/{path}"


def rewrite_images(registry: str) -> Transform:
    """Pull every image from a private registry (air-gapped mirrors).

    Covers container images, env values of `*_IMAGE` variables (KFP's driver and
    launcher) and arguments of `--*-image` flags (Argo's executor).
    """

    def move(value: str) -> str:
        return rehome_image(value, registry) if _IMAGE_REF.match(value) else value

    def apply(obj: KubeObject) -> KubeObject:
        if pod_spec(obj) is None:
            return obj
        obj = copy.deepcopy(obj)
        for container in containers(obj):
            if "image" in container:
                container["image"] = move(container["image"])
            for env in container.get("env") or []:
                if env.get("name", "").endswith("_IMAGE") and isinstance(env.get("value"), str):
                    env["value"] = move(env["value"])
            container["args"] = _rewrite_image_args(container.get("args"), move)
            if container["args"] is None:
                del container["args"]
        return obj

    return apply


def _rewrite_image_args(args: list[str] | None, move: Callable[[str], str]) -> list[str] | None:
    if not args:
        return args
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg.startswith("--") and "-image=" in arg:
            flag, _, value = arg.partition("=")
            out.append(f"{flag}={move(value)}")
        elif i > 0 and args[i - 1].startswith("--") and args[i - 1].endswith("-image"):
            out.append(move(arg))
        else:
            out.append(arg)
    return out


def add_labels(labels: Mapping[str, str]) -> Transform:
    """Merge `labels` into every object's metadata.labels (ownership, cost tags)."""

    def apply(obj: KubeObject) -> KubeObject:
        if not labels:
            return obj
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
        return obj

    return apply


def set_replicas(replicas: Mapping[str, int]) -> Transform:
    """Set spec.replicas of the named Deployments/StatefulSets."""

    def apply(obj: KubeObject) -> KubeObject:
        name = obj.get("metadata", {}).get("name")
        if obj.get("kind") not in SCALABLE_KINDS or name not in replicas:
            return obj
        obj = copy.deepcopy(obj)
        obj.setdefault("spec", {})["replicas"] = replicas[name]
        return obj

    return apply


def set_resources(resources: Mapping[str, Mapping[str, Any]]) -> Transform:
    """Set requests/limits on every container of the named workloads."""

    def apply(obj: KubeObject) -> KubeObject:
        name = obj.get("metadata", {}).get("name")
        if pod_spec(obj) is None or name not in resources:
            return obj
        obj = copy.deepcopy(obj)
        for container in (pod_spec(obj) or {}).get("containers") or []:
            container["resources"] = copy.deepcopy(dict(resources[name]))
        return obj

    return apply


def set_namespace(old: str, new: str) -> Transform:
    """Move objects from the upstream namespace `old` to `new`.

    Rewrites what kustomize's namespace transformer does (metadata.namespace,
    the Namespace object, binding subjects, webhook and CRD conversion service
    references) plus in-cluster DNS names `<svc>.<old>` in env values and
    ConfigMap data, which upstream hard-codes (e.g. `minio-service.kubeflow:9000`).
    """
    dns = re.compile(rf"\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.{re.escape(old)}(?=$|[:/\"'\s]|\.svc)")

    def rename(text: str) -> str:
        return dns.sub(lambda m: f"{m.group(1)}.{new}", text)

    def apply(obj: KubeObject) -> KubeObject:
        if old == new:
            return obj
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        kind = obj.get("kind")
        if kind == "Namespace" and metadata.get("name") == old:
            metadata["name"] = new
        if metadata.get("namespace") == old:
            metadata["namespace"] = new
        for subject in obj.get("subjects") or []:
            if subject.get("namespace") == old:
                subject["namespace"] = new
        for service in _service_refs(obj):
            if service.get("namespace") == old:
                service["namespace"] = new
        for container in containers(obj):
            for env in container.get("env") or []:
                if isinstance(env.get("value"), str):
                    env["value"] = rename(env["value"])
        if kind == "ConfigMap" and obj.get("data"):
            obj["data"] = {k: rename(v) for k, v in (obj.get("data") or {}).items()}
        return obj

    return apply


def _service_refs(obj: KubeObject) -> Iterator[dict[str, Any]]:
    """Service references that name a namespace: webhooks, CRD conversion, APIService."""
    for webhook in obj.get("webhooks") or []:
        service = (webhook.get("clientConfig") or {}).get("service")
        if service:
            yield service
    spec = obj.get("spec") or {}
    conversion = (spec.get("conversion") or {}).get("webhook") or {}
    service = (conversion.get("clientConfig") or {}).get("service")
    if service:
        yield service
    if obj.get("kind") == "APIService" and spec.get("service"):
        yield spec["service"]


PATCH_FORCE = "pulumi.com/patchForce"


def force_ownership(obj: KubeObject) -> KubeObject:
    """Let `pulumi up` take back fields another manager changed (drift repair).

    With server-side apply, a field that `kubectl scale` or a client changed belongs to that
    manager, and the next apply conflicts; this annotation tells the Kubernetes provider to
    force its apply, as `kubectl apply --server-side --force-conflicts` does.
    """
    return with_annotation(obj, PATCH_FORCE, "true")


def with_annotation(obj: KubeObject, key: str, value: str) -> KubeObject:
    """A copy of `obj` with annotation `key` set to `value` (the others kept)."""
    metadata = obj.get("metadata") or {}
    annotations = {**(metadata.get("annotations") or {}), key: value}
    return {**obj, "metadata": {**metadata, "annotations": annotations}}


def release_namespace(namespace: str) -> Transform:
    """Put the namespaced objects a chart template leaves without a namespace into the
    release namespace, and take it off the cluster-scoped ones it gives one."""

    def apply(obj: KubeObject) -> KubeObject:
        metadata = obj.get("metadata") or {}
        cluster_scoped = obj["kind"] in CLUSTER_SCOPED_KINDS
        if cluster_scoped == ("namespace" not in metadata):
            return obj
        metadata = {k: v for k, v in metadata.items() if k != "namespace"}
        if not cluster_scoped:
            metadata["namespace"] = namespace
        return {**obj, "metadata": metadata}

    return apply


POD_SECURITY = "pod-security.kubernetes.io"


def label_pod_security(level: str) -> Transform:
    """Enforce the Pod Security Standards `level` on the Namespaces a component creates, with
    `warn` and `audit` at restricted; a level upstream already enforces is kept."""

    def apply(obj: KubeObject) -> KubeObject:
        if obj.get("kind") != "Namespace" or obj.get("apiVersion") != "v1":
            return obj
        metadata = obj.get("metadata") or {}
        labels = {
            f"{POD_SECURITY}/enforce": level,
            f"{POD_SECURITY}/warn": "restricted",
            f"{POD_SECURITY}/audit": "restricted",
            **(metadata.get("labels") or {}),
        }
        return {**obj, "metadata": {**metadata, "labels": labels}}

    return apply
