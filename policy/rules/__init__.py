"""The rules of the kubeflow-pulumi policy pack, free of the policy SDK so that they can be
tested on their own: `evaluate` checks one resource, `evaluate_stack` the whole stack."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from . import images, namespaces, requests, schema, secrets, webhooks
from .model import (
    KubeObject,
    Settings,
    Violation,
    catalog,
    describe,
    is_kubernetes_type,
    is_patch,
    kubernetes_object,
    settings_for,
)

__all__ = [
    "RESOURCE_POLICIES",
    "SECRET_POLICY",
    "STACK_POLICIES",
    "Violation",
    "catalog",
    "describe",
    "evaluate",
    "evaluate_stack",
    "is_kubernetes_type",
    "kubernetes_object",
    "secrets",
]

Check = Callable[[KubeObject, Settings], list[Violation]]
RESOURCE_POLICIES: dict[str, Check] = {
    images.POLICY: images.check,
    requests.POLICY: requests.check,
    namespaces.POLICY: namespaces.check,
    webhooks.POLICY: webhooks.check,
    schema.BUILTIN_POLICY: schema.check_builtin,
}
# Checked with the resource's secret inputs too.
SECRET_POLICY = secrets.POLICY
STACK_POLICIES = (schema.CRD_POLICY,)
# A patch (e.g. NamespacePatch) changes part of an object someone else creates: it is
# neither a namespace the platform creates nor a whole object to validate.
NOT_FOR_PATCHES = {namespaces.POLICY, schema.BUILTIN_POLICY}


def evaluate(
    policy: str,
    resource_type: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    secret_inputs: Collection[str] = (),
) -> list[Violation]:
    """The violations of `policy` by one resource (type token and plain input properties),
    with the policy's pack config; `secret_inputs` are the inputs the engine sent as secrets."""
    obj = kubernetes_object(resource_type, props)
    if obj is None or (is_patch(resource_type) and policy in NOT_FOR_PATCHES):
        return []
    settings = settings_for(policy, config)
    if settings.excepted(obj):
        return []
    if policy == SECRET_POLICY:
        return secrets.check(obj, settings, secret_inputs)
    return RESOURCE_POLICIES[policy](obj, settings)


def evaluate_stack(
    policy: str,
    resources: Iterable[tuple[str, str, Mapping[str, Any]]],
    config: Mapping[str, Any] | None = None,
) -> list[tuple[str, Violation]]:
    """(urn, violation) of a stack policy over (urn, type token, props) of every resource."""
    if policy != schema.CRD_POLICY:
        raise KeyError(policy)
    objects = [
        (urn, obj)
        for urn, type_, props in resources
        if not is_patch(type_) and (obj := kubernetes_object(type_, props)) is not None
    ]
    return schema.check_custom_resources(objects, settings_for(policy, config))
