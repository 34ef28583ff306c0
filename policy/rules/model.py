"""What every rule works on: the Kubernetes object of a resource, its settings, its violations.

Rules read the resource's Kubernetes type token and its input properties only, so they
apply alike to an object registered as its own resource (components.objects.KubernetesObject)
and to the children of a provider-side component (yaml/v2 ConfigGroup, kustomize, Helm),
which are `kubernetes:<group>/<version>:<Kind>` resources in the engine too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

KubeObject = Mapping[str, Any]
HERE = Path(__file__).resolve().parent
POD_CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class Violation:
    """One broken rule: what is wrong and how to fix it."""

    message: str
    fix: str

    def text(self) -> str:
        """The message the engine shows and build/preview/<stack>.md parses."""
        return f"{self.message}\nfix: {self.fix}"


@dataclass(frozen=True)
class Exemption:
    """A documented exception: the object a policy leaves alone, and why."""

    kind: str
    name: str
    reason: str
    namespace: str | None = None

    def matches(self, obj: KubeObject) -> bool:
        """Whether `obj` is the excepted object (any namespace when none is given)."""
        metadata = obj.get("metadata") or {}
        return (
            obj.get("kind") == self.kind
            and metadata.get("name") == self.name
            and (self.namespace is None or metadata.get("namespace") == self.namespace)
        )


@dataclass(frozen=True)
class Settings:
    """A policy's settings: catalog defaults, overridden by the pack config of the stack."""

    values: Mapping[str, Any] = field(default_factory=dict)
    exceptions: Sequence[Exemption] = ()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def excepted(self, obj: KubeObject) -> Exemption | None:
        """The exception that covers `obj`, if any."""
        return next((e for e in self.exceptions if e.matches(obj)), None)


@cache
def catalog() -> dict[str, dict[str, Any]]:
    """The policies by name (catalog.yaml)."""
    return yaml.safe_load((HERE / "catalog.yaml").read_text())  # type: ignore[no-any-return]


@cache
def shipped_exceptions() -> dict[str, tuple[Exemption, ...]]:
    """The pack's documented exceptions by policy (exceptions.yaml)."""
    data = yaml.safe_load((HERE / "exceptions.yaml").read_text()) or {}
    return {policy: parse_exceptions(policy, entries) for policy, entries in data.items()}


def parse_exceptions(policy: str, entries: Any) -> tuple[Exemption, ...]:
    """Exception entries of one policy; an entry without kind, name or reason is an error."""
    if not isinstance(entries, list):
        raise ValueError(f"{policy}: exceptions must be a list of {{kind, name, reason}}")
    out = []
    for entry in entries:
        missing = [k for k in ("kind", "name", "reason") if not (entry or {}).get(k)]
        if missing:
            raise ValueError(
                f"{policy}: exception {entry!r} lacks {', '.join(missing)}; fix: give kind, "
                "name (and namespace) of the object and the reason it is excepted"
            )
        kind, name, reason = entry["kind"], entry["name"], entry["reason"]
        out.append(Exemption(kind, name, reason, entry.get("namespace")))
    return tuple(out)


def settings_for(policy: str, config: Mapping[str, Any] | None) -> Settings:
    """The settings of `policy`: catalog defaults, then the stack's pack config; exceptions
    are the shipped ones plus the config's."""
    values = {k: v.get("default") for k, v in catalog()[policy]["settings"].items()}
    config = dict(config or {})
    extra = parse_exceptions(policy, config.pop("exceptions", []))
    values.update(config)
    return Settings(values, shipped_exceptions().get(policy, ()) + extra)


def is_kubernetes_type(resource_type: str) -> bool:
    """Whether a resource type applies one Kubernetes object (not a provider, not a component
    such as a yaml/v2 ConfigGroup, not another package's resource)."""
    return resource_type.startswith("kubernetes:") and not resource_type.startswith(
        ("kubernetes:yaml", "kubernetes:kustomize", "kubernetes:helm")
    )


def kubernetes_object(resource_type: str, props: Mapping[str, Any]) -> KubeObject | None:
    """The Kubernetes object a resource applies, or None for anything else."""
    if not is_kubernetes_type(resource_type):
        return None
    if not isinstance(props.get("kind"), str) or not isinstance(props.get("apiVersion"), str):
        return None
    return _json_numbers(props)  # type: ignore[no-any-return]


def _json_numbers(value: Any) -> Any:
    """`value` with whole floats as ints: the engine's wire format (protobuf Struct) carries
    every number as a float, where the manifest said `port: 8000`."""
    if isinstance(value, Mapping):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_patch(resource_type: str) -> bool:
    """Whether the resource patches an existing object (`kubernetes:core/v1:NamespacePatch`)."""
    return resource_type.endswith("Patch")


def describe(obj: KubeObject) -> str:
    """`Kind namespace/name` (no namespace for cluster-scoped objects)."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    return f"{obj.get('kind')} {namespace}/{name}" if namespace else f"{obj.get('kind')} {name}"


def containers(obj: KubeObject) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every container of every pod template in `obj`, at any depth (Deployments, Jobs,
    CronJobs, and custom resources with pod templates such as training runtimes), with
    the path of its list."""
    yield from _containers(obj, "")


def _containers(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in POD_CONTAINER_KEYS and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Mapping) and isinstance(item.get("image"), str):
                        yield f"{path}.{key}[{i}]".lstrip("."), item
            else:
                yield from _containers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _containers(item, f"{path}[{i}]")
