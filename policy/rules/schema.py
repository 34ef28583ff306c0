"""kubernetes-schema and custom-resource-schema: objects valid for the API server they go to.

Built-in objects are checked against the JSON schemas kubernetes-validate ships for each
Kubernetes minor version (strict: unknown fields are errors, as with server-side field
validation); custom resources against the openAPIV3Schema of their CRD's version, where
the CRD is in the same stack (openapi-schema-validator, OpenAPI 3.0 semantics such as
`nullable`). No schema is written here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate
from jsonschema.exceptions import ValidationError
from kubernetes_validate.utils import VersionNotSupportedError, all_versions
from openapi_schema_validator import OAS30Validator

from .model import KubeObject, Settings, Violation, catalog, describe

BUILTIN_POLICY = "kubernetes-schema"
CRD_POLICY = "custom-resource-schema"
MAX_ERRORS = 5


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(the object)"


def _group(obj: KubeObject) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def check_builtin(obj: KubeObject, settings: Settings) -> list[Violation]:
    """A violation per schema error of a built-in object for settings['kubernetesVersion'];
    an apiVersion/kind of a core group (no dot in its name) the version does not serve is an
    error too. Kinds it has no schema for in other groups are custom resources (see
    check_custom_resources)."""
    version = str(settings["kubernetesVersion"])
    fix = catalog()[BUILTIN_POLICY]["fix"]
    try:
        kubernetes_validate.validate(dict(obj), version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        if "." in _group(obj):
            return []
        return [
            Violation(
                f"{describe(obj)}: Kubernetes {version} serves no {obj.get('kind')} in "
                f"{obj.get('apiVersion')}",
                "use an apiVersion the target version serves (kubectl api-resources)",
            )
        ]
    except VersionNotSupportedError:
        known = ", ".join(sorted({v.rsplit(".", 1)[0] for v in all_versions()}))
        raise ValueError(
            f"kubernetes-schema: kubernetesVersion {version!r} has no schemas in "
            f"kubernetes-validate (it has {known}); fix: set policy:kubernetesVersion to one"
        ) from None
    except ValidationError as error:
        # kubernetes-validate stops at the first error; that is enough to name what to fix.
        return [Violation(f"{describe(obj)}: {_where(error)}: {error.message[:300]}", fix)]
    return []


def crd_schemas(objects: Iterable[KubeObject]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """(group, version, kind) -> openAPIV3Schema of every CRD version among `objects`."""
    out: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if kind and schema:
                out[(str(spec.get("group")), str(version.get("name")), str(kind))] = schema
    return out


def check_custom_resources(
    objects: Iterable[tuple[str, KubeObject]], settings: Settings
) -> list[tuple[str, Violation]]:
    """(urn, violation) per schema error of each custom resource whose CRD is among `objects`
    (at most MAX_ERRORS per object)."""
    objects = list(objects)
    schemas = crd_schemas(obj for _, obj in objects)
    validators: dict[tuple[str, str, str], OAS30Validator] = {}
    fix = catalog()[CRD_POLICY]["fix"]
    out = []
    for urn, obj in objects:
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        key = (group, version, str(obj.get("kind")))
        if key not in schemas or settings.excepted(obj):
            continue
        if key not in validators:
            validators[key] = OAS30Validator(schemas[key])
        errors = sorted(validators[key].iter_errors(dict(obj)), key=lambda e: list(e.absolute_path))
        for error in errors[:MAX_ERRORS]:
            where = _where(error)
            out.append((urn, Violation(f"{describe(obj)}: {where}: {error.message[:300]}", fix)))
    return out
