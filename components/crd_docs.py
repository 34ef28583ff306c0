"""The field descriptions in CRD schemas: what `kubectl explain` shows for a custom resource,
and a large share of a CRD's bytes (the 47 CRDs of Kubeflow 26.03.1 as the `ci` stack
registers them: 5.5 MB of JSON with them, 3.2 MB without). They validate nothing: a CRD
without them admits, defaults and prunes the same custom resources.

Pulumi keeps each CRD three times in the stack's state and saves the whole state after each
step, so they cost every `up` (docs/measurements.md). Components leave them out unless
`crd_descriptions` is set (`kubeflow:crdDescriptions`). Upstream's own minimal CRDs go
further and leave out the validation too (Argo Workflows' `crds/minimal`, which KFP
installs; KServe's `kserve-crd-minimal` chart); these keep it whole."""

from __future__ import annotations

from typing import Any

from components.manifests import KubeObject

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
"""Keys whose value maps names to schemas (`dependencies`: or to lists of names)."""
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
"""Keys whose value is a list of schemas."""
_SCHEMAS = ("not", "items", "additionalProperties", "additionalItems")
"""Keys whose value is one schema (`items`: or a list of them; the others: or a boolean)."""


def without_descriptions(obj: KubeObject) -> KubeObject:
    """A CRD (apiextensions.k8s.io/v1) without the descriptions in its versions' schemas;
    any other object as it is. Only schema nodes lose theirs: a `default`, `example` or
    `enum` value that holds a `description` key is data, and stays."""
    if obj.get("kind") != "CustomResourceDefinition" or obj.get("apiVersion") != (
        "apiextensions.k8s.io/v1"
    ):
        return obj
    spec = obj.get("spec") or {}
    versions = [_version_without_descriptions(v) for v in spec.get("versions") or []]
    return {**obj, "spec": {**spec, "versions": versions}} if versions else obj


def _version_without_descriptions(version: dict[str, Any]) -> dict[str, Any]:
    """One entry of a CRD's `versions` without the descriptions in its schema (its printer
    columns keep theirs: a few bytes each)."""
    schema = version.get("schema")
    if not isinstance(schema, dict) or "openAPIV3Schema" not in schema:
        return version
    lean = {**schema, "openAPIV3Schema": _undocumented(schema["openAPIV3Schema"])}
    return {**version, "schema": lean}


def _undocumented(schema: Any) -> Any:
    """`schema` (a JSONSchemaProps) and every schema inside it without `description`."""
    if isinstance(schema, list):
        return [_undocumented(s) for s in schema]
    if not isinstance(schema, dict):
        return schema  # a boolean, or a `dependencies` list of property names
    out = {key: value for key, value in schema.items() if key != "description"}
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _undocumented(s) for name, s in out[key].items()}
    for key in (*_SCHEMA_LISTS, *_SCHEMAS):
        if key in out:
            out[key] = _undocumented(out[key])
    return out
