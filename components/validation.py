"""Checks of the settings every component takes: each problem names the setting and the fix,
and every problem is reported at once, before anything is registered."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from components.args import ComponentArgs
from components.manifests import KubeObject, MirrorSource
from components.transforms import SCALABLE_KINDS, is_valid_registry, pod_spec

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SCALARS: dict[type, str] = {str: "a string", bool: "true or false", int: "a whole number"}
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
"""The resources of the API's own that a container requests by name (`hugepages-<size>` and
extended resources `<domain>/<name>` aside)."""
HUGEPAGES = "hugepages-"


class ComponentArgsError(ValueError):
    """Component arguments that cannot install a working component."""


def camel_case(name: str) -> str:
    """The stack config spelling of a setting: `image_registry` -> `imageRegistry`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validate_common(args: ComponentArgs, versions: Mapping[str, Any], component: str) -> list[str]:
    """Every problem with the common settings, each naming the setting and the fix. A setting
    of the wrong type is reported as such, and its other checks are skipped."""
    wrong = wrong_types(args)
    errors = [f"{component}: {problem}" for problem in wrong.values()]
    if (
        "version" not in wrong
        and args.version is not None
        and args.version not in versions
        and not isinstance(args.source, MirrorSource)
    ):
        known = ", ".join(versions)
        errors.append(
            f"{component}: version {args.version!r} is not a known version ({known}); fix: choose "
            "one of those, or set a manifest mirror that holds this version"
        )
    if "namespace" not in wrong and args.namespace is not None:
        errors += [f"{component}: {p}" for p in [namespace_error("namespace", args.namespace)] if p]
    if "image_registry" not in wrong and args.image_registry is not None:
        errors += [f"{component}: {p}" for p in [registry_error(args.image_registry)] if p]
    if "labels" not in wrong:
        errors += label_errors(component, args.labels)
    if "replicas" not in wrong:
        for name, count in args.replicas.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                errors.append(
                    f"{component}: replicas[{name!r}] = {count!r} is not a non-negative integer; "
                    "fix: give a whole number such as 2"
                )
    if "resources" not in wrong:
        for name, requirements in args.resources.items():
            errors.extend(_resource_errors(component, name, requirements))
    return errors


@functools.cache
def _common_hints() -> dict[str, Any]:
    """The type hints of the settings every component takes, by field name."""
    hints = typing.get_type_hints(ComponentArgs)
    return {f.name: hints[f.name] for f in dataclasses.fields(ComponentArgs)}


def type_problem(name: str, value: object) -> str | None:
    """The problem with `value` for the common setting `name` (a field of ComponentArgs), or
    None when its type is right (or stack config cannot set it: sources, callables)."""
    expected = _expected(_common_hints().get(name))
    if value is None or expected is None:
        return None
    return setting_type_problem(camel_case(name), value, *expected)


def setting_type_problem(
    key: str, value: object, accepted: tuple[type, ...], description: str, *, secret: bool = False
) -> str | None:
    """The problem with `value` for the stack setting `key`, which takes the `accepted` types
    (`description`), or None (also for no value). Strict, as stack config hands over what the
    YAML says: True is no number, a quoted "false" no boolean (it would read as true), and a
    list holds names only. A `secret` value is never repeated."""
    typed = isinstance(value, accepted) and (bool in accepted or not isinstance(value, bool))
    if typed and isinstance(value, list | tuple):
        typed = all(isinstance(item, str) for item in value)  # the only lists: of strings
    if value is None or typed:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if bool in accepted and isinstance(value, str):
        fix = f"write {key}: true or {key}: false, without quotes"
    elif str in accepted and number and not secret:
        fix = f"quote it, e.g. {key}: '{value}'"
    else:
        fix = f"give {description}"
    shown = "(secret)" if secret else repr(value)
    return f"{key} = {shown} must be {description}; fix: {fix}"


def wrong_types(args: ComponentArgs) -> dict[str, str]:
    """The common settings of `args` whose value has the wrong type, with the problem."""
    problems = {name: type_problem(name, getattr(args, name)) for name in _common_hints()}
    return {name: problem for name, problem in problems.items() if problem}


def _expected(hint: Any) -> tuple[tuple[type, ...], str] | None:
    """The runtime types a type hint accepts, described; None for hints that no stack
    setting has (sources, callables)."""
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        options = [hint]
    if len(options) != 1:
        return None
    (option,) = options
    origin = typing.get_origin(option) or option
    if origin in _SCALARS:
        return (origin,), _SCALARS[origin]
    if origin is Mapping:
        return (Mapping,), "an object (name: value)"
    if origin is Sequence and typing.get_args(option) == (str,):
        return (list, tuple), "a list of strings"
    return None


def registry_error(registry: str) -> str | None:
    """The problem with an image registry reference, or None."""
    if is_valid_registry(registry):
        return None
    return (
        f"image registry {registry!r} is not a registry reference; "
        "fix: use host[:port][/path], e.g. registry.example.com/kubeflow"
    )


def namespace_error(setting: str, name: object) -> str | None:
    """The problem with `name` as a namespace (given as `setting`), or None: a DNS label, as
    the API server requires of a Namespace's name."""
    if isinstance(name, str) and _DNS_LABEL.match(name) and len(name) <= 63:
        return None
    return (
        f"{setting} {name!r} is not a valid Kubernetes namespace name; fix: use lower-case "
        "letters, digits and '-', at most 63 characters"
    )


