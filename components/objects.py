"""Helpers for the Kubernetes objects a component installs: their API group, Pulumi type
token, install tier and name, and the Pulumi resource that applies one from its manifest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

from components.manifests import KubeObject
from components.transforms import WORKLOAD_KINDS

BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)


def api_group(obj: Mapping[str, Any]) -> str:
    """The API group of an object ('' for the core group)."""
    api_version = str(obj["apiVersion"])
    return api_version.rpartition("/")[0]


def is_workload(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a built-in workload (WORKLOAD_KINDS, told by its group too: a custom
    resource may be named `Job`): it runs pods."""
    return obj.get("kind") in WORKLOAD_KINDS and api_group(obj) in BUILTIN_GROUPS


def is_patch(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a `<Kind>Patch` of a built-in kind: fields the stack sets on an
    object that is not its own (Katib's labels on KFP's Namespace), not an object."""
    return str(obj.get("kind", "")).endswith("Patch") and api_group(obj) in BUILTIN_GROUPS


def type_token(obj: Mapping[str, Any]) -> str:
    """The Pulumi Kubernetes type token of an object, e.g. `kubernetes:apps/v1:Deployment`."""
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{obj['kind']}"


def split_urn(urn: str) -> tuple[str, str, str]:
    """A URN (`urn:pulumi:<stack>::<project>::<types>::<name>`, where only the name may hold
    `::`) as what comes before its types, its types (its parents' and its own, joined by `$`)
    and its name."""
    stack, project, types, name = urn.split("::", 3)
    return f"{stack}::{project}", types, name


def urn_type(urn: str) -> str:
    """A URN's resource type: its own, after its parents'."""
    return split_urn(urn)[1].rpartition("$")[2]


def child_urn(parent_urn: pulumi.Output[str], type_: str, name: str) -> pulumi.Output[str]:
    """The URN of a resource `type_` named `name` whose parent has `parent_urn`. Aliases are
    given as URNs: the SDK turns each `pulumi.Alias` into one through several outputs of its
    own, and the full platform's objects carry some 1,500."""

    def child(urn: str) -> str:
        head, types, _ = split_urn(urn)
        return f"{head}::{types}${type_}::{name}"

    return parent_urn.apply(child)


def sibling_child_urn(
    urn: pulumi.Output[str], sibling: tuple[str, str], type_: str, name: str
) -> pulumi.Output[str]:
    """The URN of a resource `type_` named `name` whose parent is the `sibling` (type, name)
    of the resource with `urn`: the same parent, another type and name."""

    def child(own: str) -> str:
        head, types, _ = split_urn(own)
        parents = types.rpartition("$")[0]
        sibling_types = f"{parents}${sibling[0]}" if parents else sibling[0]
        return f"{head}::{sibling_types}${type_}::{name}"

    return urn.apply(child)


def former_urns(
    urn: pulumi.Output[str],
    obj: Mapping[str, Any],
    name: str,
    old_names: Sequence[str],
    old_types: Sequence[str],
    siblings: Sequence[tuple[str, str]],
) -> list[pulumi.Output[str]]:
    """The URNs the object `name` of the component with `urn` may have had in a stack made
    before: under each of `old_names` (names that carried the part), at each of `old_types`
    (a custom resource's types at the other versions its CRD serves), both at once; and, a
    Namespace, under each of the component's `siblings` (which one creates a namespace
    several run in depends on which are enabled)."""
    type_ = type_token(obj)
    pairs = [
        *((type_, n) for n in old_names),
        *((t, name) for t in old_types),
        *((t, n) for n in old_names for t in old_types),
    ]
    found = [child_urn(urn, t, n) for t, n in pairs]
    if is_namespace(obj):
        found += [sibling_child_urn(urn, s, type_, resource_name(s[1], obj)) for s in siblings]
    return found


def served_versions(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(API group, kind) -> the versions their CustomResourceDefinitions serve (a CRD that
    lists none is left to the API server to refuse)."""
    served = {}
    for o in objects:
        if o.get("kind") != "CustomResourceDefinition" or api_group(o) != "apiextensions.k8s.io":
            continue
        spec = o.get("spec") or {}
        key = (str(spec.get("group")), str((spec.get("names") or {}).get("kind")))
        versions = spec.get("versions") or []
        served[key] = [str(v.get("name")) for v in versions if v.get("served", True)]
    return served


def other_version_types(
    obj: Mapping[str, Any], served: Mapping[tuple[str, str], list[str]]
) -> list[str]:
    """The type tokens `obj` has at the other versions its CRD serves: a release that moves a
    custom resource to a new version (KServe v0.18.0: LLMInferenceServiceConfig v1alpha1 ->
    v1alpha2) changes its type, and without these as aliases Pulumi would create the object
    at the new version, then delete it at the old one: the same object, so it would be gone."""
    group, _, current = str(obj["apiVersion"]).rpartition("/")
    versions = served.get((group, str(obj["kind"])), [])
    return [type_token({**obj, "apiVersion": f"{group}/{v}"}) for v in versions if v != current]


WEBHOOK_KINDS = frozenset(
    {
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
    }
)
"""Admission configurations: they apply to every later write of the objects they match."""

INSTALL_TIERS = 6
"""The number of install tiers (`install_tier`)."""
WORKLOAD_TIER = 3
"""The first tier whose objects run something or need another component running: from it
on, a component's objects wait for what it `requires` (`ComponentArgs.requires`)."""


def install_tier(obj: Mapping[str, Any]) -> int:
    """0: Namespaces. 1: the built-in objects that run nothing (RBAC, ServiceAccounts,
    ConfigMaps, Secrets, Services, claims, ...). 2: CRDs. 3: workloads, APIServices (served
    by them) and cert-manager Issuers and Certificates (workloads mount the Secrets they
    issue), once their CRDs are Established. 4: webhook and admission-policy configurations,
    once the Deployments serving them are Available (a pod webhook registered earlier blocks
    its own server's pods). 5: custom resources.

    CRDs come after the objects that run nothing because the engine saves the whole state
    after each step and pulumi-kubernetes stores each CRD three times: the full platform's
    CRDs are 90% of its objects' bytes, so every step taken after them saves megabytes
    (README, "Install order")."""
    kind, group = obj["kind"], api_group(obj)
    if kind == "Namespace" and group == "":
        return 0
    if kind == "CustomResourceDefinition" and group == "apiextensions.k8s.io":
        return 2
    if kind in WEBHOOK_KINDS and group == "admissionregistration.k8s.io":
        return 4
    if group == "cert-manager.io" and kind in ("Issuer", "Certificate"):
        return WORKLOAD_TIER
    if group not in BUILTIN_GROUPS:
        return 5
    runs = is_workload(obj) or (kind == "APIService" and group == "apiregistration.k8s.io")
    return WORKLOAD_TIER if runs else 1


def resource_name(prefix: str, obj: Mapping[str, Any]) -> str:
    """A stable Pulumi name: `<prefix>:<namespace>/<name>` (no namespace when cluster-scoped).
    The prefix is the component's name, never the part or file an object came from, so an
    upgrade that moves an object to another file keeps it (with its type, the name is the
    object's identity in the URN)."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{prefix}:{namespace}/{name}" if namespace else f"{prefix}:{name}"


DATA_KINDS = frozenset({"CustomResourceDefinition", "PersistentVolumeClaim", "Namespace"})
"""Objects whose deletion deletes users' data: a CRD takes every custom resource of its kinds
with it, a PersistentVolumeClaim its volume (a database, an artifact store), a Namespace
everything in it."""


def is_namespace(obj: Mapping[str, Any]) -> bool:
    """Whether `obj` is a Namespace."""
    return obj.get("kind") == "Namespace" and api_group(obj) == ""


def namespace_needed(obj: Mapping[str, Any]) -> str | None:
    """The namespace that must exist before `obj` is applied: its own, or the one a
    Namespace (or a patch of one) is; None for other cluster-scoped objects."""
    metadata = obj.get("metadata") or {}
    if obj["kind"] in ("Namespace", "NamespacePatch") and api_group(obj) == "":
        return metadata.get("name")
    namespace = metadata.get("namespace")
    return namespace if isinstance(namespace, str) else None


def deleted_with_namespace(
    obj: Mapping[str, Any], namespaces: Mapping[str, pulumi.Resource]
) -> pulumi.Resource | None:
    """The Namespace resource, of `namespaces`, installed by a component and not kept
    (`KubernetesObject.retained`; of any other resource this cannot be known, so it takes
    nothing with it), that takes `obj` with it when both are deleted (`destroy`, removing a
    component): for a built-in object in one of them. Pulumi then makes no delete call and
    waits for nothing of its own for it (`deletedWith`): the Namespace's delete waits until
    the namespace controller has deleted everything in it. Custom resources are still
    deleted one by one, before the Deployments of their controllers, which may hold
    finalizers for them. Anything else (a custom resource, a cluster-scoped object, one in a
    namespace that is kept or not the stack's) is deleted on its own."""
    namespace = (obj.get("metadata") or {}).get("namespace")
    if api_group(obj) not in BUILTIN_GROUPS or not isinstance(namespace, str):
        return None
    resource = namespaces.get(namespace)
    return resource if isinstance(resource, KubernetesObject) and not resource.retained else None


def holds_data(obj: Mapping[str, Any]) -> bool:
    """Whether deleting `obj` deletes data (DATA_KINDS)."""
    return obj.get("kind") in DATA_KINDS and api_group(obj) in ("", "apiextensions.k8s.io")


def controller_owned_fields(obj: Mapping[str, Any]) -> list[str]:
    """The fields of `obj` that a controller in the cluster fills in after it is applied, as
    property paths for `ignore_changes`: `up` and `refresh` leave them to that controller.

    - A Secret upstream ships without data is a slot a controller writes (the webhook
      certificates of Katib and the Training Operator): its `data`.
    - An aggregated ClusterRole's `rules` belong to the aggregation controller.

    The `caBundle` that cainjector or a component writes into webhooks and CRD conversion
    webhooks needs no entry: the provider applies server-side and never sets it, so it stays
    the writer's field. (Ignoring it would also fail the first `up` of a version that adds a
    conversion webhook: Pulumi cannot ignore a path that is added.)
    """
    kind = obj.get("kind")
    if kind == "Secret" and api_group(obj) == "" and not (obj.get("data") or obj.get("stringData")):
        return ["data", "stringData"]
    if kind == "ClusterRole" and obj.get("aggregationRule"):
        return ["rules"]
    return []


BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""The Namespaces every cluster has from the start: no component creates them."""


def namespace_object(name: str) -> KubeObject:
    """A Namespace, for components whose upstream leaves creating it to the user."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


class KubernetesObject(pulumi.CustomResource):
    """Any Kubernetes object, applied by the Kubernetes provider from its manifest."""

    retained: bool
    """Whether the object stays in the cluster when it leaves the stack (`retainOnDelete`)."""

    def __init__(self, name: str, obj: KubeObject, opts: pulumi.ResourceOptions) -> None:
        self.retained = bool(opts.retain_on_delete)
        props: dict[str, Any] = dict(obj)
        if is_patch(obj):
            # A <Kind>Patch resource applies to a <Kind>: the API server knows only that kind.
            props["kind"] = str(obj["kind"]).removesuffix("Patch")
        if obj.get("kind") == "Secret" and api_group(obj) == "":
            for key in ("data", "stringData"):
                if key in props:
                    props[key] = pulumi.Output.secret(props[key])
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
            )
        super().__init__(type_token(obj), name, props, opts)
