"""Checks of the settings every component takes: each problem names the setting and the fix,
and every problem is reported at once, before anything is registered."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from components.manifests import MirrorSource
from components.transforms import is_valid_registry

if TYPE_CHECKING:
    from components.base import ComponentArgs

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


class ComponentArgsError(ValueError):
    """Component arguments that cannot install a working component."""


def validate_common(args: ComponentArgs, versions: Mapping[str, Any], component: str) -> list[str]:
    """Every problem with the common settings, each naming the setting and the fix."""
    errors: list[str] = []
    if (
        args.version is not None
        and args.version not in versions
        and not isinstance(args.source, MirrorSource)
    ):
        known = ", ".join(versions)
        errors.append(
            f"{component}: version {args.version!r} is not a known version ({known}); fix: choose "
            "one of those, or set a manifest mirror that holds this version"
        )
    if args.namespace is not None and not (
        _DNS_LABEL.match(args.namespace) and len(args.namespace) <= 63
    ):
        errors.append(
            f"{component}: namespace {args.namespace!r} is not a valid Kubernetes namespace name; "
            "fix: use lower-case letters, digits and '-', at most 63 characters"
        )
    if args.image_registry is not None and not is_valid_registry(args.image_registry):
        errors.append(
            f"{component}: image registry {args.image_registry!r} is not a registry reference; "
            "fix: use host[:port][/path], e.g. registry.example.com/kubeflow"
        )
    errors.extend(_label_errors(component, args.labels))
    for name, count in args.replicas.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            errors.append(
                f"{component}: replicas[{name!r}] = {count!r} is not a non-negative integer; "
                "fix: give a whole number such as 2"
            )
    for name, requirements in args.resources.items():
        errors.extend(_resource_errors(component, name, requirements))
    return errors


def flag_errors(component: str, flags: Mapping[str, object]) -> list[str]:
    """Problems with settings that must be true or false (None: unset), by camelCase name;
    stack config can hand over a string such as "false", which would read as true."""
    return [
        f"{component}: {name} = {value!r} is not true or false; fix: use true or false"
        for name, value in flags.items()
        if value is not None and not isinstance(value, bool)
    ]


def _label_errors(component: str, labels: Mapping[str, str]) -> list[str]:
    errors = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            errors.append(f"{component}: label key {key!r} is invalid; fix: use [prefix/]name")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            errors.append(
                f"{component}: label {key}={value!r} has an invalid value; fix: use a string of "
                "at most 63 letters, digits, '-', '_' or '.'"
            )
    return errors


def _resource_errors(component: str, workload: str, requirements: Any) -> list[str]:
    if not isinstance(requirements, Mapping) or not set(requirements) <= {"requests", "limits"}:
        return [
            f"{component}: resources[{workload!r}] must be a mapping with 'requests' and/or "
            "'limits'; fix: e.g. {requests: {cpu: 500m, memory: 512Mi}}"
        ]
    errors = []
    for section, quantities in requirements.items():
        for resource, quantity in (quantities or {}).items():
            if not _QUANTITY.match(str(quantity)):
                errors.append(
                    f"{component}: resources[{workload!r}].{section}.{resource} = {quantity!r} is "
                    "not a Kubernetes quantity; fix: e.g. 500m, 2, 512Mi, 1Gi"
                )
    return errors