def flag_errors(component: str, flags: Mapping[str, object]) -> list[str]:
    """Problems with settings that must be true or false (None: unset), by camelCase name;
    stack config can hand over a string such as "false", which would read as true."""
    return [
        f"{component}: {name} = {value!r} is not true or false; fix: write true or false "
        "without quotes"
        for name, value in flags.items()
        if value is not None and not isinstance(value, bool)
    ]


def label_errors(owner: str, labels: Mapping[str, str]) -> list[str]:
    """Problems with labels, each prefixed with `owner` (a component, or a config key)."""
    errors = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_KEY.match(key):
            errors.append(f"{owner}: label key {key!r} is invalid; fix: use [prefix/]name")
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            errors.append(
                f"{owner}: label {key}={value!r} has an invalid value; fix: use a string of "
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
    amounts: dict[str, dict[str, Decimal]] = {}
    for section, quantities in requirements.items():
        setting = f"resources[{workload!r}].{section}"
        if quantities is not None and not isinstance(quantities, Mapping):
            errors.append(
                f"{component}: {setting} = {quantities!r} must be an object (resource: "
                "quantity); fix: e.g. {cpu: 500m, memory: 512Mi}"
            )
            continue
        for resource, quantity in (quantities or {}).items():
            if problem := resource_name_problem(resource):
                errors.append(f"{component}: {setting}.{resource}: {resource!r} {problem}")
            elif problem := quantity_problem(quantity):
                errors.append(f"{component}: {setting}.{resource} = {quantity!r} {problem}")
            else:
                amounts.setdefault(section, {})[resource] = _parse_quantity(quantity)
    requests, limits = amounts.get("requests", {}), amounts.get("limits", {})
    for resource in sorted(requests.keys() & limits.keys()):
        request, limit = requests[resource], limits[resource]
        shared = resource in CONTAINER_RESOURCES  # others cannot be overcommitted
        if request > limit or (request != limit and not shared):
            errors.append(
                f"{component}: resources[{workload!r}].requests.{resource} = "
                f"{requirements['requests'][resource]!r} is "
                f"{'more than' if shared else 'not equal to'} limits.{resource} = "
                f"{requirements['limits'][resource]!r}; fix: request "
                f"{'at most' if shared else 'exactly'} the limit (the API server refuses it)"
            )
    return errors


def resource_name_problem(name: object) -> str | None:
    """Why `name` is not a resource a container may request, or None: cpu, memory,
    ephemeral-storage, hugepages-<size>, or an extended resource under a domain of its own
    (`example.com/gpu`); anything else the API server refuses."""
    if not isinstance(name, str):
        valid = False
    elif name.startswith(HUGEPAGES):
        valid = quantity_problem(name.removeprefix(HUGEPAGES)) is None
    elif "/" in name:  # the API's own domain and resource quota names are not extended ones
        extended = "kubernetes.io/" not in name and not name.startswith("requests.")
        valid = extended and bool(_LABEL_KEY.match(name))
    else:
        valid = name in CONTAINER_RESOURCES
    if valid:
        return None
    close = difflib.get_close_matches(str(name), CONTAINER_RESOURCES, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"is not a resource a container can request; fix: {hint}use "
        f"{', '.join(CONTAINER_RESOURCES)}, {HUGEPAGES}<size> (e.g. {HUGEPAGES}2Mi) or an "
        "extended resource under its vendor's domain (e.g. nvidia.com/gpu)"
    )


def quantity_problem(quantity: object) -> str | None:
    """Why `quantity` is not a resource amount a container may request, or None."""
    malformed = "is not a Kubernetes quantity; fix: e.g. 500m, 0.5, 2, 512Mi, 1Gi, 1e3"
    if isinstance(quantity, bool) or not isinstance(quantity, str | int | float):
        return malformed
    try:
        amount = _parse_quantity(quantity)
    except ValueError:
        return malformed
    if not amount.is_finite():
        return malformed
    if amount < 0:
        return "is negative; fix: requests and limits are 0 or more"
    return None


def _parse_quantity(quantity: str | float) -> Decimal:
    """A quantity's amount, parsed by the Kubernetes Python client, which reads every form the
    API does (`.5`, `1e3`, `1Pi`); ValueError when it is none."""
    from kubernetes.utils.quantity import parse_quantity  # only stacks that set resources

    amount: Decimal = parse_quantity(quantity)
    return amount


def workload_errors(
    component: str, args: ComponentArgs, objects: Iterable[KubeObject]
) -> list[str]:
    """Keys of `replicas` and `resources` that name no workload among `objects` (what the
    component installs), each with the names that would work."""
    objects = list(objects)
    scalable = sorted({o["metadata"]["name"] for o in objects if o["kind"] in SCALABLE_KINDS})
    workloads = sorted({o["metadata"]["name"] for o in objects if pod_spec(o) is not None})
    errors = []
    for setting, kinds, names, valid in (
        ("replicas", "/".join(sorted(SCALABLE_KINDS)), args.replicas, scalable),
        ("resources", "workload", args.resources, workloads),
    ):
        for name in names:
            if name in valid:
                continue
            close = difflib.get_close_matches(str(name), valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            choices = ", ".join(valid) or f"none (it installs no {kinds})"
            errors.append(
                f"{component}: {setting}[{name!r}] names no {kinds} that {component} installs; "
                f"fix: {hint}use one of {choices}"
            )
    return errors
